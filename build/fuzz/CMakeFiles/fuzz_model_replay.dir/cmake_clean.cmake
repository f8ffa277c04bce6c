file(REMOVE_RECURSE
  "CMakeFiles/fuzz_model_replay.dir/fuzz_model.c.o"
  "CMakeFiles/fuzz_model_replay.dir/fuzz_model.c.o.d"
  "CMakeFiles/fuzz_model_replay.dir/replay_main.c.o"
  "CMakeFiles/fuzz_model_replay.dir/replay_main.c.o.d"
  "fuzz_model_replay"
  "fuzz_model_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_model_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
