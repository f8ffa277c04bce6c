# Empty dependencies file for test_score.
# This may be replaced when dependencies are built.
