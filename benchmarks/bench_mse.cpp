#include <benchmark/benchmark.h>

#include <lossfn/mse.hpp>

namespace {

template <class Scalar>
void BM_mse_forward_backward(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0));
  using A = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  const A pred = A::Random(n), target = A::Random(n);
  A grad(n);
  const lossfn::MSE<> loss;
  for (auto _ : state) {
    benchmark::DoNotOptimize(loss.forward_backward(pred, target, grad));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 3 * n * static_cast<int64_t>(sizeof(Scalar)));
}

}  // namespace

BENCHMARK_TEMPLATE(BM_mse_forward_backward, float)->Arg(1000)->Arg(100000)->Arg(10000000);
