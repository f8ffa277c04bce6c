# Empty dependencies file for bench_checkpoint.
# This may be replaced when dependencies are built.
