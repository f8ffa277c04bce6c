file(REMOVE_RECURSE
  "CMakeFiles/fuzz_decode_replay.dir/fuzz_decode.c.o"
  "CMakeFiles/fuzz_decode_replay.dir/fuzz_decode.c.o.d"
  "CMakeFiles/fuzz_decode_replay.dir/replay_main.c.o"
  "CMakeFiles/fuzz_decode_replay.dir/replay_main.c.o.d"
  "fuzz_decode_replay"
  "fuzz_decode_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_decode_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
