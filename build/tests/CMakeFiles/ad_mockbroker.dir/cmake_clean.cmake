file(REMOVE_RECURSE
  "CMakeFiles/ad_mockbroker.dir/tools/ad_mockbroker.c.o"
  "CMakeFiles/ad_mockbroker.dir/tools/ad_mockbroker.c.o.d"
  "ad_mockbroker"
  "ad_mockbroker.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/ad_mockbroker.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
