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

// A base64 run starts at `begin` of `text` and ends at the first character that is
// neither base64 nor whitespace (the next tag). Its first `keep` characters, whitespace
// dropped, and the number of its characters.
bool in_base64_run(char c) { return base64_value(c) >= 0 || c == '='; }
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string base64_head(const std::string& text, std::size_t begin, std::size_t keep) {
  std::string out;
  for (std::size_t i = begin; i < text.size() && out.size() < keep; ++i) {
    if (in_base64_run(text[i])) {
      out.push_back(text[i]);
    } else if (!is_space(text[i])) {
      break;
    }
  }
  return out;
}

std::size_t base64_length(const std::string& text, std::size_t begin) {
  std::size_t count = 0;
  for (std::size_t i = begin; i < text.size(); ++i) {
    if (in_base64_run(text[i])) {
      ++count;
    } else if (!is_space(text[i])) {
      break;
    }
  }
  return count;
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

// The header of a base64 run starting at `begin` of `text`, whose bytes (header
// included) are at most `total`: the size words, then for compressed data the block
// sizes, no more of them than the run can hold (a damaged count can be anything). VTK
// encodes a header as a run of its own, so `total`, counted from the characters, may
// hold 2 padding bytes too many: the checks against it are bounds, not equalities.
std::vector<std::uint8_t> base64_header(const std::string& text, std::size_t begin,
                                        std::uint64_t total, const Encoding& e) {
  const auto chars_for = [](std::uint64_t bytes) {
    return static_cast<std::size_t>(4 * ((bytes + 2) / 3));
  };
  std::vector<std::uint8_t> header =
      base64_decode(base64_head(text, begin, chars_for((e.compressed ? 3 : 1) * e.word)));
  if (e.compressed && header.size() >= 3 * e.word) {
    const std::uint64_t blocks = std::min<std::uint64_t>(word_at(header, 0, e), total / e.word);
    header = base64_decode(base64_head(text, begin, chars_for((3 + blocks) * e.word)));
  }
  return header;
}

// The file's <AppendedData>, found once: where its data starts (after the '_' marker),
// whether it is base64, and then how many base64 characters follow.
struct AppendedData {
  std::size_t start = std::string::npos;
  bool base64 = false;
  std::size_t base64_chars = 0;
};

AppendedData find_appended_data(const std::string& file) {
  AppendedData a;
  const std::size_t tag = file.find("<AppendedData");
  const std::size_t close = tag == std::string::npos ? tag : file.find('>', tag);
  const std::size_t marker = close == std::string::npos ? close : file.find('_', close);
  if (marker == std::string::npos) return a;
  a.start = marker + 1;
  a.base64 = file.find("base64", tag) < close;  // encoding="base64" in the tag
  if (a.base64) a.base64_chars = base64_length(file, a.start);
  return a;
}

// The file a check reads: its path, bytes, encoding and appended data.
struct Source {
  const std::string& path;
  const std::string& bytes;
  Encoding encoding;
  AppendedData appended;
};

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
void check_binary_array(XmlElement* array, const std::string& where, const Source& source) {
  const std::string& file = source.bytes;
  const Encoding& e = source.encoding;
  const std::string format = attribute(array, "format", "ascii");
  if (format == "binary") {
    // The element's text follows its start tag (the parser keeps where each element
    // starts, not its inline data).
    const auto start_tag =
        static_cast<std::size_t>(std::max<std::int64_t>(array->GetXMLByteIndex(), 0));
    const std::size_t text = std::min(file.find('>', start_tag), file.size() - 1) + 1;
    const std::uint64_t total = base64_length(file, text) / 4 * 3;
    check_header(base64_header(file, text, total, e), total, e, where);
  } else if (format == "appended") {
    const AppendedData& appended = source.appended;
    if (appended.start == std::string::npos) {
      throw InputError(str(where, ": the file has no <AppendedData>"));
    }
    const std::uint64_t offset = parse_count(attribute(array, "offset", "0"), where + " offset");
    if (offset >= file.size() - appended.start) {
      throw InputError(str(where, ": offset ", offset, " is past the end of the appended data"));
    }
    const std::size_t at = appended.start + static_cast<std::size_t>(offset);
    if (appended.base64) {
      // Offsets count the encoded characters (VTK writes no whitespace between them).
      const std::uint64_t chars = offset < appended.base64_chars ? appended.base64_chars - offset : 0;
      const std::uint64_t total = chars / 4 * 3;
      check_header(base64_header(file, at, total, e), total, e, where);
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
void check_arrays(XmlElement* element, const Source& source, std::uint64_t tuples,
                  std::uint64_t& declared) {
  const std::string& path = source.path;
  const std::size_t file_size = source.bytes.size();
  for (int i = 0; i < element->GetNumberOfNestedElements(); ++i) {
    XmlElement* child = element->GetNestedElement(i);
    const std::string name = local_name(child);
    if (name == "Piece") {
      std::uint64_t counts[2] = {0, 0};
      const char* keys[2] = {"NumberOfPoints", "NumberOfCells"};
      for (int k = 0; k < 2; ++k) {
        if (const char* value = child->GetAttribute(keys[k])) {
          counts[k] = parse_count(value, str(path, ": <Piece ", keys[k]));
          if (counts[k] > file_size * kMaxExpansion) {
            throw InputError(str(path, ": <Piece ", keys[k], "=\"", value,
                                 "\"> declares more than a file of ", file_size,
                                 " bytes can hold"));
          }
        }
      }
      for (int j = 0; j < child->GetNumberOfNestedElements(); ++j) {
        XmlElement* section = child->GetNestedElement(j);
        const std::string section_name = local_name(section);
        const bool per_point = section_name == "Points" || section_name == "PointData";
        const bool per_cell = section_name == "CellData" || section_name == "Cells";
        check_arrays(section, source, per_point ? counts[0] : per_cell ? counts[1] : 0,
                     declared);
      }
    } else if (name == "DataArray") {
      const std::string where =
          str(path, ": <DataArray Name=\"", attribute(child, "Name"), "\">");
      check_binary_array(child, where, source);
      // A cell array's connectivity is sized by its offsets, not by the piece.
      if (attribute(child, "Name") != "connectivity") {
        const std::uint64_t components =
            parse_count(attribute(child, "NumberOfComponents", "1"), where + " NumberOfComponents");
        declared += tuples * std::min<std::uint64_t>(components, 64) *
                    type_size(attribute(child, "type"));
      }
    } else {
      check_arrays(child, source, 0, declared);
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
  check_arrays(root, Source{path, file, e, find_appended_data(file)}, 0, declared);
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
