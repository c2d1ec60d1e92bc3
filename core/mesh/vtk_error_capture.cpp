#include "core/mesh/vtk_error_capture.hpp"

#include <vtkCommand.h>

#include <cctype>

namespace tessera::mesh::detail {

void keep_first_vtk_error(vtkObject*, unsigned long event, void* client, void* call) {
  auto* message = static_cast<std::string*>(client);
  if (event != vtkCommand::ErrorEvent || !message->empty() || call == nullptr) return;
  std::string text = static_cast<const char*>(call);
  const auto preamble = text.find("): ");
  if (text.rfind("ERROR", 0) == 0 && preamble != std::string::npos) text.erase(0, preamble + 3);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  *message = text.empty() ? "unknown VTK error" : text;
}

}  // namespace tessera::mesh::detail
