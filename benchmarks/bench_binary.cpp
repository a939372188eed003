// BinaryCrossEntropy from logits (Mean), forward and forward_backward at the
// regression sizes, next to its same-run baseline base/softplus: one exp and one
// log1p per element over the same bytes (c = log1p(exp(a)) - a b: the naive BCE from
// logits, read two, write one), and next to libtorch's
// binary_cross_entropy_with_logits (peer_torch.cpp). Logits uniform in [-4, 4],
// targets uniform in [0, 1].
#include <string>

#include <lossfn/binary_cross_entropy.hpp>

#include "bench_common.hpp"

namespace {

using lossfn_bench::Vec;

template <class S>
const Vec<S>& logits(Eigen::Index n) {
  return lossfn_bench::cached_random<Vec<S>>(n, 1, 1, -4.0, 4.0);
}
template <class S>
const Vec<S>& targets(Eigen::Index n) {
  return lossfn_bench::cached_random<Vec<S>>(n, 1, 2, 0.0, 1.0);
}

/// c = log1p(exp(a)) - a b: one exp and one log1p per element, read two, write one.
template <class S>
void softplus_baseline(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = logits<S>(n);
  const Vec<S>& b = targets<S>(n);
  Vec<S> c(n);
  for (auto _ : state) {
    c = a.exp().log1p() - a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  lossfn_bench::set_bytes(state, n, sizeof(S), 3);
}

template <class S>
bool register_binary() {
  const lossfn::BinaryCrossEntropy<lossfn::Mean> bce;
  for (Eigen::Index n : lossfn_bench::kRegressionSizes) {
    const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::count_name(n);
    lossfn_bench::add("base/softplus" + tail, [n](benchmark::State& state) { softplus_baseline<S>(state, n); });
    lossfn_bench::add("bce/forward" + tail, [bce, n, tail](benchmark::State& state) {
      const Vec<S>& z = logits<S>(n);
      const Vec<S>& y = targets<S>(n);
      for (auto _ : state) benchmark::DoNotOptimize(bce.forward(z, y));
      lossfn_bench::set_bytes(state, n, sizeof(S), 2);
      lossfn_bench::compare_with(state, "base/read2" + tail, "torch/bce/forward" + tail);
    });
    lossfn_bench::add("bce/forward_backward" + tail, [bce, n, tail](benchmark::State& state) {
      const Vec<S>& z = logits<S>(n);
      const Vec<S>& y = targets<S>(n);
      Vec<S> grad(n);
      for (auto _ : state) {
        benchmark::DoNotOptimize(bce.forward_backward(z, y, grad));
        benchmark::ClobberMemory();
      }
      lossfn_bench::set_bytes(state, n, sizeof(S), 3);
      lossfn_bench::compare_with(state, "base/softplus" + tail, "torch/bce/forward_backward" + tail);
    });
  }
  return true;
}

const bool registered = register_binary<float>() && register_binary<double>();

}  // namespace
