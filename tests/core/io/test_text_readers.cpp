// Text and CSV readers: small files written here for every format quirk and error
// message ([text_readers]), the real files in ../shared/data against the facts in
// SOURCES.md ([shared_data]), and the data root's environment override ([data_root]).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "core/io/data_root.hpp"
#include "core/io/text_readers.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/shared_data.hpp"

namespace {
namespace fs = std::filesystem;
using tessera::InputError;
using namespace tessera::io;

// A fresh directory per test case, removed afterwards; the pid and a clock value keep
// concurrent ctest runs (one process per tag) apart.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ =
        fs::temp_directory_path() / ("tessera_text_readers_" + std::to_string(::getpid()) + "_" +
                                     std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Written in binary mode so that the bytes, line ends included, are exactly `content`.
  std::string write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

using Catch::Contains;

}  // namespace

// ---------------------------------------------------------------- text grids

TEST_CASE("text grid: LF file with leading spaces and a final newline", "[text_readers]") {
  TempDir dir;
  const std::string path =
      dir.write("g.txt", "   1.0e+00   2.5e-01  -3.0e+00\n   4.0e+00   5.0e+00   6.0e+00\n");
  const Grid grid = read_text_grid(path);
  REQUIRE(grid.rows == 2);
  REQUIRE(grid.cols == 3);
  REQUIRE(grid.values.size() == 6);
  CHECK(grid.at(0, 0) == 1.0);
  CHECK(grid.at(0, 1) == 0.25);
  CHECK(grid.at(0, 2) == -3.0);
  CHECK(grid.at(1, 2) == 6.0);
  CHECK_THROWS_AS(grid.at(2, 0), std::out_of_range);
  CHECK_THROWS_AS(grid.at(0, 3), std::out_of_range);
}

TEST_CASE("text grid: line ends, BOM, tabs and blank lines read the same", "[text_readers]") {
  TempDir dir;
  const std::string body_lf = "1 2 3\n4 5 6\n";
  const Grid expected = read_text_grid(dir.write("lf.txt", body_lf));
  const auto variant = GENERATE(as<std::string>{},
                                "1 2 3\r\n4 5 6\r\n",             // CRLF
                                "1 2 3\n4 5 6",                   // no final newline
                                "1 2 3\r\n4 5 6",                 // CRLF, no final newline
                                "1 2 3\r4 5 6\r",                 // old Mac CR
                                "1 2 3\n4 5 6\n\n\n",             // blank trailing lines
                                "1 2 3\r\n4 5 6\r\n \r\n\t\r\n",  // whitespace-only lines
                                "\xEF\xBB\xBF"
                                "1 2 3\n4 5 6\n",                 // UTF-8 BOM
                                "\n\n1\t2 \t3\n\n4   5\t6  \n");  // leading blanks, tabs
  CAPTURE(variant);
  const Grid grid = read_text_grid(dir.write("v.txt", variant));
  CHECK(grid.rows == expected.rows);
  CHECK(grid.cols == expected.cols);
  CHECK(grid.values == expected.values);
}

TEST_CASE("text grid: exact parsing of %e and long values", "[text_readers]") {
  TempDir dir;
  const Grid grid =
      read_text_grid(dir.write("g.txt", "1.0051536e-02 3.165940000000000055e+03 1e-310\n"));
  CHECK(grid.at(0, 0) == 1.0051536e-02);
  CHECK(grid.at(0, 1) == 3.165940000000000055e+03);
  CHECK(grid.at(0, 2) > 0.0);  // a denormal is a value, not an error
}

TEST_CASE("text grid: missing, unreadable and empty files", "[text_readers]") {
  TempDir dir;
  const std::string missing = dir.path() + "/nope.txt";
  REQUIRE_THROWS_AS(read_text_grid(missing), InputError);
  REQUIRE_THROWS_WITH(read_text_grid(missing), Contains(missing) && Contains("not found"));
  REQUIRE_THROWS_WITH(read_text_grid(dir.path()),
                      Contains(dir.path()) && Contains("is a directory"));

  if (::geteuid() != 0) {  // root reads anything, so the check means nothing there
    const std::string locked = dir.write("locked.txt", "1\n");
    fs::permissions(locked, fs::perms::none);
    REQUIRE_THROWS_WITH(read_text_grid(locked), Contains(locked) && Contains("cannot be opened"));
  }

  const std::string empty = dir.write("empty.txt", "");
  REQUIRE_THROWS_WITH(read_text_grid(empty), Contains(empty) && Contains("empty"));
  const std::string bom_only = dir.write("bom.txt", "\xEF\xBB\xBF");
  REQUIRE_THROWS_WITH(read_text_grid(bom_only), Contains(bom_only) && Contains("empty"));
  const std::string blank = dir.write("blank.txt", "\n  \r\n\t\n");
  REQUIRE_THROWS_WITH(read_text_grid(blank), Contains(blank) && Contains("only blank lines"));
  const std::string utf16 = dir.write("utf16.txt", std::string("\xFF\xFE"
                                                               "1\0 \0",
                                                               6));
  REQUIRE_THROWS_WITH(read_text_grid(utf16), Contains(utf16) && Contains("UTF-16"));
}

TEST_CASE("text grid: ragged rows name the line and the expected length", "[text_readers]") {
  TempDir dir;
  // Blank line 2 still counts, so the short row is line 4 of the file.
  const std::string path = dir.write("ragged.txt", "1 2 3\n\n4 5 6\n7 8\n");
  REQUIRE_THROWS_AS(read_text_grid(path), InputError);
  REQUIRE_THROWS_WITH(read_text_grid(path),
                      Contains(path + ":line 4: 2 values, expected 3 as on line 1"));

  const std::string longer = dir.write("longer.txt", "\n1 2\r\n3 4 5\r\n");
  REQUIRE_THROWS_WITH(read_text_grid(longer),
                      Contains(longer + ":line 3: 3 values, expected 2 as on line 2"));
}

TEST_CASE("text grid: non-numbers name the line, column and text", "[text_readers]") {
  TempDir dir;
  const std::string path = dir.write("bad.txt", "1 2 3 4 5\n1 2 3 4 5\n1 2 3 4 abc\n");
  REQUIRE_THROWS_AS(read_text_grid(path), InputError);
  REQUIRE_THROWS_WITH(read_text_grid(path),
                      Contains(path + ":line 3, column 5: 'abc' is not a number"));

  const auto [text, why] = GENERATE(table<std::string, std::string>({{"nan", "NaN"},
                                                                     {"NaN", "NaN"},
                                                                     {"inf", "infinity"},
                                                                     {"-Infinity", "infinity"},
                                                                     {"1e999", "overflows"},
                                                                     {"1.5x", ""},
                                                                     {"1,5", ""},
                                                                     {"--1", ""}}));
  CAPTURE(text);
  const std::string file = dir.write("one.txt", "1 2\n3 " + text + "\n");
  REQUIRE_THROWS_WITH(
      read_text_grid(file),
      Contains(file + ":line 2, column 2: '" + text + "' is not a number") && Contains(why));
}

// ---------------------------------------------------------------- CSV tables

TEST_CASE("csv: header auto-detection", "[text_readers]") {
  TempDir dir;
  SECTION("named header (METR-LA style)") {
    const CsvTable t =
        read_csv(dir.write("m.csv",
                           "index,sensor_id,latitude,longitude\n0,773869,34.15497,-118.31829\n"
                           "1,767541,34.11621,-118.23799"));
    REQUIRE(t.header == std::vector<std::string>{"index", "sensor_id", "latitude", "longitude"});
    REQUIRE(t.rows.size() == 2);
    CHECK(t.line_numbers == std::vector<std::size_t>{2, 3});
    CHECK(t.column_count() == 4);
    CHECK(t.column_index("latitude") == 2);
    CHECK(t.numeric_column("longitude") == std::vector<double>{-118.31829, -118.23799});
    CHECK(t.text_column(1) == std::vector<std::string>{"773869", "767541"});
  }
  SECTION("header whose first name is empty, with a text column (station style)") {
    const CsvTable t = read_csv(
        dir.write("s.csv",
                  ",ID,Fwy,Dir,District,Latitude,Longitude\n0,716939,5,S,7,34.041407,-118.2\n"
                  "1,759700,5,N,7,34.020961,-118.1\n"));
    REQUIRE(t.header.size() == 7);
    CHECK(t.header[0].empty());
    CHECK(t.column_index("") == 0);
    CHECK(t.column_index("Dir") == 3);
    CHECK(t.text_column(t.column_index("Dir")) == std::vector<std::string>{"S", "N"});
    CHECK(t.numeric_column("Latitude") == std::vector<double>{34.041407, 34.020961});
  }
  SECTION("all-numeric first row is data") {
    const CsvTable t = read_csv(dir.write("n.csv", "1,2\n3,4\n"));
    CHECK(t.header.empty());
    REQUIRE(t.rows.size() == 2);
    CHECK(t.line_numbers == std::vector<std::size_t>{1, 2});
    CHECK(t.numeric_column(1) == std::vector<double>{2, 4});
  }
  SECTION("an empty field in the first data row does not make it a header") {
    const CsvTable t = read_csv(dir.write("hole.csv", "1,,3\n4,5,6\n"));
    CHECK(t.header.empty());
    CHECK(t.rows.size() == 2);
  }
  SECTION("kPresent and kAbsent override the guess") {
    const std::string numeric = dir.write("p.csv", "10,20\n1,2\n");
    const CsvTable present = read_csv(numeric, CsvHeader::kPresent);
    CHECK(present.header == std::vector<std::string>{"10", "20"});
    CHECK(present.rows.size() == 1);
    CHECK(present.line_numbers == std::vector<std::size_t>{2});
    const CsvTable absent = read_csv(dir.write("a.csv", "a,b\n1,2\n"), CsvHeader::kAbsent);
    CHECK(absent.header.empty());
    CHECK(absent.rows.size() == 2);
  }
}

TEST_CASE("csv: line ends, BOM, blank lines and quoted names read the same", "[text_readers]") {
  TempDir dir;
  const auto variant = GENERATE(as<std::string>{}, "from,to,cost\n73,5,352.6\n5,154,347.2\n",
                                "from,to,cost\r\n73,5,352.6\r\n5,154,347.2\r\n",  // CRLF
                                "from,to,cost\r\n73,5,352.6\r\n5,154,347.2",      // no final
                                "from,to,cost\n73,5,352.6\n5,154,347.2\n\n \n",   // blank tail
                                "\xEF\xBB\xBF"
                                "from,to,cost\r\n73,5,352.6\r\n5,154,347.2\r\n",
                                "\"from\",\"to\",\"cost\"\n73,\"5\", 352.6 \n5,154,347.2\n");
  CAPTURE(variant);
  const CsvTable t = read_csv(dir.write("v.csv", variant));
  // With a BOM the first name must still be exactly "from".
  REQUIRE(t.header == std::vector<std::string>{"from", "to", "cost"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.line_numbers == std::vector<std::size_t>{2, 3});
  CHECK(t.numeric_column("from") == std::vector<double>{73, 5});
  CHECK(t.numeric_column("to") == std::vector<double>{5, 154});
  CHECK(t.numeric_column("cost") == std::vector<double>{352.6, 347.2});
}

TEST_CASE("csv: quoted fields and other delimiters", "[text_readers]") {
  TempDir dir;
  SECTION("quoted fields keep delimiters and doubled quotes") {
    const CsvTable q = read_csv(dir.write("q.csv", "name,note\n\"a,b\",\"say \"\"hi\"\"\"\n"));
    REQUIRE(q.rows.size() == 1);
    CHECK(q.rows[0] == std::vector<std::string>{"a,b", "say \"hi\""});
  }
  SECTION("other delimiters and a trailing delimiter") {
    const CsvTable s = read_csv(dir.write("s.csv", "a;b;\n1;2;\n"), CsvHeader::kAuto, ';');
    CHECK(s.header == std::vector<std::string>{"a", "b", ""});
    CHECK(s.rows[0] == std::vector<std::string>{"1", "2", ""});
    const CsvTable tab = read_csv(dir.write("t.tsv", "x\ty\n1.5\t-2\n"), CsvHeader::kAuto, '\t');
    CHECK(tab.numeric_column("y") == std::vector<double>{-2});
  }
}

TEST_CASE("csv: errors name the file, line and column", "[text_readers]") {
  TempDir dir;
  SECTION("missing and empty files") {
    const std::string missing = dir.path() + "/missing.csv";
    REQUIRE_THROWS_WITH(read_csv(missing), Contains(missing) && Contains("not found"));
    const std::string empty = dir.write("e.csv", "");
    REQUIRE_THROWS_WITH(read_csv(empty), Contains(empty) && Contains("empty"));
    const std::string blank = dir.write("b.csv", "\r\n\r\n");
    REQUIRE_THROWS_WITH(read_csv(blank), Contains(blank) && Contains("empty"));
  }
  SECTION("ragged rows") {
    const std::string path = dir.write("r.csv", "a,b,c\r\n1,2,3\r\n\r\n4,5\r\n");
    REQUIRE_THROWS_AS(read_csv(path), InputError);
    REQUIRE_THROWS_WITH(read_csv(path),
                        Contains(path + ":line 4: 2 fields, expected 3 as on line 1"));
  }
  SECTION("unclosed quote") {
    const std::string path = dir.write("u.csv", "a,b\n1,\"2\n");
    REQUIRE_THROWS_WITH(read_csv(path), Contains(path + ":line 2, column 2") && Contains("quote"));
  }
  SECTION("non-numbers in a numeric column") {
    const std::string path = dir.write("n.csv", "a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,abc\n");
    const CsvTable t = read_csv(path);
    REQUIRE_THROWS_AS(t.numeric_column(4), InputError);
    REQUIRE_THROWS_WITH(t.numeric_column(4),
                        Contains(path + ":line 3, column 5 (e): 'abc' is not a number"));
    const std::string nameless = dir.write("x.csv", "1,2\n3,\n");
    const CsvTable hole = read_csv(nameless);
    REQUIRE_THROWS_WITH(hole.numeric_column(1),
                        Contains(nameless + ":line 2, column 2: '' is not a number"));
    const CsvTable inf = read_csv(dir.write("i.csv", "v\n1\ninf\n"));
    REQUIRE_THROWS_WITH(inf.numeric_column("v"), Contains(":line 3, column 1 (v): 'inf'"));
  }
  SECTION("unknown column names list what is there") {
    const std::string path = dir.write("c.csv", ",ID,Latitude\n0,1,2\n");
    const CsvTable t = read_csv(path);
    REQUIRE_THROWS_AS(t.column_index("latitude"), InputError);
    REQUIRE_THROWS_WITH(t.column_index("latitude"),
                        Contains(path) && Contains("'latitude'") && Contains("'ID', 'Latitude'"));
    REQUIRE_THROWS_WITH(t.numeric_column(3), Contains(path) && Contains("out of range"));
    const std::string bare = dir.write("bare.csv", "1,2\n");
    REQUIRE_THROWS_WITH(read_csv(bare).column_index("x"), Contains(bare) && Contains("no header"));
  }
}

TEST_CASE("csv matrix: numbers only, any shape", "[text_readers]") {
  TempDir dir;
  const Grid m = read_csv_matrix(dir.write("m.csv",
                                           "\xEF\xBB\xBF"
                                           "0.0e+00,1.5e+00,2\r\n3,4,5.000000000000000000e+00"));
  REQUIRE(m.rows == 2);
  REQUIRE(m.cols == 3);
  CHECK(m.at(0, 1) == 1.5);
  CHECK(m.at(1, 2) == 5.0);

  const std::string header = dir.write("h.csv", "a,b\n1,2\n");
  REQUIRE_THROWS_WITH(read_csv_matrix(header),
                      Contains(header + ":line 1, column 1: 'a' is not a number"));
  const std::string ragged = dir.write("r.csv", "1,2\n3,4\n5\n");
  REQUIRE_THROWS_WITH(read_csv_matrix(ragged),
                      Contains(ragged + ":line 3: 1 fields, expected 2 as on line 1"));
}

// ---------------------------------------------------------------- edge lists

TEST_CASE("edge list: header optional, duplicates kept", "[text_readers]") {
  TempDir dir;
  const std::vector<WeightedEdge> with_header =
      read_edge_list(dir.write("e.csv", "from,to,cost\r\n9,153,310.6\r\n9,153,310.6\r\n1,0,2\r\n"));
  REQUIRE(with_header.size() == 3);
  CHECK(with_header[0].from == 9);
  CHECK(with_header[0].to == 153);
  CHECK(with_header[0].weight == 310.6);
  CHECK(with_header[1].from == 9);  // the duplicate stays
  CHECK(with_header[2].to == 0);

  const std::vector<WeightedEdge> bare = read_edge_list(dir.write("b.csv", "0,1,0.5\n2,3.0,-1\n"));
  REQUIRE(bare.size() == 2);
  CHECK(bare[0].weight == 0.5);
  CHECK(bare[1].to == 3);  // "3.0" is an integer id as pandas writes it
  CHECK(bare[1].weight == -1);
}

TEST_CASE("edge list: bad ids, costs and shapes", "[text_readers]") {
  TempDir dir;
  const std::string negative = dir.write("n.csv", "from,to,cost\n1,2,3\n-4,5,6\n");
  REQUIRE_THROWS_AS(read_edge_list(negative), InputError);
  REQUIRE_THROWS_WITH(read_edge_list(negative),
                      Contains(negative + ":line 3, column 1 (from): node id '-4' is negative"));
  const std::string fraction = dir.write("f.csv", "1,2.5,3\n");
  REQUIRE_THROWS_WITH(read_edge_list(fraction),
                      Contains(fraction + ":line 1, column 2: node id '2.5' is not an integer"));
  // A first row with some numbers is data, so a bad cost there is reported, not skipped.
  const std::string cost = dir.write("c.csv", "1,2,far\n3,4,5\n");
  REQUIRE_THROWS_WITH(read_edge_list(cost),
                      Contains(cost + ":line 1, column 3: 'far' is not a number"));
  const std::string columns = dir.write("k.csv", "from,to\n1,2\n");
  REQUIRE_THROWS_WITH(read_edge_list(columns),
                      Contains(columns) && Contains("2 columns, expected 3"));
  const std::string header_only = dir.write("h.csv", "from,to,cost\r\n");
  REQUIRE_THROWS_WITH(read_edge_list(header_only), Contains(header_only) && Contains("no edges"));
  const std::string missing = dir.path() + "/none.csv";
  REQUIRE_THROWS_WITH(read_edge_list(missing), Contains(missing) && Contains("not found"));
}

// ---------------------------------------------------------------- real data

namespace {

std::pair<double, double> min_max(const std::vector<double>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return {*lo, *hi};
}

}  // namespace

TEST_CASE("shared data: NGSIM US-80 grids are 81 x 180 in the stated ranges", "[shared_data]") {
  // SOURCES.md rounds the ranges; the files hold e.g. density 0.0010051536..0.23922657.
  const auto [name, lo, hi] = GENERATE(table<std::string, double, double>(
      {{"Density", 0.001, 0.2395}, {"Velocity", 1.2, 82.0}, {"Flow", 0.01, 3.6}}));
  CAPTURE(name);
  const std::optional<std::string> path =
      tessera::testing::shared_data_file("traffic/NGSIM_US80_4pm_" + name + "_Data.txt");
  if (!path) return;
  const Grid grid = read_text_grid(*path);
  CHECK(grid.rows == 81);
  CHECK(grid.cols == 180);
  const auto [min, max] = min_max(grid.values);
  CHECK(min >= lo);
  CHECK(max <= hi);
  CHECK(max > 0.95 * hi);
}

TEST_CASE("shared data: NGSIM density extremes match SOURCES.md", "[shared_data]") {
  const auto path = tessera::testing::shared_data_file("traffic/NGSIM_US80_4pm_Density_Data.txt");
  if (!path) return;
  const auto [min, max] = min_max(read_text_grid(*path).values);
  CHECK(min == Approx(0.001).epsilon(0.01));
  CHECK(max == Approx(0.239).epsilon(0.01));
}

TEST_CASE("shared data: US-101 speeds are 115 x 864, 3.2..79.6 mph", "[shared_data]") {
  const auto path =
      tessera::testing::shared_data_file("traffic/US101_Rain_Feb17_Velocity_Data.txt");
  if (!path) return;
  const Grid grid = read_text_grid(*path);
  CHECK(grid.rows == 115);
  CHECK(grid.cols == 864);
  const auto [min, max] = min_max(grid.values);
  CHECK(min == Approx(3.2));
  CHECK(max == Approx(79.6));
}

TEST_CASE("shared data: PeMSD7(M) distances are 228 x 228, symmetric, zero diagonal",
          "[shared_data]") {
  const auto path = tessera::testing::shared_data_file("graphs/PeMSD7M_W_228.csv");
  if (!path) return;
  const Grid w = read_csv_matrix(*path);
  REQUIRE(w.rows == 228);
  REQUIRE(w.cols == 228);
  std::size_t asymmetric = 0, nonzero_diagonal = 0, negative = 0;
  for (std::size_t i = 0; i < w.rows; ++i) {
    if (w.at(i, i) != 0.0) ++nonzero_diagonal;
    for (std::size_t j = 0; j < w.cols; ++j) {
      if (w.at(i, j) != w.at(j, i)) ++asymmetric;
      if (w.at(i, j) < 0.0) ++negative;
    }
  }
  CHECK(asymmetric == 0);
  CHECK(nonzero_diagonal == 0);
  CHECK(negative == 0);
  CHECK(w.at(0, 1) == 3.165940000000000055e+03);  // first off-diagonal entry, read exactly
}

TEST_CASE("shared data: PeMSD7(M) station table has 228 stations", "[shared_data]") {
  const auto path = tessera::testing::shared_data_file("graphs/PeMSD7M_Station_Info.csv");
  if (!path) return;
  const CsvTable t = read_csv(*path);
  REQUIRE(t.header ==
          std::vector<std::string>{"", "ID", "Fwy", "Dir", "District", "Latitude", "Longitude"});
  CHECK(t.rows.size() == 228);
  const auto [lat_min, lat_max] = min_max(t.numeric_column("Latitude"));
  CHECK(lat_min > 33.0);  // Los Angeles (District 7)
  CHECK(lat_max < 35.0);
  const std::vector<std::string> dirs = t.text_column(t.column_index("Dir"));
  const std::set<std::string> distinct(dirs.begin(), dirs.end());
  CHECK(distinct == std::set<std::string>{"E", "N", "S", "W"});
  CHECK(t.numeric_column(0).back() == 227);
}

TEST_CASE("shared data: METR-LA has 207 sensor locations", "[shared_data]") {
  const auto path = tessera::testing::shared_data_file("graphs/METR-LA_sensor_locations.csv");
  if (!path) return;
  const CsvTable t = read_csv(*path);  // this file has no final newline
  REQUIRE(t.header == std::vector<std::string>{"index", "sensor_id", "latitude", "longitude"});
  CHECK(t.rows.size() == 207);
  CHECK(t.line_numbers.back() == 208);
  const auto [lon_min, lon_max] = min_max(t.numeric_column("longitude"));
  CHECK(lon_min > -119.0);
  CHECK(lon_max < -118.0);
}

TEST_CASE("shared data: PEMS04 and PEMS08 distance edge lists", "[shared_data]") {
  const auto [name, edges, distinct_edges, nodes, max_id] =
      GENERATE(table<std::string, std::size_t, std::size_t, std::size_t, long long>(
          {{"PEMS04", 340, 340, 307, 306}, {"PEMS08", 295, 277, 170, 169}}));
  CAPTURE(name);
  const auto path = tessera::testing::shared_data_file("graphs/" + name + "_distance.csv");
  if (!path) return;
  const std::vector<WeightedEdge> list = read_edge_list(*path);
  CHECK(list.size() == edges);
  // PEMS08's 18 extra rows repeat earlier rows exactly (same pair, same cost).
  std::set<std::tuple<long long, long long, double>> rows;
  std::set<long long> ids;
  double min_cost = list.front().weight;
  for (const WeightedEdge& e : list) {
    rows.insert({e.from, e.to, e.weight});
    ids.insert(e.from);
    ids.insert(e.to);
    min_cost = std::min(min_cost, e.weight);
  }
  CHECK(rows.size() == distinct_edges);
  CHECK(list.size() - rows.size() == edges - distinct_edges);
  CHECK(ids.size() == nodes);
  CHECK(*ids.begin() == 0);
  CHECK(*ids.rbegin() == max_id);  // ids are 0..n-1 with every node on some edge
  CHECK(min_cost > 0.0);
}

// ---------------------------------------------------------------- data root

namespace {

// Sets or clears TESSERA_DATA for one test and puts the old value back afterwards,
// failure or not, so later tests still find the shared data.
class ScopedDataEnv {
 public:
  explicit ScopedDataEnv(const std::optional<std::string>& value) {
    if (const char* old = std::getenv("TESSERA_DATA")) old_ = old;
    if (value) {
      ::setenv("TESSERA_DATA", value->c_str(), 1);
    } else {
      ::unsetenv("TESSERA_DATA");
    }
  }
  ~ScopedDataEnv() {
    if (old_) {
      ::setenv("TESSERA_DATA", old_->c_str(), 1);
    } else {
      ::unsetenv("TESSERA_DATA");
    }
  }
  ScopedDataEnv(const ScopedDataEnv&) = delete;
  ScopedDataEnv& operator=(const ScopedDataEnv&) = delete;

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("data root: TESSERA_DATA must name a directory", "[data_root]") {
  TempDir dir;
  SECTION("a regular file") {
    const std::string file = dir.write("not_a_dir.txt", "x\n");
    ScopedDataEnv env(file);
    REQUIRE_THROWS_AS(find_data_root(""), InputError);
    REQUIRE_THROWS_WITH(find_data_root(""), Contains("TESSERA_DATA") && Contains(file));
    REQUIRE_THROWS_WITH(resolve_data_file("", "traffic/x.txt"), Contains("TESSERA_DATA"));
  }
  SECTION("a path that does not exist") {
    const std::string gone = dir.path() + "/gone";
    ScopedDataEnv env(gone);
    REQUIRE_THROWS_WITH(find_data_root(""), Contains("TESSERA_DATA") && Contains(gone));
  }
  SECTION("an existing directory is used, and the configured key wins over it") {
    ScopedDataEnv env(dir.path());
    const std::optional<std::string> root = find_data_root("");
    REQUIRE(root);
    CHECK(fs::equivalent(*root, dir.path()));
    dir.write("here.txt", "1\n");
    CHECK(fs::equivalent(resolve_data_file("", "here.txt"), dir.path() + "/here.txt"));
    const std::string configured = dir.path() + "/configured";
    fs::create_directories(configured);
    CHECK(fs::equivalent(*find_data_root(configured), configured));
  }
}
