file(REMOVE_RECURSE
  "CMakeFiles/anomalyd.dir/src/main.c.o"
  "CMakeFiles/anomalyd.dir/src/main.c.o.d"
  "anomalyd"
  "anomalyd.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/anomalyd.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
