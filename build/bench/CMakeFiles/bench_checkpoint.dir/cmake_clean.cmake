file(REMOVE_RECURSE
  "CMakeFiles/bench_checkpoint.dir/bench_checkpoint.c.o"
  "CMakeFiles/bench_checkpoint.dir/bench_checkpoint.c.o.d"
  "bench_checkpoint"
  "bench_checkpoint.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/bench_checkpoint.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
