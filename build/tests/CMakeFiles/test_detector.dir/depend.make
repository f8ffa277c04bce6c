# Empty dependencies file for test_detector.
# This may be replaced when dependencies are built.
