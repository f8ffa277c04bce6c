# CMake generated Testfile for 
# Source directory: /work/main/fuzz
# Build directory: /work/main/build/fuzz
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[fuzz.fuzz_checkpoint]=] "/work/main/build/fuzz/fuzz_checkpoint_replay" "/work/main/fuzz/corpus/fuzz_checkpoint")
set_tests_properties([=[fuzz.fuzz_checkpoint]=] PROPERTIES  LABELS "fuzz" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;9;add_test;/work/main/fuzz/CMakeLists.txt;0;")
add_test([=[fuzz.fuzz_config]=] "/work/main/build/fuzz/fuzz_config_replay" "/work/main/fuzz/corpus/fuzz_config")
set_tests_properties([=[fuzz.fuzz_config]=] PROPERTIES  LABELS "fuzz" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;9;add_test;/work/main/fuzz/CMakeLists.txt;0;")
add_test([=[fuzz.fuzz_decode]=] "/work/main/build/fuzz/fuzz_decode_replay" "/work/main/fuzz/corpus/fuzz_decode")
set_tests_properties([=[fuzz.fuzz_decode]=] PROPERTIES  LABELS "fuzz" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;9;add_test;/work/main/fuzz/CMakeLists.txt;0;")
add_test([=[fuzz.fuzz_detector]=] "/work/main/build/fuzz/fuzz_detector_replay" "/work/main/fuzz/corpus/fuzz_detector")
set_tests_properties([=[fuzz.fuzz_detector]=] PROPERTIES  LABELS "fuzz" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;9;add_test;/work/main/fuzz/CMakeLists.txt;0;")
add_test([=[fuzz.fuzz_model]=] "/work/main/build/fuzz/fuzz_model_replay" "/work/main/fuzz/corpus/fuzz_model")
set_tests_properties([=[fuzz.fuzz_model]=] PROPERTIES  LABELS "fuzz" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;9;add_test;/work/main/fuzz/CMakeLists.txt;0;")
