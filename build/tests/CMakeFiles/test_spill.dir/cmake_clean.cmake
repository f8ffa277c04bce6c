file(REMOVE_RECURSE
  "CMakeFiles/test_spill.dir/test_spill.c.o"
  "CMakeFiles/test_spill.dir/test_spill.c.o.d"
  "test_spill"
  "test_spill.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_spill.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
