# Empty compiler generated dependencies file for fuzz_checkpoint_replay.
# This may be replaced when dependencies are built.
