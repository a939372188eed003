/// @file
/// Root mean squared error.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "mse.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Root of the reduced squared error: L = sqrt(scale x sum_i (yhat_i - y_i)^2),
/// scale = 1 (Sum) or 1/n (Mean, the usual RMSE). The root is taken after the
/// reduction, so there are no per-term losses and None does not compile.
/// Gradient: dL/dyhat_i = scale (yhat_i - y_i) / L, and 0 when L = 0 (every
/// prediction exact), the subgradient PyTorch's sqrt(mse) would turn into NaN.
template <class Reduction = Mean>
class RMSE {
  static_assert(Reduction::reduces,
                "lossfn::RMSE has no None reduction: its root is taken after the reduction, so there are no "
                "per-term losses (use MSE<None> for per-element squared errors)");

 public:
  /// The reduction policy, Sum or Mean.
  using reduction = Reduction;
  /// The loss's name, as it appears in error messages ("lossfn::RMSE::forward: ...").
  static constexpr const char* name = "RMSE";

  /// L = sqrt(scale x sum_i e_i^2), e = yhat - y
  template <class P, class T>
  detail::scalar_t<P> forward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    check(pred, target, "forward");
    detail::operand_t<P> p = pred.derived();
    detail::operand_t<T> t = target.derived();
    return loss_and_factor(p, t).first;
  }

  /// dL/dyhat_i = scale e_i / L (0 if L = 0)
  template <class P, class T>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    check(pred, target, "backward");
    detail::operand_t<P> p = pred.derived();
    detail::operand_t<T> t = target.derived();
    const auto factor = loss_and_factor(p, t).second;
    typename P::PlainObject grad(pred.rows(), pred.cols());
    write_gradient(grad, detail::as_array(p) - detail::as_array(t), factor);
    return grad;
  }

  /// Both; the root is needed before any gradient entry, so the gradient is
  /// written in a second pass (the first reads pred and target only).
  template <class P, class T, class G>
  detail::scalar_t<P> forward_backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                       const Eigen::DenseBase<G>& grad_out) const {
    detail::require_same_scalar<P, G>();
    check(pred, target, "forward_backward");
    detail::check_output(name, "forward_backward", "grad_out", grad_out, "pred", pred.rows(), pred.cols());
    detail::operand_t<P> p = pred.derived();
    detail::operand_t<T> t = target.derived();
    const auto [loss, factor] = loss_and_factor(p, t);
    G& grad = detail::prepare_output(grad_out, pred.rows(), pred.cols());
    detail::for_each_block(
        [factor = factor](const auto& pb, const auto& tb, auto&& gb) {
          write_gradient(gb, detail::as_array(pb) - detail::as_array(tb), factor);
        },
        p, t, grad);
    return loss;
  }

  /// Same as forward.
  template <class P, class T>
  detail::scalar_t<P> operator()(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return forward(pred, target);
  }

 private:
  template <class P, class T>
  static void check(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target, const char* function) {
    detail::require_same_scalar<P, T>();
    detail::check_same_shape(name, function, "pred", pred, "target", target);
    detail::check_terms<Reduction>(name, function, pred.size());
  }

  /// {L, scale / L}, the factor 0 when L = 0. The factor stays in the accumulator
  /// type: for float errors below ~1e-38, scale / L does not fit a float although
  /// every gradient entry e_i x scale / L does (found by the fuzzer, tests/fuzz).
  template <class P, class T>
  static std::pair<detail::scalar_t<P>, detail::accumulator_t<detail::scalar_t<P>>> loss_and_factor(const P& p,
                                                                                                    const T& t) {
    using S = detail::scalar_t<P>;
    using Acc = detail::accumulator_t<S>;
    const Acc scale = Reduction::scale(static_cast<Acc>(p.size()));
    const Acc loss = std::sqrt(detail::sum_terms(MSE<Reduction>{}, p, t) * scale);
    const Acc factor = loss == Acc(0) ? Acc(0) : scale / loss;
    return {static_cast<S>(loss), factor};
  }

  /// e x factor, multiplied in the accumulator type and rounded once to e's type.
  template <class E>
  static auto gradient(const Eigen::ArrayBase<E>& e, detail::accumulator_t<typename E::Scalar> factor) {
    using S = typename E::Scalar;
    return (e.template cast<detail::accumulator_t<S>>() * factor).template cast<S>();
  }

  /// g = e x factor: in e's type when the factor fits it (the factor rounded once
  /// more, within 1 ulp; float->double->float casts cost 3x at 1e3 elements), else,
  /// for denormal float errors, in the accumulator type as gradient() does.
  template <class G, class E>
  static void write_gradient(G&& g, const Eigen::ArrayBase<E>& e, detail::accumulator_t<typename E::Scalar> factor) {
    using S = typename E::Scalar;
    using Acc = detail::accumulator_t<S>;
    if (std::is_same<S, Acc>::value || factor <= static_cast<Acc>(std::numeric_limits<S>::max())) {
      detail::assign(g, e * static_cast<S>(factor));
    } else {
      detail::assign(g, gradient(e, factor));
    }
  }
};

}  // namespace lossfn
