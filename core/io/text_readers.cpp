#include "core/io/text_readers.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "core/runtime/error.hpp"

namespace tessera::io {
namespace fs = std::filesystem;

namespace {

// The whole file in memory: the data files are a few MB at most, and one read is far
// cheaper than line-by-line stream extraction.
std::string read_whole_file(const std::string& path) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (ec) throw InputError(str(path, ": cannot be accessed (", ec.message(), ")"));
  if (!exists) throw InputError(str(path, ": file not found"));
  if (fs::is_directory(path, ec)) {
    throw InputError(str(path, ": is a directory, expected a data file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(str(path, ": cannot be opened for reading (", std::strerror(errno), ")"));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(str(path, ": read error (", std::strerror(errno), ")"));
  std::string text = buffer.str();

  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  // A UTF-16 file would otherwise fail at the first number with a baffling message.
  if (text.compare(0, 2, "\xFF\xFE") == 0 || text.compare(0, 2, "\xFE\xFF") == 0) {
    throw InputError(str(path, ": is UTF-16 text; save it as UTF-8 (or ASCII) and try again"));
  }
  if (text.empty()) throw InputError(str(path, ": file is empty"));
  return text;
}

// Calls f(line, line_number) for each line; "\r\n", "\n" and a lone "\r" all end a line,
// so files from any platform read the same. A final newline does not start a line.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  std::size_t number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    f(text.substr(pos, end - pos), ++number);
    pos = end + 1;
    if (end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n') ++pos;
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

bool is_blank(std::string_view line) {
  for (char c : line) {
    if (!is_space(c)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Long junk (a whole line pasted into a field) would drown the message.
std::string in_quotes(std::string_view text) {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return str("'", text, "'");
  return str("'", text.substr(0, kMax), "...'");
}

// Why `text` is not a number, or nullopt with `value` set. The token is copied so that
// strtod cannot run past it into a neighbouring field.
std::optional<std::string> number_problem(std::string_view text, double& value) {
  if (text.empty()) return std::string("'' is not a number (empty field)");
  char small[64];
  std::string large;
  const char* begin = nullptr;
  if (text.size() < sizeof(small)) {
    std::memcpy(small, text.data(), text.size());
    small[text.size()] = '\0';
    begin = small;
  } else {
    large.assign(text);
    begin = large.c_str();
  }
  char* end = nullptr;
  errno = 0;
  value = std::strtod(begin, &end);
  if (end != begin + text.size()) return str(in_quotes(text), " is not a number");
  if (std::isnan(value)) return str(in_quotes(text), " is not a number (NaN is not accepted)");
  if (std::isinf(value)) {
    if (errno == ERANGE) return str(in_quotes(text), " is not a number (overflows a double)");
    return str(in_quotes(text), " is not a number (infinity is not accepted)");
  }
  return std::nullopt;  // underflow to a denormal or zero is a fine value
}

bool is_number(std::string_view text) {
  double ignored = 0;
  return !number_problem(trim(text), ignored);
}

// Splits one line into fields. Quotes follow RFC 4180 ("" inside a quoted field is a
// quote) except that a quoted field must close on its own line.
void split_csv_line(std::string_view line, char delimiter, const std::string& path,
                    std::size_t line_number, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t pos = 0;
  while (true) {
    std::string field;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= line.size()) {
          throw InputError(str(path, ":line ", line_number, ", column ", fields.size() + 1,
                               ": quoted field is not closed on this line (fields that span "
                               "lines are not supported)"));
        }
        const char c = line[pos++];
        if (c != '"') {
          field += c;
        } else if (pos < line.size() && line[pos] == '"') {
          field += '"';
          ++pos;
        } else {
          break;
        }
      }
      while (pos < line.size() && is_space(line[pos]) && line[pos] != delimiter) ++pos;
      if (pos < line.size() && line[pos] != delimiter) {
        throw InputError(str(path, ":line ", line_number, ", column ", fields.size() + 1,
                             ": text after the closing quote of a quoted field"));
      }
    } else {
      std::size_t end = line.find(delimiter, pos);
      if (end == std::string_view::npos) end = line.size();
      field.assign(line.substr(pos, end - pos));
      pos = end;
    }
    fields.push_back(std::move(field));
    if (pos >= line.size()) break;
    ++pos;  // the delimiter; a trailing one leaves an empty last field
  }
}

std::string row_location(const CsvTable& table, std::size_t row) {
  if (row < table.line_numbers.size()) return str(table.path, ":line ", table.line_numbers[row]);
  return str(table.path, ": row ", row + 1);
}

std::string column_label(const CsvTable& table, std::size_t column) {
  std::string label = str("column ", column + 1);
  if (column < table.header.size() && !table.header[column].empty()) {
    label += str(" (", table.header[column], ")");
  }
  return label;
}

void check_column(const CsvTable& table, std::size_t column) {
  if (column >= table.column_count()) {
    throw InputError(str(table.path, ": column index ", column, " is out of range: the file has ",
                         table.column_count(), " columns"));
  }
}

double table_number(const CsvTable& table, std::size_t row, std::size_t column) {
  double value = 0;
  if (auto problem = number_problem(trim(table.rows[row][column]), value)) {
    throw InputError(
        str(row_location(table, row), ", ", column_label(table, column), ": ", *problem));
  }
  return value;
}

long long node_id(const CsvTable& table, std::size_t row, std::size_t column) {
  const double value = table_number(table, row, column);
  // Beyond 2^53 a double no longer holds every integer, so the id could be silently wrong.
  constexpr double kLargestExact = 9007199254740992.0;
  const auto where = [&] {
    return str(row_location(table, row), ", ", column_label(table, column));
  };
  const std::string text(trim(table.rows[row][column]));
  if (value < 0) throw InputError(str(where(), ": node id ", in_quotes(text), " is negative"));
  if (value != std::floor(value)) {
    throw InputError(str(where(), ": node id ", in_quotes(text), " is not an integer"));
  }
  if (value > kLargestExact) {
    throw InputError(str(where(), ": node id ", in_quotes(text), " is too large (above 2^53)"));
  }
  return static_cast<long long>(value);
}

}  // namespace

Grid read_text_grid(const std::string& path) {
  const std::string text = read_whole_file(path);
  Grid grid;
  std::size_t first_line = 0;
  double value = 0;
  for_each_line(text, [&](std::string_view line, std::size_t number) {
    std::size_t count = 0;
    std::size_t pos = 0;
    while (true) {
      while (pos < line.size() && is_space(line[pos])) ++pos;
      if (pos == line.size()) break;
      std::size_t end = pos;
      while (end < line.size() && !is_space(line[end])) ++end;
      ++count;
      if (auto problem = number_problem(line.substr(pos, end - pos), value)) {
        throw InputError(str(path, ":line ", number, ", column ", count, ": ", *problem));
      }
      grid.values.push_back(value);
      pos = end;
    }
    if (count == 0) return;
    if (grid.rows == 0) {
      grid.cols = count;
      first_line = number;
    } else if (count != grid.cols) {
      throw InputError(str(path, ":line ", number, ": ", count, " values, expected ", grid.cols,
                           " as on line ", first_line));
    }
    ++grid.rows;
  });
  if (grid.rows == 0) throw InputError(str(path, ": file is empty (only blank lines)"));
  return grid;
}

std::size_t CsvTable::column_count() const {
  return rows.empty() ? header.size() : rows.front().size();
}

std::size_t CsvTable::column_index(const std::string& name) const {
  if (header.empty()) {
    throw InputError(str(path, ": has no header row, so no column named '", name,
                         "'; its columns can only be taken by position"));
  }
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  std::string available;
  for (std::size_t i = 0; i < header.size(); ++i) {
    available += str(i == 0 ? "" : ", ", "'", header[i], "'");
  }
  throw InputError(str(path, ": no column named '", name, "'; the columns are ", available));
}

std::vector<double> CsvTable::numeric_column(std::size_t index) const {
  check_column(*this, index);
  std::vector<double> column;
  column.reserve(rows.size());
  for (std::size_t row = 0; row < rows.size(); ++row) {
    column.push_back(table_number(*this, row, index));
  }
  return column;
}

std::vector<double> CsvTable::numeric_column(const std::string& name) const {
  return numeric_column(column_index(name));
}

std::vector<std::string> CsvTable::text_column(std::size_t index) const {
  check_column(*this, index);
  std::vector<std::string> column;
  column.reserve(rows.size());
  for (const auto& row : rows) column.push_back(row[index]);
  return column;
}

CsvTable read_csv(const std::string& path, CsvHeader header, char delimiter) {
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || delimiter == '\0') {
    throw std::invalid_argument("read_csv: the delimiter cannot be a quote, NUL or a line end");
  }
  const std::string text = read_whole_file(path);
  CsvTable table;
  table.path = path;
  std::size_t expected = 0;
  std::size_t first_line = 0;
  std::vector<std::string> fields;
  for_each_line(text, [&](std::string_view line, std::size_t number) {
    if (is_blank(line)) return;
    split_csv_line(line, delimiter, path, number, fields);
    if (first_line == 0) {
      first_line = number;
      expected = fields.size();
      bool is_header = header == CsvHeader::kPresent;
      if (header == CsvHeader::kAuto) {
        for (const auto& field : fields) {
          if (!trim(field).empty() && !is_number(field)) is_header = true;
        }
      }
      if (is_header) {
        table.header = fields;
        return;
      }
    } else if (fields.size() != expected) {
      throw InputError(str(path, ":line ", number, ": ", fields.size(), " fields, expected ",
                           expected, " as on line ", first_line));
    }
    table.rows.push_back(fields);
    table.line_numbers.push_back(number);
  });
  if (first_line == 0) throw InputError(str(path, ": file is empty (only blank lines)"));
  return table;
}

Grid read_csv_matrix(const std::string& path) {
  const CsvTable table = read_csv(path, CsvHeader::kAbsent);
  Grid grid;
  grid.rows = table.rows.size();
  grid.cols = table.column_count();
  grid.values.reserve(grid.rows * grid.cols);
  for (std::size_t r = 0; r < grid.rows; ++r) {
    for (std::size_t c = 0; c < grid.cols; ++c) grid.values.push_back(table_number(table, r, c));
  }
  return grid;
}

std::vector<WeightedEdge> read_edge_list(const std::string& path) {
  CsvTable table = read_csv(path, CsvHeader::kAbsent);
  // A header is a first row with no number in it. The looser rule of CsvHeader::kAuto
  // (any non-number) would silently drop a first edge with a bad cost.
  bool has_header = true;
  for (const auto& field : table.rows.front()) {
    if (is_number(field)) has_header = false;
  }
  if (has_header) {
    table.header = std::move(table.rows.front());
    table.rows.erase(table.rows.begin());
    table.line_numbers.erase(table.line_numbers.begin());
  }
  if (table.column_count() != 3) {
    throw InputError(str(path, ": ", table.column_count(),
                         " columns, expected 3 (from,to,cost) in an edge list"));
  }
  if (table.rows.empty()) throw InputError(str(path, ": no edges after the header"));
  std::vector<WeightedEdge> edges;
  edges.reserve(table.rows.size());
  for (std::size_t row = 0; row < table.rows.size(); ++row) {
    edges.push_back({node_id(table, row, 0), node_id(table, row, 1), table_number(table, row, 2)});
  }
  return edges;
}

}  // namespace tessera::io
