#pragma once
// The message of the InputError that f() throws, or "<no InputError>": bad-input tests
// check that one error names the key, file or line and what was expected.
#include <string>

#include "core/runtime/error.hpp"

namespace tessera::testing {

template <typename Function>
std::string input_error_of(Function&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

}  // namespace tessera::testing
