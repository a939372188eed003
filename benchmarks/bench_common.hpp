// Shared pieces of lossfn's benchmark suite: cached random inputs, case names,
// and the registration of the elementwise-loss cases.
//
// Every case is named <loss>/<op>/<f32|f64>/<shape>[/<variant>...] and every
// baseline base/<kind>/<f32|f64>/<shape>. A case's label names the baseline it is
// measured against and its libtorch peer ("vs base/r2w1/f32/1e7 torch/mse/..."), and
// scripts/bench_table.py prints each case as ratios to those two from the same run.
// Every case sets bytes_processed to the bytes its inputs and outputs occupy, and
// each baseline moves the same bytes, so a ratio of times is a ratio of bandwidths.
#pragma once

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <lossfn/weights.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>

namespace lossfn_bench {

template <class S>
using Vec = Eigen::Array<S, Eigen::Dynamic, 1>;
template <class S, int Order>
using Mat = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Order>;

template <class S>
const char* scalar_name() {
  return sizeof(S) == 4 ? "f32" : "f64";
}

/// "1e3" for 1000 and so on; other counts as plain numbers.
inline std::string count_name(Eigen::Index n) {
  int exponent = 0;
  Eigen::Index rest = n;
  while (rest >= 10 && rest % 10 == 0) {
    rest /= 10;
    ++exponent;
  }
  return rest == 1 && exponent > 0 ? "1e" + std::to_string(exponent) : std::to_string(n);
}

/// Uniform values in [lo, hi] from a fixed seed, made once per (shape, seed) and
/// kept for the whole run: Google Benchmark calls a case several times, and
/// drawing 1e7 numbers each time would dominate the run.
template <class Plain>
const Plain& cached_random(Eigen::Index rows, Eigen::Index cols, unsigned seed, double lo = -1, double hi = 1) {
  static std::map<std::tuple<Eigen::Index, Eigen::Index, unsigned, double, double>, std::unique_ptr<Plain>> cache;
  auto& slot = cache[std::make_tuple(rows, cols, seed, lo, hi)];
  if (!slot) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<double> uniform(lo, hi);
    slot = std::make_unique<Plain>(rows, cols);
    typename Plain::Scalar* data = slot->data();
    for (Eigen::Index i = 0; i < slot->size(); ++i) data[i] = static_cast<typename Plain::Scalar>(uniform(engine));
  }
  return *slot;
}

template <class S>
const Vec<S>& random_vec(Eigen::Index n, unsigned seed) {
  return cached_random<Vec<S>>(n, 1, seed);
}

/// An object made once by build() and kept for the whole run, under `key`.
template <class T, class Build>
const T& cached(const std::string& key, Build&& build) {
  static std::map<std::string, std::unique_ptr<T>> cache;
  auto& slot = cache[key];
  if (!slot) slot = std::make_unique<T>(build());
  return *slot;
}

/// The shapes (m x K) of the softmax losses' cases.
inline constexpr std::pair<Eigen::Index, Eigen::Index> kSoftmaxShapes[] = {{256, 1000}, {4096, 1000}, {64, 32000}};

inline std::string shape_name(Eigen::Index rows, Eigen::Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

inline void set_bytes(benchmark::State& state, Eigen::Index elements, std::size_t element_size, int arrays) {
  const auto per_iteration = static_cast<std::int64_t>(elements) * static_cast<std::int64_t>(element_size) * arrays;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * per_iteration);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(elements));
}

/// Names the same-run baseline of this case and, when there is one, its libtorch
/// peer (absent from the run when lossfn_bench was built without libtorch).
inline void compare_with(benchmark::State& state, const std::string& baseline, const std::string& peer = "") {
  state.SetLabel("vs " + baseline + (peer.empty() ? "" : " " + peer));
}

/// The sizes of the regression cases.
inline constexpr Eigen::Index kRegressionSizes[] = {1000, 100000, 10000000};

template <class Fn>
void add(const std::string& name, Fn&& fn) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))->Unit(benchmark::kMicrosecond);
}

/// forward (reads pred and target), backward (returns a new gradient) and
/// forward_backward (into a preallocated gradient) of an elementwise loss, in
/// float and double at each regression size. Huber's delta is 0.5 so that about
/// half the errors (uniform in [-2, 2]) fall on each branch.
template <class Loss>
bool register_elementwise(const std::string& label, const Loss& loss) {
  auto one_type = [&](auto zero) {
    using S = decltype(zero);
    for (Eigen::Index n : kRegressionSizes) {
      const std::string tail = std::string("/") + scalar_name<S>() + "/" + count_name(n);
      add(label + "/forward" + tail, [loss, n, label, tail](benchmark::State& state) {
        const Vec<S>& pred = random_vec<S>(n, 1);
        const Vec<S>& target = random_vec<S>(n, 2);
        for (auto _ : state) benchmark::DoNotOptimize(loss.forward(pred, target));
        set_bytes(state, n, sizeof(S), 2);
        compare_with(state, "base/read2" + tail, "torch/" + label + "/forward" + tail);
      });
      add(label + "/backward" + tail, [loss, n, tail](benchmark::State& state) {
        const Vec<S>& pred = random_vec<S>(n, 1);
        const Vec<S>& target = random_vec<S>(n, 2);
        for (auto _ : state) {
          Vec<S> grad = loss.backward(pred, target);
          benchmark::DoNotOptimize(grad.data());
          benchmark::ClobberMemory();
        }
        set_bytes(state, n, sizeof(S), 3);
        compare_with(state, "base/r2w1" + tail);
      });
      add(label + "/forward_backward" + tail, [loss, n, label, tail](benchmark::State& state) {
        const Vec<S>& pred = random_vec<S>(n, 1);
        const Vec<S>& target = random_vec<S>(n, 2);
        Vec<S> grad(n);
        for (auto _ : state) {
          benchmark::DoNotOptimize(loss.forward_backward(pred, target, grad));
          benchmark::ClobberMemory();
        }
        set_bytes(state, n, sizeof(S), 3);
        compare_with(state, "base/r2w1" + tail, "torch/" + label + "/forward_backward" + tail);
      });
      // reads pred and target, writes the gradient and the Hessian diagonal
      add(label + "/forward_backward_hessian" + tail, [loss, n, tail](benchmark::State& state) {
        const Vec<S>& pred = random_vec<S>(n, 1);
        const Vec<S>& target = random_vec<S>(n, 2);
        Vec<S> grad(n), hess(n);
        for (auto _ : state) {
          benchmark::DoNotOptimize(loss.forward_backward_hessian(pred, target, grad, hess));
          benchmark::ClobberMemory();
        }
        set_bytes(state, n, sizeof(S), 4);
        compare_with(state, "base/r2w2" + tail);
      });
      // with weights of pred's shape: one more stream read (docs/weights.md)
      add(label + "/forward_backward_weighted" + tail, [loss, n, tail](benchmark::State& state) {
        const Vec<S>& pred = random_vec<S>(n, 1);
        const Vec<S>& target = random_vec<S>(n, 2);
        const Vec<S> w = random_vec<S>(n, 3).abs();
        Vec<S> grad(n);
        for (auto _ : state) {
          benchmark::DoNotOptimize(loss.forward_backward(pred, target, lossfn::weights(w), grad));
          benchmark::ClobberMemory();
        }
        set_bytes(state, n, sizeof(S), 4);
        compare_with(state, "base/r3w1" + tail);
      });
      add(label + "/forward_backward_hessian_weighted" + tail, [loss, n, tail](benchmark::State& state) {
        const Vec<S>& pred = random_vec<S>(n, 1);
        const Vec<S>& target = random_vec<S>(n, 2);
        const Vec<S> w = random_vec<S>(n, 3).abs();
        Vec<S> grad(n), hess(n);
        for (auto _ : state) {
          benchmark::DoNotOptimize(loss.forward_backward_hessian(pred, target, lossfn::weights(w), grad, hess));
          benchmark::ClobberMemory();
        }
        set_bytes(state, n, sizeof(S), 5);
        compare_with(state, "base/r3w2" + tail);
      });
    }
  };
  one_type(float{});
  one_type(double{});
  return true;
}

}  // namespace lossfn_bench
