# Finds Kokkos and KokkosKernels and makes the targets Kokkos::kokkos and
# Kokkos::kokkoskernels usable, whatever flavour is installed.
#
# Debian 12 ships Kokkos 3.4 only inside Trilinos. Its config exports Kokkos::kokkos
# with an include path that does not exist (/usr/lib/include) and names the kernels
# library trilinos_kokkoskernels instead of Kokkos::kokkoskernels. A standalone Kokkos
# 4.x (clusters) exports correct targets and passes through this file unchanged.

# No version here: Trilinos' version file uses SameMajorVersion and would reject 4.x
# requests, and 3.4 is the oldest we support anyway (checked below).
find_package(Kokkos REQUIRED)
find_package(KokkosKernels REQUIRED)

if(Kokkos_VERSION VERSION_LESS 3.4)
  message(FATAL_ERROR "Tessera needs Kokkos >= 3.4, found ${Kokkos_VERSION}")
endif()

if(TARGET Kokkos::kokkos AND Kokkos_INCLUDE_DIRS)
  # Trilinos flavour: replace the broken include path with the one the config knows.
  get_target_property(_tessera_kokkos_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  set(_tessera_fix_include FALSE)
  foreach(_dir IN LISTS _tessera_kokkos_inc)
    if(NOT EXISTS "${_dir}")
      set(_tessera_fix_include TRUE)
    endif()
  endforeach()
  if(_tessera_fix_include)
    get_filename_component(_tessera_real_inc "${Kokkos_INCLUDE_DIRS}" REALPATH)
    message(STATUS "Kokkos shim: include path of Kokkos::kokkos set to ${_tessera_real_inc}")
    set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES
                                                    "${_tessera_real_inc}")
  endif()
endif()

if(NOT TARGET Kokkos::kokkoskernels)
  if(TARGET trilinos_kokkoskernels)
    message(STATUS "Kokkos shim: Kokkos::kokkoskernels aliases trilinos_kokkoskernels")
    add_library(Kokkos::kokkoskernels INTERFACE IMPORTED)
    set_target_properties(Kokkos::kokkoskernels PROPERTIES INTERFACE_LINK_LIBRARIES
                                                           "trilinos_kokkoskernels;Kokkos::kokkos")
  else()
    message(FATAL_ERROR "KokkosKernels was found but exports neither Kokkos::kokkoskernels "
                        "nor trilinos_kokkoskernels")
  endif()
endif()

set(TESSERA_KOKKOS_VERSION "${Kokkos_VERSION}")
set(TESSERA_KOKKOS_DEVICES "${Kokkos_DEVICES}")
message(STATUS "Kokkos ${Kokkos_VERSION}, devices: ${Kokkos_DEVICES}")
