# -DTESSERA_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer on every target
# of the project (not on the system libraries it links). For a separate build folder:
#   cmake -S . -B build-asan -DTESSERA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   make -C build-asan -j2 && ctest --test-dir build-asan -j2
# The tests then run with ASAN_OPTIONS/UBSAN_OPTIONS from TESSERA_SANITIZER_ENV: any
# undefined behaviour stops the test; leak checking is off, because Open MPI, HDF5 and
# VTK keep allocations until exit that LeakSanitizer reports as leaks.
option(TESSERA_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
set(TESSERA_SANITIZER_ENV "")
if(TESSERA_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "TESSERA_SANITIZE needs GCC or Clang")
  endif()
  set(flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
            -fno-omit-frame-pointer)
  add_compile_options(${flags})
  add_link_options(-fsanitize=address,undefined)
  set(TESSERA_SANITIZER_ENV
      "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  message(STATUS "Tessera: AddressSanitizer + UndefinedBehaviorSanitizer on (tests: ${TESSERA_SANITIZER_ENV})")
endif()

# -DTESSERA_FUZZ=ON (clang only): every target instrumented for libFuzzer with AddressSanitizer
# and UndefinedBehaviorSanitizer, and one libFuzzer binary per reader (tests/fuzz). Use a
# build folder of its own and build only the fuzzers:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DTESSERA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   make -C build-fuzz -j2 $(printf 'fuzz_%s ' toml text vtu pvtu xdmf meshgraphnets_h5 idx)
# analysis/fuzz_study.sh does this and runs them.
option(TESSERA_FUZZ "Build libFuzzer targets for the readers (needs clang)" OFF)
if(TESSERA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TESSERA_FUZZ needs clang (libFuzzer): configure with CXX=clang++ "
                        "in a build folder of its own")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  message(STATUS "Tessera: libFuzzer targets on (build/fuzz/fuzz_<reader>)")
endif()
