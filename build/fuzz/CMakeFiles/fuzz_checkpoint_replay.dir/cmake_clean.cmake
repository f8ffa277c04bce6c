file(REMOVE_RECURSE
  "CMakeFiles/fuzz_checkpoint_replay.dir/fuzz_checkpoint.c.o"
  "CMakeFiles/fuzz_checkpoint_replay.dir/fuzz_checkpoint.c.o.d"
  "CMakeFiles/fuzz_checkpoint_replay.dir/replay_main.c.o"
  "CMakeFiles/fuzz_checkpoint_replay.dir/replay_main.c.o.d"
  "fuzz_checkpoint_replay"
  "fuzz_checkpoint_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_checkpoint_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
