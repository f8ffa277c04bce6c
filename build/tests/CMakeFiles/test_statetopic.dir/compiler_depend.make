# Empty compiler generated dependencies file for test_statetopic.
# This may be replaced when dependencies are built.
