/// @file
/// Smooth L1 loss: Huber divided by its threshold (PyTorch's smooth_l1_loss).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "detail/checks.hpp"
#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of SmoothL1.
struct SmoothL1Options {
  double beta = 1.0;  ///< where the quadratic becomes linear; finite and >= 0 (0: the L1 loss)
};

/// Smooth L1 loss, per element with e = yhat - y:
///   1/2 e^2 / beta          if |e| < beta
///   |e| - beta/2            otherwise
/// gradient d/dyhat:
///   e / beta                if |e| < beta
///   sign(e)                 otherwise (so 0 at e = 0 when beta = 0)
/// Sum or Mean over the n elements, as PyTorch's smooth_l1_loss. beta = 0 is the
/// L1 loss |e| (MAE's terms and gradient). Huber(delta) = delta x SmoothL1(beta =
/// delta), in value and gradient. Hessian diagonal: scale / beta where |e| < beta,
/// else 0 (the linear piece at |e| = beta, 0 everywhere for beta = 0). At |e| = beta
/// both pieces agree in value (beta/2)
/// and slope (+-1).
///
/// Calls, as every elementwise loss: forward(pred, target), backward(pred, target)
/// (None: backward(pred, target, upstream)), forward_backward(pred, target, grad_out),
/// hessian_diagonal(pred, target) (None: with upstream), forward_backward_hessian(pred,
/// target, grad_out, hess_out) and operator() (= forward). Throws lossfn::shape_error if the shapes differ and
/// std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default) or None
template <class Reduction = Mean>
class SmoothL1 : public detail::ElementwiseLoss<SmoothL1<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::SmoothL1::forward: ...").
  static constexpr const char* name = "SmoothL1";

  /// @param beta where the quadratic becomes linear (default 1; 0 is the L1 loss)
  /// @throws std::invalid_argument if beta is not finite and >= 0
  explicit SmoothL1(double beta = 1.0) : SmoothL1(SmoothL1Options{beta}) {}
  /// @param options the options, validated as in SmoothL1(double)
  /// @throws std::invalid_argument if options.beta is not finite and >= 0
  explicit SmoothL1(const SmoothL1Options& options) : options_(options) {
    detail::check_option(std::isfinite(options.beta) && options.beta >= 0, name,
                         "beta must be finite and >= 0, got " + detail::number_string(options.beta));
  }

  /// The options this loss was built with.
  const SmoothL1Options& options() const noexcept { return options_; }
  /// The threshold beta.
  double beta() const noexcept { return options_.beta; }

  /// per term: (|e| - c) + c^2 / (2 beta) with c = min(|e|, beta), both pieces
  /// without a branch and exact for beta = 0 (c = 0: |e|, also for |e| = inf)
  template <class E>
  auto value(const Eigen::ArrayBase<E>& e) const {
    using T = typename E::Scalar;
    const T b = T(options_.beta);        // 0 also when a tiny beta underflows in T
    const T divisor = b > 0 ? b : T(1);  // c = 0 whenever b = 0: any divisor gives 0
    const auto a = e.abs();
    const auto c = a.min(b);  // a first: a NaN in e stays NaN
    return (a - c) + T(0.5) * c * (c / divisor);
  }
  /// d/dyhat: clamp(e / beta, -1, 1); for beta = 0, sign(e) with 0 at e = 0: e
  /// is scaled so that every nonzero |e| (down to the smallest denormal) becomes >= 1,
  /// as in MAE (min/max vectorise, sign and select do not)
  template <class E>
  auto slope(const Eigen::ArrayBase<E>& e) const {
    using T = typename E::Scalar;
    const T b = T(options_.beta);
    const T divisor = b > 0 ? b : T(1);
    constexpr T kHuge = detail::huge_scale<T>();
    const T big = b > 0 ? T(1) : kHuge;
    return ((e / divisor) * big * big).max(T(-1)).min(T(1));
  }

  /// d2/dyhat2: 1/beta if |e| < beta, else 0 (the linear piece at the kink, as
  /// PyTorch's |e| < beta test; 0 everywhere for beta = 0). A beta so small that 1/beta
  /// overflows T gives T's largest value.
  template <class E>
  auto curvature(const Eigen::ArrayBase<E>& e) const {
    using T = typename E::Scalar;
    const T b = T(options_.beta);
    const T inverse = b > 0 ? std::min(T(1) / b, std::numeric_limits<T>::max()) : T(0);
    return detail::positive_step(b - e.abs()) * inverse;
  }

 private:
  SmoothL1Options options_;
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(SMOOTH_L1)
#endif
