
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/fuzz/fuzz_decode.c" "fuzz/CMakeFiles/fuzz_decode_replay.dir/fuzz_decode.c.o" "gcc" "fuzz/CMakeFiles/fuzz_decode_replay.dir/fuzz_decode.c.o.d"
  "/work/main/fuzz/replay_main.c" "fuzz/CMakeFiles/fuzz_decode_replay.dir/replay_main.c.o" "gcc" "fuzz/CMakeFiles/fuzz_decode_replay.dir/replay_main.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/anomalyd_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
