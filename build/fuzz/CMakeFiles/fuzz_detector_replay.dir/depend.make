# Empty dependencies file for fuzz_detector_replay.
# This may be replaced when dependencies are built.
