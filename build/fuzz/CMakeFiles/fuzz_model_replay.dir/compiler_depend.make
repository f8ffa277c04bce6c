# Empty compiler generated dependencies file for fuzz_model_replay.
# This may be replaced when dependencies are built.
