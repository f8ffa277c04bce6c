file(REMOVE_RECURSE
  "CMakeFiles/bench_replay.dir/bench_replay.c.o"
  "CMakeFiles/bench_replay.dir/bench_replay.c.o.d"
  "bench_replay"
  "bench_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/bench_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
