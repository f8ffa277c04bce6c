file(REMOVE_RECURSE
  "CMakeFiles/test_alert.dir/test_alert.c.o"
  "CMakeFiles/test_alert.dir/test_alert.c.o.d"
  "test_alert"
  "test_alert.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_alert.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
