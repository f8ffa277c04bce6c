# Empty dependencies file for test_kafka.
# This may be replaced when dependencies are built.
