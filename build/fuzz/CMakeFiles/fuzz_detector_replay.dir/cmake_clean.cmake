file(REMOVE_RECURSE
  "CMakeFiles/fuzz_detector_replay.dir/fuzz_detector.c.o"
  "CMakeFiles/fuzz_detector_replay.dir/fuzz_detector.c.o.d"
  "CMakeFiles/fuzz_detector_replay.dir/replay_main.c.o"
  "CMakeFiles/fuzz_detector_replay.dir/replay_main.c.o.d"
  "fuzz_detector_replay"
  "fuzz_detector_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_detector_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
