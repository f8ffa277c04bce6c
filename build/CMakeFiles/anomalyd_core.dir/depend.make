# Empty dependencies file for anomalyd_core.
# This may be replaced when dependencies are built.
