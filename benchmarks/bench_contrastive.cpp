// Contrastive<Mean> (Euclidean distance, margin 1) over m pairs of d dimensions,
// 1e5 x 100 (memory-bound) and 256 x 32 (one small batch: the per-call overhead),
// each with both inputs row-major (the default) or column-major ("/col": the
// kernel then sweeps columns with per-row running sums, a separate code path).
// forward reads x1 and x2; forward_backward also writes dx1 and dx2, so its
// baseline is base/r2w2 (read two arrays, write two) over the same bytes (the
// baselines exist at 1e5 x 100 only).
#include <lossfn/contrastive.hpp>

#include "bench_common.hpp"

namespace {

using lossfn_bench::Mat;

template <class S, int Order>
void register_shape(Eigen::Index m, Eigen::Index d) {
  using Z = Mat<S, Order>;
  const std::string shape = lossfn_bench::count_name(m) + "x" + std::to_string(d);
  const std::string type_shape = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + shape;
  const std::string tail = type_shape + (Order == Eigen::RowMajor ? "" : "/col");
  auto data = [m, d](unsigned seed) -> const Z& { return lossfn_bench::cached_random<Z>(m, d, seed, -0.1, 0.1); };
  auto labels = [m]() -> const Eigen::VectorXi& {
    return lossfn_bench::cached<Eigen::VectorXi>("contrastive labels " + std::to_string(m), [m] {
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
    lossfn_bench::compare_with(state, "base/read2" + type_shape);
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
    lossfn_bench::compare_with(state, "base/r2w2" + type_shape);
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
    lossfn_bench::compare_with(state, "base/r2w2" + type_shape);
  });
}

template <class S>
bool register_all() {
  for (const auto& [m, d] : {std::pair<Eigen::Index, Eigen::Index>{100000, 100}, {256, 32}}) {
    register_shape<S, Eigen::RowMajor>(m, d);
    register_shape<S, Eigen::ColMajor>(m, d);
  }
  return true;
}

const bool registered = register_all<float>() && register_all<double>();

}  // namespace
