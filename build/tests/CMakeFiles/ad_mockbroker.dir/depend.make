# Empty dependencies file for ad_mockbroker.
# This may be replaced when dependencies are built.
