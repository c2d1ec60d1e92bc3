#include "core/mesh/vtk_data_headers.hpp"

#include <vtkXMLDataElement.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "core/runtime/error.hpp"

namespace tessera::mesh::detail {

namespace {

// Declared counts may exceed the bytes of the file by this factor at most: compressors
// shrink real data far less (zlib's limit is about 1032:1, reached only by constant runs),
// while a damaged count is off by orders of magnitude.
constexpr std::uint64_t kMaxExpansion = 1u << 16;

// How a file stores its binary data: header word size, byte order, compression.
struct Encoding {
  std::size_t word = 4;  // header_type UInt32 (VTK's default) or UInt64
  bool big_endian = false;
  bool compressed = false;
};

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The base64 characters of `text` from `begin`, whitespace dropped, up to `limit` of them.
std::string base64_chars(const std::string& text, std::size_t begin, std::size_t limit) {
  std::string out;
  for (std::size_t i = begin; i < text.size() && out.size() < limit; ++i) {
    const char c = text[i];
    if (base64_value(c) >= 0 || c == '=') {
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      break;  // the end of the encoded data (the next element, in appended data)
    }
  }
  return out;
}

// Decodes whole groups of 4 characters ('=' ends the group's bytes).
std::vector<std::uint8_t> base64_decode(const std::string& chars) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 4 <= chars.size(); i += 4) {
    int v[4];
    int valid = 0;
    for (int k = 0; k < 4; ++k) {
      v[k] = base64_value(chars[i + k]);
      if (v[k] >= 0 && valid == k) ++valid;
      if (v[k] < 0) v[k] = 0;
    }
    const std::uint32_t group = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (valid >= 2) out.push_back(static_cast<std::uint8_t>(group >> 16));
    if (valid >= 3) out.push_back(static_cast<std::uint8_t>(group >> 8));
    if (valid >= 4) out.push_back(static_cast<std::uint8_t>(group));
  }
  return out;
}

std::uint64_t word_at(const std::vector<std::uint8_t>& bytes, std::size_t index,
                      const Encoding& e) {
  std::uint64_t value = 0;
  for (std::size_t k = 0; k < e.word; ++k) {
    const std::size_t byte = e.big_endian ? k : e.word - 1 - k;
    value = (value << 8) | bytes[index * e.word + byte];
  }
  return value;
}

// A binary array's header, read from `header` (raw bytes, as many as there are), checked
// against `total`: the bytes of the array's run in the file, header included.
void check_header(const std::vector<std::uint8_t>& header, std::uint64_t total,
                  const Encoding& e, const std::string& where) {
  const auto words = header.size() / e.word;
  if (!e.compressed) {
    if (words < 1) throw InputError(str(where, ": the binary data has no size header"));
    const std::uint64_t bytes = word_at(header, 0, e);
    if (bytes > total - e.word) {
      throw InputError(str(where, ": its header declares ", bytes,
                           " bytes of data; the file holds ", total - e.word));
    }
    return;
  }
  if (words < 3) throw InputError(str(where, ": the compressed data has no block header"));
  const std::uint64_t blocks = word_at(header, 0, e), block_size = word_at(header, 1, e),
                      last_size = word_at(header, 2, e);
  const std::uint64_t after_prefix = total - 3 * e.word;
  if (blocks > after_prefix / e.word || words < 3 + blocks) {
    throw InputError(str(where, ": its header declares ", blocks, " compressed blocks; the ",
                         after_prefix, " bytes after its first words hold ",
                         after_prefix / e.word, " block sizes at most"));
  }
  const std::uint64_t data = after_prefix - blocks * e.word;
  std::uint64_t compressed_total = 0;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const std::uint64_t compressed = word_at(header, 3 + b, e);
    const std::uint64_t size = b + 1 == blocks && last_size != 0 ? last_size : block_size;
    if (compressed > data || size > kMaxExpansion * (compressed + 1)) {
      throw InputError(str(where, ": its header declares block ", b, " of ", size,
                           " bytes compressed to ", compressed, "; the file holds ", data,
                           " bytes of blocks"));
    }
    compressed_total += compressed;
  }
  if (compressed_total > data) {
    throw InputError(str(where, ": its header declares ", compressed_total,
                         " compressed bytes; the file holds ", data));
  }
}

// The header of a base64 run starting at `begin` of `text` (whitespace between the
// characters allowed), and in `total` the bytes the whole run decodes to. VTK encodes a
// header as a run of its own, so `total` may count up to 2 padding bytes too many; the
// checks against it are bounds, not equalities.
std::vector<std::uint8_t> base64_header(const std::string& text, std::size_t begin,
                                        const Encoding& e, std::uint64_t& total) {
  const auto chars_for = [](std::size_t bytes) { return 4 * ((bytes + 2) / 3); };
  const std::string all = base64_chars(text, begin, std::string::npos);
  total = all.size() / 4 * 3;
  const std::size_t first_words = e.compressed ? 3 : 1;
  std::vector<std::uint8_t> header =
      base64_decode(all.substr(0, std::min(all.size(), chars_for(first_words * e.word))));
  if (e.compressed && header.size() >= 3 * e.word) {
    // Decode the block sizes, but no more than the run holds (a damaged count can be
    // anything).
    const std::uint64_t blocks = std::min<std::uint64_t>(word_at(header, 0, e), total / e.word);
    const std::size_t header_bytes = static_cast<std::size_t>((3 + blocks) * e.word);
    header = base64_decode(all.substr(0, std::min(all.size(), chars_for(header_bytes))));
  }
  return header;
}

// <AppendedData>: the offset of its first byte (after the '_' marker) in the file, and
// whether it is base64; npos when the file has none.
std::size_t appended_start(const std::string& file, bool& base64) {
  const std::size_t tag = file.find("<AppendedData");
  if (tag == std::string::npos) return std::string::npos;
  const std::size_t close = file.find('>', tag);
  if (close == std::string::npos) return std::string::npos;
  base64 = file.substr(tag, close - tag).find("base64") != std::string::npos;
  const std::size_t marker = file.find('_', close);
  return marker == std::string::npos ? std::string::npos : marker + 1;
}

std::uint64_t parse_count(const std::string& text, const std::string& where) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || text[0] == '-') {
    throw InputError(str(where, " = \"", text, "\" is not a count"));
  }
  return value;
}

std::uint64_t type_size(const std::string& type) {
  if (type == "Int8" || type == "UInt8") return 1;
  if (type == "Int16" || type == "UInt16") return 2;
  if (type == "Int32" || type == "UInt32" || type == "Float32") return 4;
  return 8;
}

// The header of one binary (inline or appended) array.
void check_binary_array(XmlElement* array, const std::string& where, const std::string& file,
                        const Encoding& e) {
  const std::string format = attribute(array, "format", "ascii");
  if (format == "binary") {
    // The element's text, from the end of its start tag (the parser keeps where each
    // element starts, not its inline data) to the next tag.
    const auto start_tag = static_cast<std::size_t>(std::max<std::int64_t>(array->GetXMLByteIndex(), 0));
    const std::size_t open = std::min(file.find('>', start_tag), file.size());
    const std::size_t close = std::min(file.find('<', open), file.size());
    const std::string text = open < close ? file.substr(open + 1, close - open - 1) : "";
    std::uint64_t total = 0;
    const std::vector<std::uint8_t> header = base64_header(text, 0, e, total);
    check_header(header, total, e, where);
  } else if (format == "appended") {
    bool base64 = false;
    const std::size_t start = appended_start(file, base64);
    if (start == std::string::npos) throw InputError(str(where, ": the file has no <AppendedData>"));
    const std::uint64_t offset = parse_count(attribute(array, "offset", "0"), where + " offset");
    if (offset >= file.size() - start) {
      throw InputError(str(where, ": offset ", offset, " is past the end of the appended data"));
    }
    const std::size_t at = start + static_cast<std::size_t>(offset);
    if (base64) {
      std::uint64_t total = 0;
      const std::vector<std::uint8_t> header = base64_header(file, at, e, total);
      check_header(header, total, e, where);
    } else {
      const std::size_t first = (e.compressed ? 3 : 1) * e.word;
      std::size_t header_bytes = std::min(first, file.size() - at);
      if (e.compressed && header_bytes == first) {
        const std::vector<std::uint8_t> head(file.begin() + at, file.begin() + at + first);
        const std::uint64_t blocks = word_at(head, 0, e);
        header_bytes = static_cast<std::size_t>(
            std::min<std::uint64_t>(first + blocks * e.word, file.size() - at));
      }
      const std::vector<std::uint8_t> header(file.begin() + at, file.begin() + at + header_bytes);
      check_header(header, file.size() - at, e, where);
    }
  }
}

// Every data array under `element`; `tuples`: the tuples VTK allocates for the arrays of
// this section (NumberOfPoints or NumberOfCells of the piece, 0 elsewhere), whose bytes
// are added to `declared`.
void check_arrays(XmlElement* element, const std::string& path, const std::string& file,
                  const Encoding& e, std::uint64_t tuples, std::uint64_t& declared) {
  for (int i = 0; i < element->GetNumberOfNestedElements(); ++i) {
    XmlElement* child = element->GetNestedElement(i);
    const std::string name = local_name(child);
    if (name == "Piece") {
      std::uint64_t counts[2] = {0, 0};
      const char* keys[2] = {"NumberOfPoints", "NumberOfCells"};
      for (int k = 0; k < 2; ++k) {
        if (const char* value = child->GetAttribute(keys[k])) {
          counts[k] = parse_count(value, str(path, ": <Piece ", keys[k]));
          if (counts[k] > file.size() * kMaxExpansion) {
            throw InputError(str(path, ": <Piece ", keys[k], "=\"", value,
                                 "\"> declares more than a file of ", file.size(),
                                 " bytes can hold"));
          }
        }
      }
      for (int j = 0; j < child->GetNumberOfNestedElements(); ++j) {
        XmlElement* section = child->GetNestedElement(j);
        const std::string section_name = local_name(section);
        const bool per_point = section_name == "Points" || section_name == "PointData";
        const bool per_cell = section_name == "CellData" || section_name == "Cells";
        check_arrays(section, path, file, e, per_point ? counts[0] : per_cell ? counts[1] : 0,
                     declared);
      }
    } else if (name == "DataArray") {
      const std::string where =
          str(path, ": <DataArray Name=\"", attribute(child, "Name"), "\">");
      check_binary_array(child, where, file, e);
      // A cell array's connectivity is sized by its offsets, not by the piece.
      if (attribute(child, "Name") != "connectivity") {
        const std::uint64_t components =
            parse_count(attribute(child, "NumberOfComponents", "1"), where + " NumberOfComponents");
        declared += tuples * std::min<std::uint64_t>(components, 64) *
                    type_size(attribute(child, "type"));
      }
    } else {
      check_arrays(child, path, file, e, 0, declared);
    }
  }
}

}  // namespace

void check_data_sizes(const std::string& path, XmlElement* root) {
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Encoding e;
  const std::string header_type = attribute(root, "header_type", "UInt32");
  if (header_type != "UInt32" && header_type != "UInt64") {
    throw InputError(str(path, ": header_type=\"", header_type, "\": expected UInt32 or UInt64"));
  }
  e.word = header_type == "UInt64" ? 8 : 4;
  e.big_endian = attribute(root, "byte_order", "LittleEndian") == "BigEndian";
  e.compressed = !attribute(root, "compressor").empty();
  std::uint64_t declared = 0;
  check_arrays(root, path, file, e, 0, declared);
  // What VTK allocates for the pieces' arrays before it reads them: real data compresses
  // far less than this, a damaged NumberOfPoints (say) declares gigabytes in a small file.
  const std::uint64_t budget = 1024 * static_cast<std::uint64_t>(file.size()) + (16u << 20);
  if (declared > budget) {
    throw InputError(str(path, ": its pieces declare ", declared, " bytes of point and cell ",
                         "data (NumberOfPoints, NumberOfCells times the arrays' components); ",
                         "a file of ", file.size(), " bytes holds at most about ", budget));
  }
}

}  // namespace tessera::mesh::detail
