# Empty dependencies file for anomalyd.
# This may be replaced when dependencies are built.
