#pragma once
// The results file of a run: one HDF5 file written collectively with parallel HDF5.
//   /config            the resolved configuration as TOML text, with attributes
//   /metrics/<name>    extendible (n x 2) series of (x, value) rows, x = step or time
//   /timings/<region>  [min, mean, max] seconds over ranks, attribute `calls`
//   /fields/time       output times; /fields/<name> (steps x global size [x components]),
//                      each rank writing its hyperslab of the global ordering
//   any other path     through write_root_array / write_distributed_array
// The file is created as <path>.partial and renamed to <path> by close(), so a crash
// never leaves a file that looks finished. Every member function is collective.
// Writing an object or attribute that exists replaces it (a resumed run writes again what
// it wrote before its checkpoint, such as coordinates and attributes).
// Checkpoints: snapshot() copies the file as it stands; a ResultsFile made with
// `resume_from` continues from such a copy (metric rows and field steps counted from it).
#include <mpi.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/runtime/timers.hpp"

namespace tessera::io {

class ResultsFile {
 public:
  // Creates <path>.partial; with `resume_from` (a snapshot() copy), <path>.partial starts
  // as that copy and the run appends to it.
  ResultsFile(MPI_Comm comm, const std::string& path, const std::string& resume_from = "");
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  const std::string& path() const { return path_; }
  std::string partial_path() const { return path_ + ".partial"; }

  void write_config(const std::string& toml_text,
                    const std::map<std::string, std::string>& attributes);
  // Same arguments on every rank; rank 0 writes.
  void append_metric(const std::string& name, double x, double value);
  void write_timings(const std::vector<runtime::RegionStats>& regions);

  // Starts output step k (k = 0, 1, ...) at `time`; fields written until the next call
  // belong to it.
  void begin_field_step(double time);
  // This rank's `local` values (count x components, row-major) go to rows
  // [offset, offset + count) of /fields/<name> at the current step.
  void write_field(const std::string& name, std::int64_t global_size, std::int64_t offset,
                   const std::vector<double>& local, int components = 1);

  // The same for a rank whose rows are scattered over the global ordering (the owned
  // nodes of a partitioned mesh): local row k goes to global row global_rows[k].
  void write_field_rows(const std::string& name, std::int64_t global_size,
                        const std::vector<std::int64_t>& global_rows,
                        const std::vector<double>& local, int components = 1);

  // A dataset at `dataset_path` ("/detectors/density") with shape `dims`; rank 0's data
  // is written, other ranks' `data` is ignored.
  void write_root_array(const std::string& dataset_path, const std::vector<std::uint64_t>& dims,
                        const std::vector<double>& data);
  // Appends rows to the extendible dataset `dataset_path`, (rows x columns), or 1-D when
  // `columns` is 0, creating it on first use; rank 0's `values` (whole rows) are written,
  // other ranks' are ignored. A resumed file continues after the rows it holds. For series
  // written as they are produced (detector readings), in blocks of rows.
  void append_rows(const std::string& dataset_path, std::uint64_t columns,
                   const std::vector<double>& values);
  // A 1-D (x components) dataset assembled from every rank's slice of a global ordering.
  void write_distributed_array(const std::string& dataset_path, std::int64_t global_size,
                               std::int64_t offset, const std::vector<double>& local,
                               int components = 1);

  // Attributes on an existing object ("/" for the file); same value on every rank.
  void set_attribute(const std::string& object_path, const std::string& name,
                     const std::string& value);
  void set_attribute(const std::string& object_path, const std::string& name, double value);

  // Copies the file as written so far to `destination` (closed and reopened around the
  // copy, so the copy is a complete HDF5 file). Rank 0 copies.
  void snapshot(const std::string& destination);

  // Rows of /metrics/<name> and output steps written so far (tests, resumed runs).
  std::int64_t metric_rows(const std::string& name) const;
  std::int64_t field_steps() const { return field_step_ + 1; }

  // Flushes, closes and renames <path>.partial to <path>.
  void close();
  bool is_open() const { return file_ >= 0; }

 private:
  MPI_Comm comm_;
  // A duplicate of comm_ on which the destructor of a file left open (a failed run) asks
  // whether every rank is there to close it.
  MPI_Comm arrival_comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  std::string path_;
  void open_existing(const std::string& file_path);
  // After H5Fcreate/H5Fopen: InputError(message) on every rank unless all opened it.
  void require_open_everywhere(const std::string& message);
  void count_existing_rows();
  std::int64_t rows_of(const std::string& dataset_path) const;  // first dimension

  std::int64_t file_ = -1;  // hid_t, kept as int64 so this header needs no hdf5.h
  std::int64_t field_step_ = -1;
  std::map<std::string, std::int64_t> metric_rows_;
};

// The HDF5 library version, e.g. "1.10.8", and whether it was built with MPI.
std::string hdf5_version();
bool hdf5_is_parallel();

}  // namespace tessera::io
