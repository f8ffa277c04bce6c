file(REMOVE_RECURSE
  "CMakeFiles/test_score.dir/test_score.c.o"
  "CMakeFiles/test_score.dir/test_score.c.o.d"
  "test_score"
  "test_score.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_score.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
