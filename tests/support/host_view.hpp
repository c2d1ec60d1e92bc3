#pragma once
// Host access to the elements of device views in tests. host(v) is a host copy of any
// View (on a host build, v itself, with nothing copied). It is a snapshot: take it once,
// after the call that produced the values, and take a new one if the view changes. To set
// entries in test setup, change a host(v) and Kokkos::deep_copy(v, h) it back.
#include <Kokkos_Core.hpp>

namespace tessera::testing {

template <class View>
auto host(const View& v) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
}

}  // namespace tessera::testing
