# Empty dependencies file for bench_replay.
# This may be replaced when dependencies are built.
