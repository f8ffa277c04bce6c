file(REMOVE_RECURSE
  "CMakeFiles/test_time.dir/test_time.c.o"
  "CMakeFiles/test_time.dir/test_time.c.o.d"
  "test_time"
  "test_time.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_time.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
