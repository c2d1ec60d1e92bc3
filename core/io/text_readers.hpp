#pragma once
// Readers for the plain-text data files that feed the models: whitespace-separated
// number grids (NGSIM/PeMS traffic), CSV tables (station lists), dense CSV matrices
// (PeMSD7 distances) and from,to,cost edge lists (PEMS0x). They accept what such files
// look like in the wild: LF, CRLF or CR line ends, a UTF-8 byte order mark, no final
// newline, blank lines (skipped wherever they are, but still counted so that line
// numbers in messages match a text editor's).
//
// Every problem is a tessera::InputError whose message starts with the file path and,
// where there is one, `path:line N` (1-based) and `column M` (1-based, as a spreadsheet
// counts). A number is what std::strtod takes whole and finite: "inf", "nan", "1e999",
// "1.5x" and empty fields are rejected, so a hole in the data cannot pass silently.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessera::io {

// A dense matrix of doubles, row-major.
struct Grid {
  std::size_t rows = 0, cols = 0;
  std::vector<double> values;  // rows * cols

  // Checked: an index past the grid is the caller's bug, so std::out_of_range.
  double at(std::size_t r, std::size_t c) const {
    if (r >= rows || c >= cols) throw std::out_of_range("Grid::at: index past the grid");
    return values[r * cols + c];
  }
};

// Whitespace-separated numbers, one grid row per non-blank line; every row must have
// the same number of values.
Grid read_text_grid(const std::string& path);

// A CSV file as text. Fields may be quoted ("a,b" and "" for a quote), but a quoted
// field cannot span lines. Fields are kept as written, surrounding spaces included;
// numeric_column ignores spaces and tabs around a number.
struct CsvTable {
  std::vector<std::string> header;             // empty if the file has none
  std::vector<std::vector<std::string>> rows;  // all of the same length
  std::string path;
  std::vector<std::size_t> line_numbers;  // file line of each row, 1-based

  // Number of fields per row (from the header when there are no rows).
  std::size_t column_count() const;

  // Index of the first column named `name` in the header. InputError naming the file
  // and the available columns (or saying there is no header).
  std::size_t column_index(const std::string& name) const;

  // The column as numbers, 0-based index. InputError naming file:line, the column and
  // the offending text when a field is not a number.
  std::vector<double> numeric_column(std::size_t index) const;
  std::vector<double> numeric_column(const std::string& name) const;
  std::vector<std::string> text_column(std::size_t index) const;
};

// kAuto: the first non-blank row is a header iff one of its non-empty fields is not a
// number (empty fields prove nothing: a data row may have holes).
enum class CsvHeader { kAuto, kPresent, kAbsent };

CsvTable read_csv(const std::string& path, CsvHeader header = CsvHeader::kAuto,
                  char delimiter = ',');

// An all-numeric CSV file with no header (a header row is reported as text that is not
// a number) as a Grid; the matrix need not be square.
Grid read_csv_matrix(const std::string& path);

struct WeightedEdge {
  long long from, to;
  double weight;
};

// A CSV edge list `from,to,cost` (header optional, columns taken by position). Node ids
// must be non-negative integers ("73" or "73.0"); weights any finite number. Duplicate
// and reversed edges are kept as written: whether to merge or symmetrise is the
// caller's decision.
std::vector<WeightedEdge> read_edge_list(const std::string& path);

}  // namespace tessera::io
