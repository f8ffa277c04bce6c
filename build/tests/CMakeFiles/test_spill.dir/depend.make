# Empty dependencies file for test_spill.
# This may be replaced when dependencies are built.
