# Empty compiler generated dependencies file for test_time.
# This may be replaced when dependencies are built.
