// The machine's limits, measured in the same run over the same bytes as the loss
// cases: a streaming read of two arrays (sum), read-two-write-one (c = a - b),
// read-two-write-two (the contrastive loss's traffic), and exp and log over the
// element counts of the softmax losses (read one, write one).
#include <algorithm>
#include <cmath>

#include "bench_common.hpp"

namespace {

using lossfn_bench::add;
using lossfn_bench::scalar_name;
using lossfn_bench::set_bytes;
using lossfn_bench::Vec;

template <class S>
void read2(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = lossfn_bench::random_vec<S>(n, 1);
  const Vec<S>& b = lossfn_bench::random_vec<S>(n, 2);
  for (auto _ : state) benchmark::DoNotOptimize((a + b).sum());
  set_bytes(state, n, sizeof(S), 2);
}

template <class S>
void read2_write1(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = lossfn_bench::random_vec<S>(n, 1);
  const Vec<S>& b = lossfn_bench::random_vec<S>(n, 2);
  Vec<S> c(n);
  for (auto _ : state) {
    c = a - b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n, sizeof(S), 3);
}

/// c = a - b and d = b - a, block by block so a and b come from memory once.
template <class S>
void read2_write2(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = lossfn_bench::random_vec<S>(n, 1);
  const Vec<S>& b = lossfn_bench::random_vec<S>(n, 2);
  Vec<S> c(n), d(n);
  constexpr Eigen::Index block = 2048;
  for (auto _ : state) {
    for (Eigen::Index start = 0; start < n; start += block) {
      const Eigen::Index len = std::min(block, n - start);
      c.segment(start, len) = a.segment(start, len) - b.segment(start, len);
      d.segment(start, len) = b.segment(start, len) - a.segment(start, len);
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n, sizeof(S), 4);
}

/// y = exp(x) for logits-like x in [-4, 4], or y = log(x) for x in (0, 1].
template <class S, bool Log>
void transcendental(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& x = Log ? lossfn_bench::cached_random<Vec<S>>(n, 1, 3, 1e-6, 1.0)
                        : lossfn_bench::cached_random<Vec<S>>(n, 1, 3, -4.0, 4.0);
  Vec<S> y(n);
  for (auto _ : state) {
    if constexpr (Log) {
      y = x.log();
    } else {
      y = x.exp();
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n, sizeof(S), 2);
}

/// c = exp(a) * log(b): what KL from logits against probability targets needs per
/// element (read two, write one, one exp and one log).
template <class S>
void exp_log(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = lossfn_bench::cached_random<Vec<S>>(n, 1, 3, -4.0, 4.0);
  const Vec<S>& b = lossfn_bench::cached_random<Vec<S>>(n, 1, 4, 1e-6, 1.0);
  Vec<S> c(n);
  for (auto _ : state) {
    c = a.exp() * b.log();
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n, sizeof(S), 3);
}

/// c = (a - b) w: reads three streams, writes one (a weighted forward_backward's traffic).
template <class S>
void read3_write1(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = lossfn_bench::random_vec<S>(n, 1);
  const Vec<S>& b = lossfn_bench::random_vec<S>(n, 2);
  const Vec<S>& w = lossfn_bench::random_vec<S>(n, 3);
  Vec<S> c(n);
  for (auto _ : state) {
    c = (a - b) * w;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n, sizeof(S), 4);
}

/// c = (a - b) w and d = (b - a) w, block by block: a weighted forward_backward_hessian's traffic.
template <class S>
void read3_write2(benchmark::State& state, Eigen::Index n) {
  const Vec<S>& a = lossfn_bench::random_vec<S>(n, 1);
  const Vec<S>& b = lossfn_bench::random_vec<S>(n, 2);
  const Vec<S>& w = lossfn_bench::random_vec<S>(n, 3);
  Vec<S> c(n), d(n);
  constexpr Eigen::Index block = 2048;
  for (auto _ : state) {
    for (Eigen::Index start = 0; start < n; start += block) {
      const Eigen::Index len = std::min(block, n - start);
      c.segment(start, len) = (a.segment(start, len) - b.segment(start, len)) * w.segment(start, len);
      d.segment(start, len) = (b.segment(start, len) - a.segment(start, len)) * w.segment(start, len);
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n, sizeof(S), 5);
}

template <class S>
bool register_baselines() {
  const std::string type = scalar_name<S>();
  for (Eigen::Index n : lossfn_bench::kRegressionSizes) {
    const std::string tail = "/" + type + "/" + lossfn_bench::count_name(n);
    add("base/read2" + tail, [n](benchmark::State& state) { read2<S>(state, n); });
    add("base/r2w1" + tail, [n](benchmark::State& state) { read2_write1<S>(state, n); });
    add("base/r2w2" + tail, [n](benchmark::State& state) { read2_write2<S>(state, n); });
    add("base/r3w1" + tail, [n](benchmark::State& state) { read3_write1<S>(state, n); });
    add("base/r3w2" + tail, [n](benchmark::State& state) { read3_write2<S>(state, n); });
  }
  // The softmax losses' shapes (m x K) and the contrastive pairs (m x d).
  for (const auto& [rows, cols] : lossfn_bench::kSoftmaxShapes) {
    const Eigen::Index n = rows * cols;
    const std::string tail = "/" + type + "/" + lossfn_bench::shape_name(rows, cols);
    add("base/exp" + tail, [n](benchmark::State& state) { transcendental<S, false>(state, n); });
    add("base/log" + tail, [n](benchmark::State& state) { transcendental<S, true>(state, n); });
    add("base/r2w1" + tail, [n](benchmark::State& state) { read2_write1<S>(state, n); });
    add("base/explog" + tail, [n](benchmark::State& state) { exp_log<S>(state, n); });
  }
  add("base/read2/" + type + "/1e5x100", [](benchmark::State& state) { read2<S>(state, 100000 * 100); });
  add("base/r2w2/" + type + "/1e5x100", [](benchmark::State& state) { read2_write2<S>(state, 100000 * 100); });
  return true;
}

const bool registered = register_baselines<float>() && register_baselines<double>();

}  // namespace
