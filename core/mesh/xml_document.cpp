#include "core/mesh/xml_document.hpp"

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkNew.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>

#include "core/mesh/vtk_error_capture.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh::detail {

XmlDocument::XmlDocument(const std::string& path, bool keep_text)
    : parser_(vtkXMLDataParser::New()) {
  vtkNew<vtkCallbackCommand> on_error;
  on_error->SetCallback(keep_first_vtk_error);
  on_error->SetClientData(&error_);
  parser_->AddObserver(vtkCommand::ErrorEvent, on_error);
  parser_->AddObserver(vtkCommand::WarningEvent, on_error);
  parser_->SetFileName(path.c_str());
  parser_->SetIgnoreCharacterData(keep_text ? 0 : 1);
  if (!parser_->Parse() || parser_->GetRootElement() == nullptr) {
    parser_->Delete();
    throw InputError(str(path, ": not readable as XML: ", error_.empty() ? "parse error" : error_));
  }
  root_ = parser_->GetRootElement();
}

XmlDocument::~XmlDocument() {
  parser_->Delete();
}

std::string local_name(XmlElement* element) {
  const std::string name = element->GetName() != nullptr ? element->GetName() : "";
  const auto colon = name.find(':');
  return colon == std::string::npos ? name : name.substr(colon + 1);
}

std::string attribute(XmlElement* element, const char* name, const std::string& fallback) {
  const char* value = element->GetAttribute(name);
  return value != nullptr ? value : fallback;
}

std::vector<XmlElement*> children(XmlElement* element, const std::string& name) {
  std::vector<XmlElement*> found;
  for (int i = 0; i < element->GetNumberOfNestedElements(); ++i) {
    XmlElement* child = element->GetNestedElement(i);
    if (local_name(child) == name) found.push_back(child);
  }
  return found;
}

}  // namespace tessera::mesh::detail
