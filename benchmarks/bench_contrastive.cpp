// Contrastive<Mean> (Euclidean distance, margin 1) over m = 1e5 pairs of d = 100:
// forward reads x1 and x2; forward_backward also writes dx1 and dx2, so its baseline
// is base/r2w2 (read two arrays, write two) over the same bytes.
#include <lossfn/contrastive.hpp>

#include "bench_common.hpp"

namespace {

using lossfn_bench::Mat;

template <class S>
bool register_all() {
  using Z = Mat<S, Eigen::RowMajor>;
  static constexpr Eigen::Index m = 100000, d = 100;
  const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/1e5x100";
  auto data = [](unsigned seed) -> const Z& { return lossfn_bench::cached_random<Z>(m, d, seed, -0.1, 0.1); };
  auto labels = []() -> const Eigen::VectorXi& {
    return lossfn_bench::cached<Eigen::VectorXi>("contrastive labels", [] {
      Eigen::VectorXi y(m);
      for (Eigen::Index i = 0; i < m; ++i) y(i) = static_cast<int>((i * 31) % 2);
      return y;
    });
  };
  const lossfn::Contrastive<> loss;
  lossfn_bench::add("contrastive/forward" + tail, [=](benchmark::State& state) {
    const Z& x1 = data(51);
    const Z& x2 = data(52);
    const Eigen::VectorXi& y = labels();
    for (auto _ : state) benchmark::DoNotOptimize(loss.forward(x1, x2, y));
    lossfn_bench::set_bytes(state, m * d, sizeof(S), 2);
    lossfn_bench::compare_with(state, "base/read2" + tail);
  });
  lossfn_bench::add("contrastive/backward" + tail, [=](benchmark::State& state) {
    const Z& x1 = data(51);
    const Z& x2 = data(52);
    const Eigen::VectorXi& y = labels();
    for (auto _ : state) {
      auto g = loss.backward(x1, x2, y);
      benchmark::DoNotOptimize(g.dx1.data());
      benchmark::ClobberMemory();
    }
    lossfn_bench::set_bytes(state, m * d, sizeof(S), 4);
    lossfn_bench::compare_with(state, "base/r2w2" + tail);
  });
  lossfn_bench::add("contrastive/forward_backward" + tail, [=](benchmark::State& state) {
    const Z& x1 = data(51);
    const Z& x2 = data(52);
    const Eigen::VectorXi& y = labels();
    Z g1(m, d), g2(m, d);
    for (auto _ : state) {
      benchmark::DoNotOptimize(loss.forward_backward(x1, x2, y, g1, g2));
      benchmark::ClobberMemory();
    }
    lossfn_bench::set_bytes(state, m * d, sizeof(S), 4);
    lossfn_bench::compare_with(state, "base/r2w2" + tail);
  });
  return true;
}

const bool registered = register_all<float>() && register_all<double>();

}  // namespace
