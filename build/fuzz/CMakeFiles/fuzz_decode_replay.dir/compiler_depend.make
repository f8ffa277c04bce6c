# Empty compiler generated dependencies file for fuzz_decode_replay.
# This may be replaced when dependencies are built.
