file(REMOVE_RECURSE
  "CMakeFiles/test_detector.dir/test_detector.c.o"
  "CMakeFiles/test_detector.dir/test_detector.c.o.d"
  "test_detector"
  "test_detector.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_detector.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
