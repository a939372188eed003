// CrossEntropy<Mean> from logits: forward, backward and forward_backward (and, at
// 4096 x 1000, forward_backward_hessian, both with sample weights, and Focal's and
// PolyCrossEntropy's forward_backward with index targets) with class
// index targets and with soft (probability) targets, in both storage orders, at the
// softmax shapes. Its baseline is exp over the same element count (the softmax's
// irreducible work); a naive scalar loop shows what a hand-written version costs.
#include <lossfn/cross_entropy.hpp>
#include <lossfn/focal.hpp>
#include <lossfn/poly_cross_entropy.hpp>

#include <cmath>

#include "bench_common.hpp"

namespace {

using lossfn_bench::Mat;

template <class S>
using RowMajor = Mat<S, Eigen::RowMajor>;

/// Logits uniform in [-4, 4], row-major (the order torch uses; a column-major copy is
/// made where needed).
template <class S>
const RowMajor<S>& logits(Eigen::Index m, Eigen::Index k) {
  return lossfn_bench::cached_random<RowMajor<S>>(m, k, 31, -4.0, 4.0);
}

inline const Eigen::VectorXi& labels(Eigen::Index m, Eigen::Index k) {
  return lossfn_bench::cached<Eigen::VectorXi>("labels" + lossfn_bench::shape_name(m, k), [&] {
    Eigen::VectorXi y(m);
    for (Eigen::Index i = 0; i < m; ++i) y(i) = static_cast<int>((i * 7919) % k);
    return y;
  });
}

/// Soft targets: positive rows that sum to 1.
template <class S>
const RowMajor<S>& soft_targets(Eigen::Index m, Eigen::Index k) {
  return lossfn_bench::cached<RowMajor<S>>(
      "soft" + lossfn_bench::shape_name(m, k) + lossfn_bench::scalar_name<S>(), [&] {
        RowMajor<S> y = lossfn_bench::cached_random<RowMajor<S>>(m, k, 32, 0.01, 1.0);
        y.colwise() /= y.rowwise().sum();
        return y;
      });
}

/// The hand-written loop: per row, max, sum of exp, log-sum-exp, loss, gradient
/// (softmax - onehot) / m. Scalar code as a user would write it over raw row-major data.
template <class S>
S naive_cross_entropy(const S* z, const int* y, S* grad, Eigen::Index m, Eigen::Index k) {
  S total = 0;
  for (Eigen::Index i = 0; i < m; ++i) {
    const S* row = z + i * k;
    S* g = grad + i * k;
    S mx = row[0];
    for (Eigen::Index j = 1; j < k; ++j) mx = std::max(mx, row[j]);
    S sum = 0;
    for (Eigen::Index j = 0; j < k; ++j) sum += std::exp(row[j] - mx);
    const S lse = mx + std::log(sum);
    total += lse - row[y[i]];
    for (Eigen::Index j = 0; j < k; ++j) g[j] = std::exp(row[j] - lse) / static_cast<S>(m);
    g[y[i]] -= S(1) / static_cast<S>(m);
  }
  return total / static_cast<S>(m);
}

template <class S, int Order>
std::string key_suffix() {
  return std::string(lossfn_bench::scalar_name<S>()) + (Order == Eigen::RowMajor ? "r" : "c");
}

template <class S, int Order, bool Index>
void register_case(Eigen::Index m, Eigen::Index k) {
  using Z = Mat<S, Order>;
  const std::string shape = lossfn_bench::shape_name(m, k);
  const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + shape;
  const std::string variant = std::string(Index ? "/index" : "/soft") + (Order == Eigen::RowMajor ? "/row" : "/col");
  const std::string base = "base/exp" + tail;
  // the target's bytes: one int per row, or a dense m x K array
  const int arrays_in = Index ? 1 : 2;
  auto inputs = [m, k] {
    const Z& z = lossfn_bench::cached<Z>("z" + lossfn_bench::shape_name(m, k) + key_suffix<S, Order>(),
                                         [&] { return Z(logits<S>(m, k)); });
    return &z;
  };
  auto target = [ m, k ]() -> const auto& {
    if constexpr (Index) {
      return labels(m, k);
    } else {
      return lossfn_bench::cached<Z>("y" + lossfn_bench::shape_name(m, k) + key_suffix<S, Order>(),
                                     [&] { return Z(soft_targets<S>(m, k)); });
    }
  };
  const lossfn::CrossEntropy<> loss;
  const std::string peer_kind = Index ? "/index" : "/soft";
  lossfn_bench::add("ce/forward" + tail + variant, [=](benchmark::State& state) {
    const Z& z = *inputs();
    const auto& y = target();
    for (auto _ : state) benchmark::DoNotOptimize(loss.forward(z, y));
    lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in);
    lossfn_bench::compare_with(state, base, "torch/ce/forward" + tail + peer_kind);
  });
  lossfn_bench::add("ce/backward" + tail + variant, [=](benchmark::State& state) {
    const Z& z = *inputs();
    const auto& y = target();
    for (auto _ : state) {
      Z grad = loss.backward(z, y);
      benchmark::DoNotOptimize(grad.data());
      benchmark::ClobberMemory();
    }
    lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 1);
    lossfn_bench::compare_with(state, base);
  });
  lossfn_bench::add("ce/forward_backward" + tail + variant, [=](benchmark::State& state) {
    const Z& z = *inputs();
    const auto& y = target();
    Z grad(m, k);
    for (auto _ : state) {
      benchmark::DoNotOptimize(loss.forward_backward(z, y, grad));
      benchmark::ClobberMemory();
    }
    lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 1);
    lossfn_bench::compare_with(state, base, "torch/ce/forward_backward" + tail + peer_kind);
  });
  // reads pred and the target, writes the gradient and the Hessian diagonal in the same
  // pass (the target: at most 1.25x forward_backward at 4096 x 1000)
  if (m == 4096 && k == 1000) {
    lossfn_bench::add("ce/forward_backward_hessian" + tail + variant, [=](benchmark::State& state) {
      const Z& z = *inputs();
      const auto& y = target();
      Z grad(m, k), hess(m, k);
      for (auto _ : state) {
        benchmark::DoNotOptimize(loss.forward_backward_hessian(z, y, grad, hess));
        benchmark::ClobberMemory();
      }
      lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 2);
      lossfn_bench::compare_with(state, "ce/forward_backward" + tail + variant);
    });
    // Focal (gamma 2) and Poly-1 (epsilon 2) in CrossEntropy's kernel (issue 13's target:
    // within 1.3x of ce/forward_backward; soft targets take their scalar path)
    if (Index) {
      lossfn_bench::add("focal/forward_backward" + tail + variant, [=](benchmark::State& state) {
        const Z& z = *inputs();
        const auto& y = target();
        const lossfn::Focal<> focal;
        Z grad(m, k);
        for (auto _ : state) {
          benchmark::DoNotOptimize(focal.forward_backward(z, y, grad));
          benchmark::ClobberMemory();
        }
        lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 1);
        lossfn_bench::compare_with(state, "ce/forward_backward" + tail + variant);
      });
      lossfn_bench::add("poly/forward_backward" + tail + variant, [=](benchmark::State& state) {
        const Z& z = *inputs();
        const auto& y = target();
        const lossfn::PolyCrossEntropy<> poly;
        Z grad(m, k);
        for (auto _ : state) {
          benchmark::DoNotOptimize(poly.forward_backward(z, y, grad));
          benchmark::ClobberMemory();
        }
        lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 1);
        lossfn_bench::compare_with(state, "ce/forward_backward" + tail + variant);
      });
    }
    // with one sample weight per row (docs/weights.md): m more values read
    lossfn_bench::add("ce/forward_backward_weighted" + tail + variant, [=](benchmark::State& state) {
      const Z& z = *inputs();
      const auto& y = target();
      const Eigen::Array<S, Eigen::Dynamic, 1> w = Eigen::Array<S, Eigen::Dynamic, 1>::LinSpaced(m, 0.5, 1.5);
      Z grad(m, k);
      for (auto _ : state) {
        benchmark::DoNotOptimize(loss.forward_backward(z, y, lossfn::weights(w), grad));
        benchmark::ClobberMemory();
      }
      lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 1);
      lossfn_bench::compare_with(state, "ce/forward_backward" + tail + variant);
    });
    lossfn_bench::add("ce/forward_backward_hessian_weighted" + tail + variant, [=](benchmark::State& state) {
      const Z& z = *inputs();
      const auto& y = target();
      const Eigen::Array<S, Eigen::Dynamic, 1> w = Eigen::Array<S, Eigen::Dynamic, 1>::LinSpaced(m, 0.5, 1.5);
      Z grad(m, k), hess(m, k);
      for (auto _ : state) {
        benchmark::DoNotOptimize(loss.forward_backward_hessian(z, y, lossfn::weights(w), grad, hess));
        benchmark::ClobberMemory();
      }
      lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 2);
      lossfn_bench::compare_with(state, "ce/forward_backward" + tail + variant);
    });
  }
}

template <class S>
bool register_all() {
  for (const auto& shape : lossfn_bench::kSoftmaxShapes) {
    const Eigen::Index m = shape.first, k = shape.second;
    register_case<S, Eigen::RowMajor, true>(m, k);
    register_case<S, Eigen::ColMajor, true>(m, k);
    register_case<S, Eigen::RowMajor, false>(m, k);
    register_case<S, Eigen::ColMajor, false>(m, k);
    const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::shape_name(m, k);
    lossfn_bench::add("naive/ce/forward_backward" + tail + "/index/row", [m, k, tail](benchmark::State& state) {
      const RowMajor<S>& z = logits<S>(m, k);
      const Eigen::VectorXi& y = labels(m, k);
      RowMajor<S> grad(m, k);
      for (auto _ : state) {
        benchmark::DoNotOptimize(naive_cross_entropy(z.data(), y.data(), grad.data(), m, k));
        benchmark::ClobberMemory();
      }
      lossfn_bench::set_bytes(state, m * k, sizeof(S), 2);
      lossfn_bench::compare_with(state, "base/exp" + tail);
    });
  }
  return true;
}

const bool registered = register_all<float>() && register_all<double>();

}  // namespace
