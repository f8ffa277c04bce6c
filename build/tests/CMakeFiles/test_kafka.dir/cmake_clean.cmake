file(REMOVE_RECURSE
  "CMakeFiles/test_kafka.dir/test_kafka.c.o"
  "CMakeFiles/test_kafka.dir/test_kafka.c.o.d"
  "test_kafka"
  "test_kafka.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_kafka.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
