#pragma once
// Internal to core/mesh: an XML file parsed with VTK's XML parser (XDMF files; the summary
// file and the pieces of a .pvtu, checked before VTK's reader trusts them), and lookups of
// elements by local name (without a namespace prefix: meshio writes <ns0:include>, others
// <xi:include>). No VTK header here: the element type is forward declared.
#include <string>
#include <vector>

class vtkXMLDataElement;
class vtkXMLDataParser;

namespace tessera::mesh::detail {

using XmlElement = vtkXMLDataElement;

class XmlDocument {
 public:
  // InputError naming the file and the parser's complaint when it is not XML. The parser
  // stops at a VTK file's appended binary data; with `keep_text` false it also drops the
  // text inside elements (inline arrays), when only the structure is wanted.
  explicit XmlDocument(const std::string& path, bool keep_text = true);
  ~XmlDocument();
  XmlDocument(const XmlDocument&) = delete;
  XmlDocument& operator=(const XmlDocument&) = delete;

  XmlElement* root() const { return root_; }

 private:
  std::string error_;  // written by the parser's observer, so declared before it goes
  vtkXMLDataParser* parser_ = nullptr;
  XmlElement* root_ = nullptr;
};

std::string local_name(XmlElement* element);
std::string attribute(XmlElement* element, const char* name, const std::string& fallback = "");
// The direct children with this local name, in file order.
std::vector<XmlElement*> children(XmlElement* element, const std::string& name);

}  // namespace tessera::mesh::detail
