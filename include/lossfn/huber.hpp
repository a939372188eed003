/// @file
/// Huber loss: quadratic near zero, linear in the tails.
#pragma once

#include <cmath>

#include "detail/checks.hpp"
#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of Huber.
struct HuberOptions {
  double delta = 1.0;  ///< where the quadratic becomes linear; finite and > 0
};

/// Huber loss, per element with e = yhat - y:
///   1/2 e^2                 if |e| <= delta
///   delta (|e| - delta/2)   otherwise
/// Sum or Mean over the n elements, as PyTorch's huber_loss. Gradient:
/// clamp(e, -delta, delta) x scale. At |e| = delta both pieces agree in value
/// and slope, so the choice of piece there does not matter. Hessian diagonal: scale
/// where |e| <= delta (the quadratic piece, also at the kink), else 0.
///
/// Calls, as every elementwise loss: forward(pred, target), backward(pred, target)
/// (None: backward(pred, target, upstream)), forward_backward(pred, target, grad_out),
/// hessian_diagonal(pred, target) (None: with upstream), forward_backward_hessian(pred,
/// target, grad_out, hess_out) and operator() (= forward). Throws lossfn::shape_error if the shapes differ and
/// std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default) or None
template <class Reduction = Mean>
class Huber : public detail::ElementwiseLoss<Huber<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::Huber::forward: ...").
  static constexpr const char* name = "Huber";

  /// @param delta where the quadratic becomes linear (default 1)
  /// @throws std::invalid_argument if delta is not finite and > 0
  explicit Huber(double delta = 1.0) : Huber(HuberOptions{delta}) {}
  /// @param options the options, validated as in Huber(double)
  /// @throws std::invalid_argument if options.delta is not finite and > 0
  explicit Huber(const HuberOptions& options) : options_(options) {
    detail::check_option(std::isfinite(options.delta) && options.delta > 0, name,
                         "delta must be finite and > 0, got " + detail::number_string(options.delta));
  }

  /// The options this loss was built with.
  const HuberOptions& options() const noexcept { return options_; }
  /// The threshold delta.
  double delta() const noexcept { return options_.delta; }

  /// per term: c (|e| - c/2) with c = min(|e|, delta): both pieces without a branch
  template <class E>
  auto value(const Eigen::ArrayBase<E>& e) const {
    using T = typename E::Scalar;
    const auto a = e.abs();
    const auto c = a.min(T(options_.delta));
    return c * (a - T(0.5) * c);
  }
  /// d/dyhat: clamp(e, -delta, delta); Eigen's max/min keep a NaN in e (tested)
  template <class E>
  auto slope(const Eigen::ArrayBase<E>& e) const {
    using T = typename E::Scalar;
    const T d = T(options_.delta);
    return e.max(-d).min(d);
  }
  /// d2/dyhat2: 1 if |e| <= delta (the quadratic piece, also at the kink), else 0
  template <class E>
  auto curvature(const Eigen::ArrayBase<E>& e) const {
    using T = typename E::Scalar;
    return T(1) - detail::positive_step(e.abs() - T(options_.delta));
  }

 private:
  HuberOptions options_;
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(HUBER)
#endif
