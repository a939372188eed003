// KLDivergence<Mean> (batchmean): forward, backward and forward_backward at the
// softmax shapes (and forward_backward_hessian at 4096 x 1000), in both storage orders, for two input forms:
//   logits:   Q as logits, P as probabilities (the defaults). Its math needs, per
//             element, an exp (softmax of Q) and a log (of P): baseline base/explog.
//   log/log:  Q as log-probabilities, P as log-probabilities (log_target): no
//             transcendental per element beyond exp(log P); baseline base/exp.
//             The pure-memory floor, base/r2w1, is in the table for reference.
#include <lossfn/kl_divergence.hpp>

#include "bench_common.hpp"

namespace {

using lossfn_bench::Mat;

template <class S, int Order>
std::string key(const char* what, Eigen::Index m, Eigen::Index k) {
  return std::string(what) + lossfn_bench::shape_name(m, k) + lossfn_bench::scalar_name<S>() +
         (Order == Eigen::RowMajor ? "r" : "c");
}

/// The four inputs of shape m x K: logits of Q, probabilities P, log Q, log P.
template <class S, int Order>
const Mat<S, Order>& input(const char* what, Eigen::Index m, Eigen::Index k) {
  using Z = Mat<S, Order>;
  return lossfn_bench::cached<Z>(key<S, Order>(what, m, k), [&]() -> Z {
    const std::string w = what;
    Z logits_q = lossfn_bench::cached_random<Mat<S, Eigen::RowMajor>>(m, k, 41, -4.0, 4.0);
    Z logits_p = lossfn_bench::cached_random<Mat<S, Eigen::RowMajor>>(m, k, 42, -4.0, 4.0);
    auto log_softmax = [](Z z) {
      for (Eigen::Index i = 0; i < z.rows(); ++i) {
        const S mx = z.row(i).maxCoeff();
        const S lse = mx + std::log((z.row(i) - mx).exp().sum());
        z.row(i) -= lse;
      }
      return z;
    };
    if (w == "logits") return logits_q;
    if (w == "logq") return log_softmax(logits_q);
    if (w == "logp") return log_softmax(logits_p);
    return log_softmax(logits_p).exp();  // "p"
  });
}

template <class S, int Order, bool LogForm>
void register_case(Eigen::Index m, Eigen::Index k) {
  using Z = Mat<S, Order>;
  const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::shape_name(m, k);
  const std::string form = LogForm ? "/log" : "/logits";
  const std::string variant = form + (Order == Eigen::RowMajor ? "/row" : "/col");
  const std::string base = (LogForm ? "base/exp" : "base/explog") + tail;
  lossfn::KLDivergenceOptions options;
  if (LogForm) {
    options.input = lossfn::Input::LogProbabilities;
    options.log_target = true;
  }
  const lossfn::KLDivergence<> loss(options);
  auto q = [m, k]() -> const Z& { return input<S, Order>(LogForm ? "logq" : "logits", m, k); };
  auto p = [m, k]() -> const Z& { return input<S, Order>(LogForm ? "logp" : "p", m, k); };
  lossfn_bench::add("kl/forward" + tail + variant, [=](benchmark::State& state) {
    const Z& zq = q();
    const Z& zp = p();
    for (auto _ : state) benchmark::DoNotOptimize(loss.forward(zq, zp));
    lossfn_bench::set_bytes(state, m * k, sizeof(S), 2);
    lossfn_bench::compare_with(state, base, "torch/kl/forward" + tail + form);
  });
  lossfn_bench::add("kl/backward" + tail + variant, [=](benchmark::State& state) {
    const Z& zq = q();
    const Z& zp = p();
    for (auto _ : state) {
      Z grad = loss.backward(zq, zp);
      benchmark::DoNotOptimize(grad.data());
      benchmark::ClobberMemory();
    }
    lossfn_bench::set_bytes(state, m * k, sizeof(S), 3);
    lossfn_bench::compare_with(state, base);
  });
  lossfn_bench::add("kl/forward_backward" + tail + variant, [=](benchmark::State& state) {
    const Z& zq = q();
    const Z& zp = p();
    Z grad(m, k);
    for (auto _ : state) {
      benchmark::DoNotOptimize(loss.forward_backward(zq, zp, grad));
      benchmark::ClobberMemory();
    }
    lossfn_bench::set_bytes(state, m * k, sizeof(S), 3);
    lossfn_bench::compare_with(state, base, "torch/kl/forward_backward" + tail + form);
  });
  // the gradient and the Hessian diagonal in one pass, next to forward_backward
  if (m == 4096 && k == 1000) {
    lossfn_bench::add("kl/forward_backward_hessian" + tail + variant, [=](benchmark::State& state) {
      const Z& zq = q();
      const Z& zp = p();
      Z grad(m, k), hess(m, k);
      for (auto _ : state) {
        benchmark::DoNotOptimize(loss.forward_backward_hessian(zq, zp, grad, hess));
        benchmark::ClobberMemory();
      }
      lossfn_bench::set_bytes(state, m * k, sizeof(S), 4);
      lossfn_bench::compare_with(state, "kl/forward_backward" + tail + variant);
    });
  }
}

template <class S>
bool register_all() {
  for (const auto& shape : lossfn_bench::kSoftmaxShapes) {
    register_case<S, Eigen::RowMajor, false>(shape.first, shape.second);
    register_case<S, Eigen::ColMajor, false>(shape.first, shape.second);
    register_case<S, Eigen::RowMajor, true>(shape.first, shape.second);
    register_case<S, Eigen::ColMajor, true>(shape.first, shape.second);
  }
  return true;
}

const bool registered = register_all<float>() && register_all<double>();

}  // namespace
