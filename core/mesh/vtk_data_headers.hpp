#pragma once
// Internal to core/mesh: checks of what a VTK XML file (.vtu, a .pvtu's pieces) declares
// about the size of its data, made before VTK's reader trusts it. VTK allocates what a
// piece's NumberOfPoints/NumberOfCells and a binary array's header declare before it
// reads the data: a damaged count made it allocate gigabytes (found by fuzzing,
// tests/fuzz). Each declared size must fit the bytes the file holds.
#include <string>

#include "core/mesh/xml_document.hpp"

namespace tessera::mesh::detail {

// `root`: the parsed file (its structure; the text is read from the file at each
// element's position); `path`: the file itself (its size, inline arrays and appended
// data block, which the XML parser stops at). InputError naming the file,
// the array and what its header declares.
void check_data_sizes(const std::string& path, XmlElement* root);

}  // namespace tessera::mesh::detail
