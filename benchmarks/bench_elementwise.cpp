// Every elementwise loss of the conformance registry (tests/support/
// elementwise_entries.hpp), under Mean with its entry's benchmark_options():
// forward, backward, forward_backward and forward_backward_hessian at the regression sizes, named
// <entry id>/<op>/<f32|f64>/<size> (mse/forward_backward/f32/1e3). A loss added to
// the registry is benchmarked without touching this file. Also the scalar MSE loop
// a user would write by hand (float accumulator, one pass), to show what the
// library buys over it.
#include <cstddef>
#include <tuple>
#include <utility>

#include "bench_common.hpp"
#include "elementwise_entries.hpp"

namespace {

using lossfn_bench::Vec;

template <class S>
S naive_mse_forward_backward(const S* pred, const S* target, S* grad, Eigen::Index n) {
  S total = 0;
  const S scale = S(2) / static_cast<S>(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const S e = pred[i] - target[i];
    total += e * e;
    grad[i] = scale * e;
  }
  return total / static_cast<S>(n);
}

template <class S>
void register_naive() {
  for (Eigen::Index n : lossfn_bench::kRegressionSizes) {
    lossfn_bench::add(
        std::string("naive/mse/forward_backward/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::count_name(n),
        [n](benchmark::State& state) {
          const Vec<S>& pred = lossfn_bench::random_vec<S>(n, 1);
          const Vec<S>& target = lossfn_bench::random_vec<S>(n, 2);
          Vec<S> grad(n);
          for (auto _ : state) {
            benchmark::DoNotOptimize(naive_mse_forward_backward(pred.data(), target.data(), grad.data(), n));
            benchmark::ClobberMemory();
          }
          lossfn_bench::set_bytes(state, n, sizeof(S), 3);
          lossfn_bench::compare_with(
              state, std::string("base/r2w1/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::count_name(n));
        });
  }
}

template <std::size_t... K>
bool register_entries(std::index_sequence<K...>) {
  using Entries = lossfn_test::ElementwiseEntries;
  return (
      lossfn_bench::register_elementwise(std::tuple_element_t<K, Entries>::id,
                                         std::tuple_element_t<K, Entries>::make(
                                             lossfn::Mean{}, std::tuple_element_t<K, Entries>::benchmark_options())) &&
      ...);
}

const bool registered =
    register_entries(std::make_index_sequence<std::tuple_size<lossfn_test::ElementwiseEntries>::value>{}) &&
    (register_naive<float>(), register_naive<double>(), true);

}  // namespace
