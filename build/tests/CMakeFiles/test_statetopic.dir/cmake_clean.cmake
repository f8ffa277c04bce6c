file(REMOVE_RECURSE
  "CMakeFiles/test_statetopic.dir/test_statetopic.c.o"
  "CMakeFiles/test_statetopic.dir/test_statetopic.c.o.d"
  "test_statetopic"
  "test_statetopic.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_statetopic.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
