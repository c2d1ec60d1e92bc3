// Attention whose keys are sharded over the ranks (nn::KeyShard, parallel::key_shard):
// each rank scores its block of the keys, the softmaxes merge by log-sum-exp and the
// input gradients are summed, so the output, both input gradients and every parameter
// gradient equal the whole attention's on one process: in double within 1e-12 relative,
// in float within 1e-5. Run on 1, 2 and 4 ranks, with blocks of unequal size, a rank
// holding no key (3 keys over 4 ranks), a mask and cross-attention.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/nn/attention.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/parallel/sharded_softmax.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/random.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/compare.hpp"

using namespace tessera;

using testing::relative_difference;

namespace {

struct Case {
  const char* name;
  std::size_t batch, query_len, key_len, dim, heads;
  bool mask;
};

// Values keyed by position: the same on every rank.
std::vector<double> keyed(std::size_t n, std::uint64_t stream) {
  std::vector<double> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = tensor::counter_normal(11, stream, k);
  return v;
}

struct Result {
  std::vector<double> y, d_query, d_key_value, d_params;
};

template <class T>
Result run(const Case& c, bool sharded) {
  nn::ParameterStore<T> store;
  nn::MultiHeadAttention<T> attention;
  attention.declare(store, "attention", c.dim, c.heads);
  store.finalize();
  attention.init(store, 5);
  if (sharded) attention.set_key_shard(parallel::key_shard<T>(MPI_COMM_WORLD, c.key_len));
  const auto query = tensor::from_host<T>(keyed(c.batch * c.query_len * c.dim, 1),
                                          c.batch * c.query_len, c.dim, "query");
  const auto key_value = tensor::from_host<T>(keyed(c.batch * c.key_len * c.dim, 2),
                                              c.batch * c.key_len, c.dim, "key_value");
  tensor::Matrix<T> mask;
  if (c.mask) {  // each query forbidden the keys after its own position (and key 0 open)
    std::vector<double> m(c.query_len * c.key_len, 0.0);
    for (std::size_t t = 0; t < c.query_len; ++t) {
      for (std::size_t j = t + 1; j < c.key_len; ++j) m[t * c.key_len + j] = -INFINITY;
    }
    mask = tensor::from_host<T>(m, c.query_len, c.key_len, "mask");
  }
  Result r;
  r.y = tensor::to_host(
      attention.forward(store, query, key_value, c.batch, c.query_len, c.key_len, mask));
  const auto dy = tensor::from_host<T>(keyed(c.batch * c.query_len * c.dim, 3),
                                       c.batch * c.query_len, c.dim, "dy");
  store.zero_grad();
  const nn::AttentionInputGrads<T> grads = attention.backward(store, dy);
  r.d_query = tensor::to_host(grads.query);
  r.d_key_value = tensor::to_host(grads.key_value);
  r.d_params = tensor::to_host(store.grads());
  return r;
}

template <class T>
void check_case(const Case& c, double bound) {
  const Result whole = run<T>(c, false), sharded = run<T>(c, true);
  CHECK(relative_difference(whole.y, sharded.y) <= bound);
  CHECK(relative_difference(whole.d_query, sharded.d_query) <= bound);
  CHECK(relative_difference(whole.d_key_value, sharded.d_key_value) <= bound);
  CHECK(relative_difference(whole.d_params, sharded.d_params) <= bound);
  // Every gradient is non-zero somewhere: a silently missing term would show.
  CHECK(*std::max_element(whole.d_key_value.begin(), whole.d_key_value.end()) > 0);
}

}  // namespace

TEST_CASE("attention with keys sharded over ranks equals the whole attention",
          "[sharded_attention]") {
  const Case cases[] = {{"self-attention, 2 x 9 keys", 2, 9, 9, 8, 2, false},
                        {"3 keys (a rank may hold none), masked", 3, 3, 3, 8, 2, true},
                        {"cross-attention, 5 queries, 11 keys, masked", 2, 5, 11, 12, 3, true}};
  for (const Case& c : cases) {
    INFO(c.name << " on " << runtime::comm_size(MPI_COMM_WORLD) << " ranks");
    check_case<double>(c, 1e-12);
    check_case<float>(c, 1e-5);
  }
}

TEST_CASE("key shards are contiguous blocks covering every key once", "[sharded_attention]") {
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  for (std::size_t keys : {1, 3, 9, 10}) {
    const nn::KeyShard<double> shard = parallel::key_shard<double>(MPI_COMM_WORLD, keys);
    long long range[2] = {static_cast<long long>(shard.first),
                          static_cast<long long>(shard.first + shard.count)};
    std::vector<long long> all(2 * static_cast<std::size_t>(ranks));
    MPI_Allgather(range, 2, MPI_LONG_LONG, all.data(), 2, MPI_LONG_LONG, MPI_COMM_WORLD);
    CHECK(all.front() == 0);
    CHECK(all.back() == static_cast<long long>(keys));
    for (int r = 1; r < ranks; ++r) CHECK(all[2 * r] == all[2 * r - 1]);  // no gap, no overlap
  }
}
