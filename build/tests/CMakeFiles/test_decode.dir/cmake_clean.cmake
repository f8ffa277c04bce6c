file(REMOVE_RECURSE
  "CMakeFiles/test_decode.dir/test_decode.c.o"
  "CMakeFiles/test_decode.dir/test_decode.c.o.d"
  "test_decode"
  "test_decode.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_decode.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
