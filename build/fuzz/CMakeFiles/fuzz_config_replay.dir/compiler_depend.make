# Empty compiler generated dependencies file for fuzz_config_replay.
# This may be replaced when dependencies are built.
