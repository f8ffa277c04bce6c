file(REMOVE_RECURSE
  "CMakeFiles/test_sink.dir/test_sink.c.o"
  "CMakeFiles/test_sink.dir/test_sink.c.o.d"
  "test_sink"
  "test_sink.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_sink.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
