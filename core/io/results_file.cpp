#include "core/io/results_file.hpp"

#include <hdf5.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "core/io/hdf5_path.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::io {
namespace {

// Throws with the HDF5 call that failed; HDF5's own error stack is silenced in
// the constructor so that users see one message. Every call of this file is made by all
// ranks of the file's communicator, and a call can fail on some ranks only (a full disk
// is seen by the rank that writes metadata): the ranks agree on the outcome, so that all
// throw together instead of the others going on into the next collective and hanging.
// Set once a collective HDF5 call failed in this process (a full disk): HDF5's own
// collectives inside a later close can then deadlock between ranks, so failed runs leave
// their .partial file unclosed (runtime::Runtime turns HDF5's exit-time close off).
bool g_collective_io_failed = false;

void agree(MPI_Comm comm, bool ok, const char* what, const std::string& target) {
  if (!ok) g_collective_io_failed = true;
  int failed = ok ? 0 : 1;
  int any = 0;
  // Non-blocking on every rank (blocking and non-blocking collectives do not match): a
  // rank whose call failed waits a while only, since the others may be stuck inside the
  // same HDF5 call (in its own collectives, which this rank left): then it throws alone
  // and the job is aborted (runtime::run_or_abort) rather than left hanging.
  MPI_Request request;
  MPI_Iallreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm, &request);
  if (ok) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  } else {
    const double start = MPI_Wtime();
    int done = 0;
    while (!done) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (!done && MPI_Wtime() - start > 10.0) {
        throw std::runtime_error(str("HDF5: ", what, " failed for ", target,
                                     " on this rank, while the others are still inside it"));
      }
    }
  }
  if (!any) return;
  g_collective_io_failed = true;
  throw std::runtime_error(
      str("HDF5: ", what, " failed for ", target, ok ? " (on another rank)" : ""));
}

hid_t checked(MPI_Comm comm, hid_t id, const char* what, const std::string& target) {
  agree(comm, id >= 0, what, target);
  return id;
}

void checked_status(MPI_Comm comm, herr_t status, const char* what, const std::string& target) {
  agree(comm, status >= 0, what, target);
}

// Closes an HDF5 handle at scope exit.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() {
    if (id_ >= 0) closer_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  Closer closer_;
};

hid_t collective_transfer() {
  hid_t plist = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(plist, H5FD_MPIO_COLLECTIVE);
  return plist;
}

// HDF5 wants a buffer even where a rank selects nothing.
const double* buffer_or_dummy(const std::vector<double>& data) {
  static const double dummy = 0.0;
  return data.empty() ? &dummy : data.data();
}

hid_t intermediate_groups() {
  hid_t plist = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(plist, 1);
  return plist;
}

std::string sanitized(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == '/') c = '_';
  }
  return out;
}

// The collective write every writer ends with: from ranks that `participate`, the block
// of shape `count` at `start` in the dataset (row-major `data`), or, given `elements`, the
// listed points (`rank` coordinates each); nothing from the other ranks.
void write_block(MPI_Comm comm, hid_t dataset, const std::string& path, int rank,
                 const hsize_t* start, const hsize_t* count, bool participate, const double* data,
                 const std::vector<hsize_t>* elements = nullptr) {
  Handle file_space(H5Dget_space(dataset), H5Sclose);
  Handle memory_space(H5Screate_simple(rank, count, nullptr), H5Sclose);
  if (participate && elements != nullptr) {
    H5Sselect_elements(file_space.get(), H5S_SELECT_SET, elements->size() / rank, elements->data());
  } else if (participate) {
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  } else {
    H5Sselect_none(file_space.get());
    H5Sselect_none(memory_space.get());
  }
  Handle transfer(collective_transfer(), H5Pclose);
  checked_status(comm,
                 H5Dwrite(dataset, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(),
                          transfer.get(), data),
                 "H5Dwrite", path);
}

// Writes one row (or this rank's block of it) of an extendible dataset whose first
// dimension counts rows (output steps, metric samples): creates the dataset on first use,
// grows it to `row` + 1 rows, and writes the block of shape `block` at `start` within
// the row. Ranks that do not `participate` select nothing. Collective.
// With `scattered_rows`, the block is instead one entry (of row_dims[1] components) per
// listed index of the row's first dimension, in that order: ranks that own scattered
// nodes of a partitioned mesh write them in the global ordering.
void write_extendible_row(MPI_Comm comm, hid_t file, const std::string& path,
                          const std::vector<hsize_t>& row_dims, std::int64_t row,
                          const std::vector<hsize_t>& start, const std::vector<hsize_t>& block,
                          bool participate, const double* data,
                          const std::vector<std::int64_t>* scattered_rows = nullptr) {
  const int rank = 1 + static_cast<int>(row_dims.size());
  std::vector<hsize_t> dims = {0};
  std::vector<hsize_t> max_dims = {H5S_UNLIMITED};
  dims.insert(dims.end(), row_dims.begin(), row_dims.end());
  max_dims.insert(max_dims.end(), row_dims.begin(), row_dims.end());
  hid_t dataset = -1;
  if (!hdf5_path_exists(file, path)) {
    // Chunks of at most ~128k values: whole small rows many at a time, big rows in pieces.
    std::vector<hsize_t> chunk = dims;
    hsize_t row_values = 1;
    for (auto d : row_dims) row_values *= std::max<hsize_t>(d, 1);
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(256, (1 << 17) / row_values));
    if (!row_dims.empty()) {
      hsize_t rest = row_values / std::max<hsize_t>(row_dims[0], 1);
      chunk[1] = std::max<hsize_t>(1, std::min<hsize_t>(row_dims[0], (1 << 17) / rest));
    }
    Handle space(H5Screate_simple(rank, dims.data(), max_dims.data()), H5Sclose);
    Handle create(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(create.get(), rank, chunk.data());
    Handle links(intermediate_groups(), H5Pclose);
    dataset = checked(comm,
                      H5Dcreate2(file, path.c_str(), H5T_NATIVE_DOUBLE, space.get(), links.get(),
                                 create.get(), H5P_DEFAULT),
                      "H5Dcreate2", path);
  } else {
    dataset = checked(comm, H5Dopen2(file, path.c_str(), H5P_DEFAULT), "H5Dopen2", path);
  }
  Handle guard(dataset, H5Dclose);
  std::vector<hsize_t> new_dims = dims;
  new_dims[0] = static_cast<hsize_t>(row + 1);
  checked_status(comm, H5Dset_extent(dataset, new_dims.data()), "H5Dset_extent", path);
  std::vector<hsize_t> file_start = {static_cast<hsize_t>(row)};
  std::vector<hsize_t> count = {1};
  file_start.insert(file_start.end(), start.begin(), start.end());
  count.insert(count.end(), block.begin(), block.end());
  if (participate && scattered_rows != nullptr) {
    const hsize_t components = row_dims.size() > 1 ? row_dims[1] : 1;
    std::vector<hsize_t> coordinates;
    coordinates.reserve(scattered_rows->size() * components * rank);
    for (const std::int64_t r : *scattered_rows) {
      for (hsize_t c = 0; c < components; ++c) {
        coordinates.push_back(static_cast<hsize_t>(row));
        coordinates.push_back(static_cast<hsize_t>(r));
        if (rank == 3) coordinates.push_back(c);
      }
    }
    write_block(comm, dataset, path, rank, file_start.data(), count.data(), true, data,
                &coordinates);
    return;
  }
  write_block(comm, dataset, path, rank, file_start.data(), count.data(), participate, data);
}

// Writes replace: a resumed run writes again what it wrote before its checkpoint.
void remove_dataset_if_present(MPI_Comm comm, hid_t file, const std::string& path) {
  if (hdf5_path_exists(file, path))
    checked_status(comm, H5Ldelete(file, path.c_str(), H5P_DEFAULT), "H5Ldelete", path);
}

void remove_attribute_if_present(MPI_Comm comm, hid_t file, const std::string& object_path,
                                 const std::string& name) {
  if (H5Aexists_by_name(file, object_path.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
    checked_status(comm, H5Adelete_by_name(file, object_path.c_str(), name.c_str(), H5P_DEFAULT),
                   "H5Adelete_by_name", object_path + "@" + name);
  }
}

hid_t parallel_access(MPI_Comm comm, const std::string& path) {
  hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  checked_status(comm, H5Pset_fapl_mpio(access, comm, MPI_INFO_NULL), "H5Pset_fapl_mpio", path);
  // Collective metadata operations: every rank makes the same calls anyway.
  H5Pset_all_coll_metadata_ops(access, 1);
  H5Pset_coll_metadata_write(access, 1);
  return access;
}

// Rank 0 copies `from` to `to`; every rank learns whether it worked.
void copy_on_root(MPI_Comm comm, const std::string& from, const std::string& to) {
  runtime::on_root(comm, [&] {
    std::error_code ec;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) throw std::runtime_error(str("cannot copy ", from, " to ", to, ": ", ec.message()));
  });
}

}  // namespace

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return str(major, ".", minor, ".", release);
}

bool hdf5_is_parallel() {
#ifdef H5_HAVE_PARALLEL
  return true;
#else
  return false;
#endif
}

ResultsFile::ResultsFile(MPI_Comm comm, const std::string& path, const std::string& resume_from)
    : comm_(comm), path_(path) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_dup(comm_, &arrival_comm_);
  H5Eset_auto(H5E_DEFAULT, nullptr, nullptr);
  const std::string partial = partial_path();
  if (!resume_from.empty()) {
    copy_on_root(comm_, resume_from, partial);
    MPI_Barrier(comm_);
    open_existing(partial);
    count_existing_rows();
    return;
  }
  Handle access(parallel_access(comm_, partial), H5Pclose);
  file_ = H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get());
  require_open_everywhere(
      str(partial, ": cannot create the results file (is the directory writable?)"));
}

void ResultsFile::open_existing(const std::string& file_path) {
  Handle access(parallel_access(comm_, file_path), H5Pclose);
  file_ = H5Fopen(file_path.c_str(), H5F_ACC_RDWR, access.get());
  require_open_everywhere(str(file_path, ": cannot open the results file to continue it"));
}

void ResultsFile::require_open_everywhere(const std::string& message) {
  int ok = file_ >= 0 ? 1 : 0;
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm_);
  if (all_ok) return;
  if (file_ >= 0) H5Fclose(file_);
  file_ = -1;
  throw InputError(message);
}

void ResultsFile::count_existing_rows() {
  metric_rows_.clear();
  if (hdf5_path_exists(file_, "/metrics")) {
    Handle group(checked(comm_, H5Gopen2(file_, "/metrics", H5P_DEFAULT), "H5Gopen2", "/metrics"),
                 H5Gclose);
    H5G_info_t info;
    checked_status(comm_, H5Gget_info(group.get(), &info), "H5Gget_info", "/metrics");
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      char name[512];
      H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name),
                         H5P_DEFAULT);
      const std::string metric_path = std::string("/metrics/") + name;
      metric_rows_[metric_path] = rows_of(metric_path);
    }
  }
  field_step_ = -1;
  if (hdf5_path_exists(file_, "/fields/time")) field_step_ = rows_of("/fields/time") - 1;
}

std::int64_t ResultsFile::rows_of(const std::string& dataset_path) const {
  Handle dataset(
      checked(comm_, H5Dopen2(file_, dataset_path.c_str(), H5P_DEFAULT), "H5Dopen2", dataset_path),
      H5Dclose);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  return static_cast<std::int64_t>(dims[0]);
}

std::int64_t ResultsFile::metric_rows(const std::string& name) const {
  const auto it = metric_rows_.find("/metrics/" + sanitized(name));
  return it == metric_rows_.end() ? 0 : it->second;
}

void ResultsFile::snapshot(const std::string& destination) {
  H5Fflush(file_, H5F_SCOPE_GLOBAL);
  const herr_t status = H5Fclose(file_);
  file_ = -1;
  checked_status(comm_, status, "H5Fclose", partial_path());
  MPI_Barrier(comm_);
  copy_on_root(comm_, partial_path(), destination);
  open_existing(partial_path());
}

ResultsFile::~ResultsFile() {
  if (file_ >= 0 && !g_collective_io_failed) {
    // Not closed by close(): the run failed. Keep the .partial name so that nobody
    // takes it for a finished run, but release the handle. H5Fclose is collective, so
    // only when every rank is here too: a rank that failed alone (rank 0 refusing a mesh
    // file while the others wait in its broadcast) would wait in H5Fclose for ever; it
    // leaves the file open instead and runtime::run_or_abort ends the job.
    if (runtime::all_ranks_within(arrival_comm_, 3.0)) {
      H5Fclose(file_);
    } else {
      g_collective_io_failed = true;
    }
  }
  file_ = -1;
  if (!g_collective_io_failed) MPI_Comm_free(&arrival_comm_);
}

void ResultsFile::write_config(const std::string& toml_text,
                               const std::map<std::string, std::string>& attributes) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<std::size_t>(1, toml_text.size()));
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  remove_dataset_if_present(comm_, file_, "/config");
  Handle dataset(checked(comm_,
                         H5Dcreate2(file_, "/config", type.get(), space.get(), H5P_DEFAULT,
                                    H5P_DEFAULT, H5P_DEFAULT),
                         "H5Dcreate2", "/config"),
                 H5Dclose);
  Handle transfer(collective_transfer(), H5Pclose);
  std::string padded = toml_text.empty() ? std::string(" ") : toml_text;
  checked_status(
      comm_, H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, transfer.get(), padded.data()),
      "H5Dwrite", "/config");
  for (const auto& [name, value] : attributes) set_attribute("/config", name, value);
}

void ResultsFile::append_metric(const std::string& name, double x, double value) {
  const std::string path = "/metrics/" + sanitized(name);
  std::int64_t& rows = metric_rows_[path];
  const double row[2] = {x, value};
  write_extendible_row(comm_, file_, path, {2}, rows, {0}, {2}, rank_ == 0, row);
  rows += 1;
}

void ResultsFile::write_timings(const std::vector<runtime::RegionStats>& regions) {
  for (const auto& region : regions) {
    const std::string path = "/timings/" + sanitized(region.name);
    write_root_array(path, {3}, {region.min_seconds, region.mean_seconds, region.max_seconds});
    set_attribute(path, "calls", static_cast<double>(region.calls));
    set_attribute(path, "columns", "min,mean,max seconds over ranks");
  }
}

void ResultsFile::begin_field_step(double time) {
  field_step_ += 1;
  write_extendible_row(comm_, file_, "/fields/time", {}, field_step_, {}, {}, rank_ == 0, &time);
}

void ResultsFile::write_field(const std::string& name, std::int64_t global_size,
                              std::int64_t offset, const std::vector<double>& local,
                              int components) {
  if (field_step_ < 0) throw std::logic_error("write_field before begin_field_step");
  const auto count = static_cast<hsize_t>(local.size() / components);
  std::vector<hsize_t> row_dims = {static_cast<hsize_t>(global_size)};
  std::vector<hsize_t> start = {static_cast<hsize_t>(offset)};
  std::vector<hsize_t> block = {count};
  if (components > 1) {
    row_dims.push_back(static_cast<hsize_t>(components));
    start.push_back(0);
    block.push_back(static_cast<hsize_t>(components));
  }
  write_extendible_row(comm_, file_, "/fields/" + sanitized(name), row_dims, field_step_, start,
                       block, count > 0, buffer_or_dummy(local));
}

void ResultsFile::write_field_rows(const std::string& name, std::int64_t global_size,
                                   const std::vector<std::int64_t>& global_rows,
                                   const std::vector<double>& local, int components) {
  if (field_step_ < 0) throw std::logic_error("write_field_rows before begin_field_step");
  if (local.size() != global_rows.size() * static_cast<std::size_t>(components)) {
    throw std::logic_error(str("write_field_rows ", name, ": ", local.size(), " values for ",
                               global_rows.size(), " rows of ", components, " component(s)"));
  }
  std::vector<hsize_t> row_dims = {static_cast<hsize_t>(global_size)};
  std::vector<hsize_t> block = {static_cast<hsize_t>(global_rows.size())};
  if (components > 1) {
    row_dims.push_back(static_cast<hsize_t>(components));
    block.push_back(static_cast<hsize_t>(components));
  }
  write_extendible_row(comm_, file_, "/fields/" + sanitized(name), row_dims, field_step_, {}, block,
                       !global_rows.empty(), buffer_or_dummy(local), &global_rows);
}

void ResultsFile::write_root_array(const std::string& dataset_path,
                                   const std::vector<std::uint64_t>& dims,
                                   const std::vector<double>& data) {
  std::vector<hsize_t> shape(dims.begin(), dims.end());
  Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose);
  Handle links(intermediate_groups(), H5Pclose);
  remove_dataset_if_present(comm_, file_, dataset_path);
  Handle dataset(checked(comm_,
                         H5Dcreate2(file_, dataset_path.c_str(), H5T_NATIVE_DOUBLE, space.get(),
                                    links.get(), H5P_DEFAULT, H5P_DEFAULT),
                         "H5Dcreate2", dataset_path),
                 H5Dclose);
  std::uint64_t total = 1;
  for (auto d : dims) total *= d;
  // An empty array (an LWR run without detectors) is the created dataset itself: HDF5
  // refuses a write into a dataset without storage, even of no element. Every rank has
  // the same dims, so every rank skips the collective write.
  if (total == 0) return;
  if (rank_ == 0 && data.size() != total) {
    throw std::logic_error(str("write_root_array ", dataset_path, ": ", data.size(), " values for ",
                               total, " entries"));
  }
  const std::vector<hsize_t> origin(shape.size(), 0);
  write_block(comm_, dataset.get(), dataset_path, static_cast<int>(shape.size()), origin.data(),
              shape.data(), rank_ == 0, buffer_or_dummy(data));
}

void ResultsFile::append_rows(const std::string& dataset_path, std::uint64_t columns,
                              const std::vector<double>& values) {
  const hsize_t width = std::max<std::uint64_t>(columns, 1);
  unsigned long long new_rows = rank_ == 0 ? values.size() / width : 0;
  if (rank_ == 0 && new_rows * width != values.size()) {
    throw std::logic_error(str("append_rows ", dataset_path, ": ", values.size(),
                               " values are not whole rows of ", width));
  }
  MPI_Bcast(&new_rows, 1, MPI_UNSIGNED_LONG_LONG, 0, comm_);
  const int rank = columns > 0 ? 2 : 1;
  hid_t dataset = -1;
  if (!hdf5_path_exists(file_, dataset_path)) {
    hsize_t dims[2] = {0, width};
    hsize_t max_dims[2] = {H5S_UNLIMITED, width};
    hsize_t chunk[2] = {std::max<hsize_t>(1, std::min<hsize_t>(1024, (1 << 17) / width)), width};
    Handle space(H5Screate_simple(rank, dims, max_dims), H5Sclose);
    Handle create(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(create.get(), rank, chunk);
    Handle links(intermediate_groups(), H5Pclose);
    dataset = checked(comm_,
                      H5Dcreate2(file_, dataset_path.c_str(), H5T_NATIVE_DOUBLE, space.get(),
                                 links.get(), create.get(), H5P_DEFAULT),
                      "H5Dcreate2", dataset_path);
  } else {
    dataset = checked(comm_, H5Dopen2(file_, dataset_path.c_str(), H5P_DEFAULT), "H5Dopen2",
                      dataset_path);
  }
  Handle guard(dataset, H5Dclose);
  if (new_rows == 0) return;
  hsize_t old_dims[2] = {0, width};
  {
    Handle space(H5Dget_space(dataset), H5Sclose);
    H5Sget_simple_extent_dims(space.get(), old_dims, nullptr);
  }
  hsize_t new_dims[2] = {old_dims[0] + new_rows, width};
  checked_status(comm_, H5Dset_extent(dataset, new_dims), "H5Dset_extent", dataset_path);
  hsize_t start[2] = {old_dims[0], 0};
  hsize_t count[2] = {new_rows, width};
  write_block(comm_, dataset, dataset_path, rank, start, count, rank_ == 0,
              buffer_or_dummy(values));
}

void ResultsFile::write_distributed_array(const std::string& dataset_path, std::int64_t global_size,
                                          std::int64_t offset, const std::vector<double>& local,
                                          int components) {
  const int rank = components > 1 ? 2 : 1;
  const std::int64_t count = static_cast<std::int64_t>(local.size()) / components;
  hsize_t dims[2] = {static_cast<hsize_t>(global_size), static_cast<hsize_t>(components)};
  Handle space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  Handle links(intermediate_groups(), H5Pclose);
  remove_dataset_if_present(comm_, file_, dataset_path);
  Handle dataset(checked(comm_,
                         H5Dcreate2(file_, dataset_path.c_str(), H5T_NATIVE_DOUBLE, space.get(),
                                    links.get(), H5P_DEFAULT, H5P_DEFAULT),
                         "H5Dcreate2", dataset_path),
                 H5Dclose);
  hsize_t start[2] = {static_cast<hsize_t>(offset), 0};
  hsize_t block[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(components)};
  write_block(comm_, dataset.get(), dataset_path, rank, start, block, count > 0,
              buffer_or_dummy(local));
}

void ResultsFile::set_attribute(const std::string& object_path, const std::string& name,
                                const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<std::size_t>(1, value.size()));
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  remove_attribute_if_present(comm_, file_, object_path, name);
  Handle attribute(checked(comm_,
                           H5Acreate_by_name(file_, object_path.c_str(), name.c_str(), type.get(),
                                             space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                           "H5Acreate_by_name", object_path + "@" + name),
                   H5Aclose);
  const std::string padded = value.empty() ? std::string(" ") : value;
  checked_status(comm_, H5Awrite(attribute.get(), type.get(), padded.data()), "H5Awrite", name);
}

void ResultsFile::set_attribute(const std::string& object_path, const std::string& name,
                                double value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  remove_attribute_if_present(comm_, file_, object_path, name);
  Handle attribute(
      checked(comm_,
              H5Acreate_by_name(file_, object_path.c_str(), name.c_str(), H5T_NATIVE_DOUBLE,
                                space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              "H5Acreate_by_name", object_path + "@" + name),
      H5Aclose);
  checked_status(comm_, H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &value), "H5Awrite", name);
}

void ResultsFile::close() {
  if (file_ < 0) return;
  H5Fflush(file_, H5F_SCOPE_GLOBAL);
  const herr_t status = H5Fclose(file_);
  file_ = -1;
  checked_status(comm_, status, "H5Fclose", partial_path());
  MPI_Barrier(comm_);
  int ok = 1;
  if (rank_ == 0) {
    std::error_code ec;
    std::filesystem::rename(partial_path(), path_, ec);
    ok = ec ? 0 : 1;
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm_);
  if (!ok) throw std::runtime_error(str("cannot rename ", partial_path(), " to ", path_));
}

}  // namespace tessera::io
