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
