#pragma once
// Internal to core/mesh: VTK reports a bad file through ErrorEvents (or on stderr when
// nobody listens), not through return codes, so the readers listen and turn the first
// error into their InputError. No VTK header here: the callback's types are forward
// declared.
#include <string>

class vtkObject;

namespace tessera::mesh::detail {

// A vtkCallbackCommand callback: keeps the first ErrorEvent's text in the std::string
// given as client data, without VTK's "ERROR: In <source file>, line N / vtkClass (0x..):"
// preamble, which tells a user nothing; warnings are dropped (they name no file either).
void keep_first_vtk_error(vtkObject* caller, unsigned long event, void* client, void* call);

}  // namespace tessera::mesh::detail
