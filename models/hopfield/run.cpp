#include "models/hopfield/run.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>

#include "core/io/hdf5_reader.hpp"
#include "core/optim/adam.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "core/runtime/stop_signal.hpp"
#include "models/hopfield/classical.hpp"
#include "models/hopfield/classifier.hpp"
#include "models/hopfield/idx_reader.hpp"
#include "models/hopfield/memory.hpp"
#include "models/hopfield/patterns.hpp"

namespace tessera::models::hopfield {

namespace {

// This rank's block of a pattern set, as a sharded memory.
HopfieldMemory<float> shard(MPI_Comm comm, const PatternSet& x) {
  std::size_t first = 0, count = 0;
  block_rows(x.count, runtime::comm_size(comm), runtime::comm_rank(comm), first, count);
  return HopfieldMemory<float>(comm, to_device<float>(rows_of(x, first, count)), first);
}

double relative_error(const double* a, const double* b, std::size_t d) {
  double diff = 0, norm = 0;
  for (std::size_t k = 0; k < d; ++k) {
    diff += (a[k] - b[k]) * (a[k] - b[k]);
    norm += b[k] * b[k];
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

// Mean relative error and success rate of `out` against targets (rows of `truth`).
std::pair<double, double> score(const PatternSet& out, const PatternSet& truth,
                                double success_error) {
  double error = 0, success = 0;
  for (std::size_t b = 0; b < out.count; ++b) {
    const double e = relative_error(&out.values[b * out.dim], &truth.values[b * out.dim], out.dim);
    error += e;
    success += e < success_error;
  }
  return {error / out.count, success / out.count};
}

PatternSet sign_of(const PatternSet& p) {
  PatternSet s = p;
  for (double& v : s.values) v = v < 0 ? -1.0 : 1.0;
  return s;
}

// The tasks other than learning have no training loop and write no checkpoints (their
// checkpoint keys are refused), but the kind installs the stop handlers: a stop signal
// ends them here, between two points of their loops. Collective.
void stop_point(const io::RunContext& ctx, const std::string& task) {
  if (ctx.checkpoints && ctx.checkpoints->due(0)) {
    const std::string signal = runtime::stop_signal_name();
    throw std::runtime_error(str("stopped by ", signal.empty() ? "a stop signal" : signal,
                                 " without a checkpoint: hopfield.task = \"", task,
                                 "\" writes none (only \"learning\" does); run it again"));
  }
}

void run_capacity(const HopfieldConfig& c, const io::RunContext& ctx) {
  const double beta = c.hopfield.beta, threshold = c.hopfield.success_error;
  const Corruption corruption = corruption_from_name(c.hopfield.corruption);
  const double fraction = c.hopfield.fraction;
  const std::uint64_t seed = c.seed;
  const std::string& kinds = c.capacity.kinds;
  std::vector<PatternKind> kind_list;
  if (kinds != "gaussian") kind_list.push_back(PatternKind::kBinary);
  if (kinds != "binary") kind_list.push_back(PatternKind::kGaussian);
  const auto dims = c.capacity.dims, counts = c.capacity.counts;
  const auto queries = static_cast<std::size_t>(c.capacity.queries);
  RetrievalOptions options;
  options.beta = beta;
  options.max_steps = static_cast<int>(c.hopfield.max_steps);
  options.eps = c.hopfield.eps;
  std::vector<double> table;  // kind, d, N, modern error, success, classical error, success
  runtime::Progress progress("capacity",
                             static_cast<double>(kind_list.size() * dims.size() * counts.size()),
                             runtime::comm_rank(ctx.comm) == 0, "points");
  double done = 0;
  for (PatternKind kind : kind_list) {
    for (double dd : dims) {
      for (double nn : counts) {
        const auto d = static_cast<std::size_t>(dd), n = static_cast<std::size_t>(nn);
        const std::uint64_t s = seed * 1000003 + d * 7919 + n;
        const PatternSet x = random_patterns(kind, n, d, s);
        const std::size_t q = std::min(queries, n);
        const PatternSet truth = rows_of(x, 0, q);
        const PatternSet query = corrupt(truth, fraction, corruption, s + 1);
        std::pair<double, double> modern, classical;
        {
          runtime::Timers::Scope scope(*ctx.timers, "modern_retrieval");
          HopfieldMemory<float> memory = shard(ctx.comm, x);
          modern = score(to_host(memory.retrieve(to_device<float>(query), options).states), truth,
                         threshold);
        }
        {
          runtime::Timers::Scope scope(*ctx.timers, "classical_recall");
          // The classical net stores sign(x); it is scored against sign(x).
          const ClassicalHopfield net(to_device<double>(x));
          const ClassicalRecall r =
              net.recall(to_device<double>(query), ClassicalUpdate::kAsynchronous,
                         static_cast<int>(c.hopfield.classical_sweeps), s + 2);
          classical = score(to_host(r.states), sign_of(truth), threshold);
        }
        table.insert(table.end(), {kind == PatternKind::kBinary ? 0.0 : 1.0, dd, nn, modern.first,
                                   modern.second, classical.first, classical.second});
        progress.update(
            ++done, str(kind == PatternKind::kBinary ? "binary" : "gaussian", " d=", d, " N=", n));
        stop_point(ctx, c.hopfield.task);
      }
    }
  }
  progress.finish();
  ctx.results->write_root_array("/hopfield/capacity", {table.size() / 7, 7}, table);
  ctx.results->set_attribute("/hopfield/capacity", "columns",
                             "kind (0 binary, 1 gaussian), d, N, modern_error, modern_success, "
                             "classical_error, classical_success");
}

void run_beta_sweep(const HopfieldConfig& c, const io::RunContext& ctx) {
  const auto n = static_cast<std::size_t>(c.beta_sweep.patterns);
  const auto d = static_cast<std::size_t>(c.beta_sweep.dim);
  const auto q = std::min<std::size_t>(n, static_cast<std::size_t>(c.beta_sweep.queries));
  const std::uint64_t seed = c.seed;
  const double mass = c.beta_sweep.mass;
  const PatternSet x = random_patterns(PatternKind::kGaussian, n, d, seed);
  PatternSet query = rows_of(x, 0, q);
  const PatternSet noise = random_patterns(PatternKind::kGaussian, q, d, seed + 1);
  for (std::size_t i = 0; i < query.values.size(); ++i) {
    query.values[i] += c.beta_sweep.noise * noise.values[i];
  }
  HopfieldMemory<float> memory = shard(ctx.comm, x);
  std::vector<double> table;  // beta, mean count, median, single, global, mean eff, steps, error
  const auto betas = c.beta_sweep.betas;
  runtime::Progress progress("beta sweep", static_cast<double>(betas.size()),
                             runtime::comm_rank(ctx.comm) == 0, "betas");
  for (std::size_t bi = 0; bi < betas.size(); ++bi) {
    RetrievalOptions options;
    options.beta = betas[bi];
    options.max_steps = static_cast<int>(c.beta_sweep.steps);
    options.eps = c.hopfield.eps;
    options.association = true;
    Retrieval<float> r;
    {
      runtime::Timers::Scope scope(*ctx.timers, "modern_retrieval");
      r = memory.retrieve(to_device<float>(query), options);
    }
    // Gather the association rows (each rank holds its columns) to count the patterns
    // that carry `mass` of the softmax.
    const PatternSet local = to_host(r.association);
    std::vector<int> counts_per_rank(runtime::comm_size(ctx.comm));
    int local_n = static_cast<int>(local.dim);
    MPI_Allgather(&local_n, 1, MPI_INT, counts_per_rank.data(), 1, MPI_INT, ctx.comm);
    std::vector<double> column_major(local.dim * q);
    for (std::size_t j = 0; j < local.dim; ++j) {
      for (std::size_t i = 0; i < q; ++i) column_major[j * q + i] = local.values[i * local.dim + j];
    }
    std::vector<int> sizes(counts_per_rank.size()), offsets(counts_per_rank.size(), 0);
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      sizes[k] = counts_per_rank[k] * static_cast<int>(q);
      if (k) offsets[k] = offsets[k - 1] + sizes[k - 1];
    }
    std::vector<double> all(n * q);
    MPI_Allgatherv(column_major.data(), static_cast<int>(column_major.size()), MPI_DOUBLE,
                   all.data(), sizes.data(), offsets.data(), MPI_DOUBLE, ctx.comm);
    std::vector<double> needed(q), effective(q);
    for (std::size_t i = 0; i < q; ++i) {
      std::vector<double> p(n);
      double entropy = 0;
      for (std::size_t j = 0; j < n; ++j) {
        p[j] = all[j * q + i];
        if (p[j] > 0) entropy -= p[j] * std::log(p[j]);
      }
      std::sort(p.begin(), p.end(), std::greater<double>());
      double acc = 0;
      std::size_t k = 0;
      while (k < n && acc < mass) acc += p[k++];
      needed[i] = static_cast<double>(k);
      effective[i] = std::exp(entropy);
    }
    std::vector<double> sorted = needed;
    std::sort(sorted.begin(), sorted.end());
    const double mean = std::accumulate(needed.begin(), needed.end(), 0.0) / q;
    const double single = std::count(needed.begin(), needed.end(), 1.0) / static_cast<double>(q);
    const double global =
        std::count_if(needed.begin(), needed.end(), [&](double v) { return v >= 0.5 * n; }) /
        static_cast<double>(q);
    const double eff = std::accumulate(effective.begin(), effective.end(), 0.0) / q;
    const PatternSet states = to_host(r.states);
    const double error = score(states, rows_of(x, 0, q), 1.0).first;
    table.insert(table.end(),
                 {betas[bi], mean, sorted[q / 2], single, global, eff, double(r.steps), error});
    ctx.results->append_metric("patterns_carrying_mass", betas[bi], mean);
    progress.update(static_cast<double>(bi + 1), str("beta = ", betas[bi]));
    stop_point(ctx, c.hopfield.task);
  }
  progress.finish();
  ctx.results->write_root_array("/hopfield/beta_sweep", {table.size() / 8, 8}, table);
  ctx.results->set_attribute("/hopfield/beta_sweep", "columns",
                             "beta, mean_count, median_count, fraction_single, fraction_global, "
                             "mean_effective_count, steps, retrieval_error");
}

void run_images(const HopfieldConfig& c, const io::RunContext& ctx) {
  const auto counts = c.images.counts;
  const std::size_t largest =
      static_cast<std::size_t>(*std::max_element(counts.begin(), counts.end()));
  const ImageSet images = read_fashion_mnist(images_dir(c), "train", largest);
  if (images.count < largest) {
    throw InputError(str(c.source, ": images.counts asks for ", largest, " images but ",
                         images_dir(c), " has ", images.count));
  }
  const std::size_t d = images.rows * images.cols, half = d / 2;
  const double beta = c.hopfield.beta, threshold = c.hopfield.success_error;
  RetrievalOptions options;
  options.beta = beta;
  options.max_steps = static_cast<int>(c.hopfield.max_steps);
  options.eps = c.hopfield.eps;
  std::vector<double> table;  // K, modern error, success, classical error, success
  const auto grid = static_cast<std::size_t>(c.images.grid);
  for (double kk : counts) {
    const auto k = static_cast<std::size_t>(kk);
    // Pixels in [-1, 1]; the query keeps the upper half, the lower half is 0 (unknown).
    PatternSet x{k, d, std::vector<double>(k * d)};
    for (std::size_t i = 0; i < k * d; ++i) x.values[i] = 2 * images.pixels[i] - 1;
    PatternSet query = x;
    for (std::size_t b = 0; b < k; ++b) {
      for (std::size_t p = half; p < d; ++p) query.values[b * d + p] = 0;
    }
    PatternSet modern_out, classical_out;
    {
      runtime::Timers::Scope scope(*ctx.timers, "modern_retrieval");
      HopfieldMemory<float> memory = shard(ctx.comm, x);
      modern_out = to_host(memory.retrieve(to_device<float>(query), options).states);
    }
    {
      runtime::Timers::Scope scope(*ctx.timers, "classical_recall");
      const ClassicalHopfield net(to_device<double>(x));
      classical_out = to_host(net.recall(to_device<double>(query), ClassicalUpdate::kAsynchronous,
                                         static_cast<int>(c.hopfield.classical_sweeps), 7)
                                  .states);
    }
    const auto modern = score(modern_out, x, threshold);
    const auto classical = score(classical_out, sign_of(x), threshold);
    table.insert(table.end(), {kk, modern.first, modern.second, classical.first, classical.second});
    runtime::log::info(str("images K = ", k, ": modern error ", modern.first, ", success ",
                           modern.second, "; classical error ", classical.first, ", success ",
                           classical.second));
    const std::size_t g = std::min(grid, k);
    const std::string base = str("/hopfield/images_K", k);
    ctx.results->write_root_array(base + "/stored", {g, images.rows, images.cols},
                                  rows_of(x, 0, g).values);
    ctx.results->write_root_array(base + "/query", {g, images.rows, images.cols},
                                  rows_of(query, 0, g).values);
    ctx.results->write_root_array(base + "/modern", {g, images.rows, images.cols},
                                  rows_of(modern_out, 0, g).values);
    ctx.results->write_root_array(base + "/classical", {g, images.rows, images.cols},
                                  rows_of(classical_out, 0, g).values);
    stop_point(ctx, c.hopfield.task);
  }
  ctx.results->write_root_array("/hopfield/images", {table.size() / 5, 5}, table);
  ctx.results->set_attribute("/hopfield/images", "columns",
                             "K, modern_error, modern_success, classical_error, classical_success");
}

// Where the learning task stands, for its checkpoints: the model in training (0:
// HopfieldPooling, 1: the MLP, trained one after the other), its epochs and the steps of
// the current epoch done, that epoch's training loss so far, and each model's last test
// accuracy. With the parameters and Adam state of the model in training this is the whole
// state: batches are taken in order (no shuffling), and every rank trains the same model
// on the same data, so the state is the same on every rank and any rank count resumes it.
struct LearningLoop {
  int model = 0;
  long long epoch = 0, step = 0;
  double loss_sum = 0;
  double accuracy[2] = {0, 0};
};

constexpr std::size_t kLoopValues = 6;

void write_loop(io::ResultsFile& state, const LearningLoop& loop) {
  state.write_root_array(
      "/learning/loop", {kLoopValues},
      {static_cast<double>(loop.model), static_cast<double>(loop.epoch),
       static_cast<double>(loop.step), loop.loss_sum, loop.accuracy[0], loop.accuracy[1]});
}

LearningLoop read_loop(const io::Hdf5Reader& state) {
  const std::vector<double> v = state.read("/learning/loop");
  if (v.size() != kLoopValues) {
    throw InputError(str(state.path(), ": /learning/loop holds ", v.size(), " values, expected ",
                         kLoopValues, " (a checkpoint of another version)"));
  }
  LearningLoop loop;
  loop.model = static_cast<int>(v[0]);
  loop.epoch = static_cast<long long>(v[1]);
  loop.step = static_cast<long long>(v[2]);
  loop.loss_sum = v[3];
  loop.accuracy[0] = v[4];
  loop.accuracy[1] = v[5];
  return loop;
}

// Trains model `index` (see LearningLoop) from where `loop` stands, with a checkpoint
// boundary after every Adam step and after every epoch's scores (the step number counts
// the Adam steps of both models). `resume`: the state file the loop was read from.
template <class Model>
std::pair<double, std::size_t> train_classifier(const HopfieldConfig& c, const io::RunContext& ctx,
                                                const std::string& label, int index, Model& model,
                                                nn::ParameterStore<float>& store,
                                                const ImageSet& train, const ImageSet& test,
                                                LearningLoop& loop, const io::Hdf5Reader* resume) {
  if (loop.model > index) return {loop.accuracy[index], store.size()};  // done before
  const auto batch = static_cast<std::size_t>(c.learning.batch);
  const auto epochs = static_cast<long long>(c.learning.epochs);
  const std::size_t d = train.rows * train.cols;
  optim::AdamOptions adam_options;
  adam_options.lr = c.learning.lr;
  optim::Adam<float> adam(store, adam_options);
  if (loop.model == index && resume) {
    store.load(*resume, "/learning/parameters");
    adam.load(*resume, "/learning/adam");
  } else {
    loop = LearningLoop{index, 0, 0, 0, {loop.accuracy[0], loop.accuracy[1]}};
  }
  Matrix<float> grad;
  const auto steps_per_epoch = static_cast<long long>((train.count + batch - 1) / batch);
  const long long first_step = index * epochs * steps_per_epoch;
  const auto write_state = [&](io::ResultsFile& state) {
    write_loop(state, loop);
    store.save(state, "/learning/parameters");
    adam.save(state, "/learning/adam");
  };
  const auto boundary = [&] {
    if (ctx.checkpoints) {
      ctx.checkpoints->at_boundary(first_step + loop.epoch * steps_per_epoch + loop.step,
                                   *ctx.results, write_state);
    }
  };
  runtime::Progress progress(label, static_cast<double>(epochs * steps_per_epoch),
                             runtime::comm_rank(ctx.comm) == 0);
  auto batch_of = [&](const ImageSet& set, std::size_t first, std::size_t count,
                      std::vector<int>& labels) {
    PatternSet p{count, d,
                 std::vector<double>(set.pixels.begin() + first * d,
                                     set.pixels.begin() + (first + count) * d)};
    labels.assign(set.labels.begin() + first, set.labels.begin() + first + count);
    return to_device<float>(p);
  };
  while (loop.epoch < epochs) {
    std::vector<int> labels;
    {
      runtime::Timers::Scope scope(*ctx.timers, label + "_train");
      while (loop.step < steps_per_epoch) {
        const std::size_t first = static_cast<std::size_t>(loop.step) * batch;
        const std::size_t count = std::min(batch, train.count - first);
        const Matrix<float> x = batch_of(train, first, count, labels);
        store.zero_grad();
        loop.loss_sum += nn::softmax_cross_entropy(model.forward(store, x), labels, grad, nullptr);
        model.backward(store, grad);
        adam.step(store);
        ++loop.step;
        progress.update(static_cast<double>(loop.epoch * steps_per_epoch + loop.step));
        // The epoch's last step is followed by its scores, then by the epoch's boundary.
        if (loop.step < steps_per_epoch) boundary();
      }
    }
    std::size_t right = 0;
    {
      runtime::Timers::Scope scope(*ctx.timers, label + "_test");
      for (std::size_t first = 0; first < test.count; first += batch) {
        const std::size_t count = std::min(batch, test.count - first);
        std::size_t correct = 0;
        const Matrix<float> x = batch_of(test, first, count, labels);
        nn::softmax_cross_entropy(model.forward(store, x), labels, grad, &correct);
        right += correct;
      }
    }
    const double accuracy = static_cast<double>(right) / test.count;
    const double loss = loop.loss_sum / static_cast<double>(steps_per_epoch);
    ctx.results->append_metric(label + "_train_loss", static_cast<double>(loop.epoch + 1), loss);
    ctx.results->append_metric(label + "_test_accuracy", static_cast<double>(loop.epoch + 1),
                               accuracy);
    runtime::log::info(
        str(label, " epoch ", loop.epoch + 1, ": train loss ", loss, ", test accuracy ", accuracy));
    loop.accuracy[index] = accuracy;
    ++loop.epoch;
    loop.step = 0;
    loop.loss_sum = 0;
    boundary();
  }
  progress.finish();
  return {loop.accuracy[index], store.size()};
}

void run_learning(const HopfieldConfig& c, const io::RunContext& ctx) {
  const std::string dir = images_dir(c);
  const ImageSet train =
      read_fashion_mnist(dir, "train", static_cast<std::size_t>(c.learning.train));
  const ImageSet test = read_fashion_mnist(dir, "t10k", static_cast<std::size_t>(c.learning.test));
  const std::uint64_t seed = c.seed;
  const auto hidden = static_cast<std::size_t>(c.learning.hidden);
  const auto heads = static_cast<std::size_t>(c.learning.heads);
  // Every rank trains the same model on the same data (the task is small); rank 0 writes.
  nn::ParameterStore<float> pool_store;
  PoolingClassifier<float> pooling;
  pooling.declare(pool_store, train.rows, train.cols, heads, hidden, 10);
  pool_store.finalize();
  pooling.init(pool_store, seed);
  // The MLP's hidden width that gives about the pooling model's parameter count.
  const std::size_t d = train.rows * train.cols;
  const std::size_t mlp_hidden = std::max<std::size_t>(1, (pool_store.size() - 10) / (d + 11));
  nn::ParameterStore<float> mlp_store;
  MlpClassifier<float> mlp;
  mlp.declare(mlp_store, d, mlp_hidden, 10);
  mlp_store.finalize();
  mlp.init(mlp_store, seed);
  runtime::log::info(str("learning: HopfieldPooling classifier ", pool_store.size(),
                         " parameters, MLP 784-", mlp_hidden, "-10 ", mlp_store.size(),
                         " parameters; ", train.count, " training, ", test.count, " test images"));
  LearningLoop loop;
  std::unique_ptr<io::Hdf5Reader> resume;
  if (ctx.checkpoints && ctx.checkpoints->resuming()) {
    resume = std::make_unique<io::Hdf5Reader>(ctx.checkpoints->resume_state_path());
    loop = read_loop(*resume);
    runtime::log::info(str("learning: resuming ", loop.model == 0 ? "hopfield_pooling" : "mlp",
                           " at epoch ", loop.epoch + 1, ", step ", loop.step, " from ",
                           resume->path()));
  }
  const auto hp = train_classifier(c, ctx, "hopfield_pooling", 0, pooling, pool_store, train, test,
                                   loop, resume.get());
  const auto ml =
      train_classifier(c, ctx, "mlp", 1, mlp, mlp_store, train, test, loop, resume.get());
  ctx.results->write_root_array("/hopfield/learning", {2, 2},
                                {hp.first, double(hp.second), ml.first, double(ml.second)});
  ctx.results->set_attribute("/hopfield/learning", "columns",
                             "rows: hopfield_pooling, mlp; columns: test_accuracy, parameters");
}

}  // namespace

HopfieldSummary run_hopfield(const HopfieldConfig& c, const io::RunContext& ctx) {
  const std::string& task = c.hopfield.task;
  runtime::log::info(str("hopfield: task ", task, " on ", runtime::comm_size(ctx.comm),
                         " rank(s), stored patterns sharded over them"));
  if (task == "capacity") run_capacity(c, ctx);
  if (task == "beta_sweep") run_beta_sweep(c, ctx);
  if (task == "images") run_images(c, ctx);
  if (task == "learning") run_learning(c, ctx);
  ctx.results->set_attribute("/", "hopfield_task", task);
  HopfieldSummary summary;
  summary.task = task;
  summary.ranks = runtime::comm_size(ctx.comm);
  return summary;
}

}  // namespace tessera::models::hopfield
