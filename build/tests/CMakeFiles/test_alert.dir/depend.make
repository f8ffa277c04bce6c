# Empty dependencies file for test_alert.
# This may be replaced when dependencies are built.
