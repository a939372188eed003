// MSE<Mean>: forward, backward and forward_backward at the regression sizes, and
// the scalar loop a user would write by hand (float accumulator, one pass), to
// show what the library buys over it.
#include <lossfn/mse.hpp>

#include "bench_common.hpp"

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

const bool registered = lossfn_bench::register_elementwise("mse", lossfn::MSE<>{}) &&
                        (register_naive<float>(), register_naive<double>(), true);

}  // namespace
