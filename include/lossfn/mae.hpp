/// @file
/// Mean absolute error.
#pragma once

#include <limits>

#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Absolute error, per element: |yhat - y|.
///
/// Sum: L = sum_i |yhat_i - y_i|, Mean: L = that / n over the n elements.
/// Gradient: sign(yhat_i - y_i) x scale, with the subgradient 0 where yhat_i = y_i
/// (PyTorch's choice) and NaN where the error is NaN.
/// Hessian diagonal: 0 everywhere (the kink included).
///
/// Calls, as every elementwise loss: forward(pred, target), backward(pred, target)
/// (None: backward(pred, target, upstream)), forward_backward(pred, target, grad_out),
/// hessian_diagonal(pred, target) (None: with upstream), forward_backward_hessian(pred,
/// target, grad_out, hess_out) and operator() (= forward). Throws lossfn::shape_error if the shapes differ and
/// std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default) or None
template <class Reduction = Mean>
class MAE : public detail::ElementwiseLoss<MAE<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::MAE::forward: ...").
  static constexpr const char* name = "MAE";

  /// per term: |e|, e = yhat - y
  template <class E>
  static auto value(const Eigen::ArrayBase<E>& e) {
    return e.abs();
  }
  /// d/dyhat: sign(e), 0 at e = 0, NaN for NaN. Written as a clamp of e scaled so
  /// that every nonzero |e| (down to the smallest denormal) becomes >= 1, because
  /// Eigen 3.4 vectorises min/max but neither sign nor select (a 10x difference);
  /// min/max with the array as first operand return its NaN, like std::min.
  template <class E>
  static auto slope(const Eigen::ArrayBase<E>& e) {
    using T = typename E::Scalar;
    constexpr T big = detail::huge_scale<T>();
    return (e * big * big).max(T(-1)).min(T(1));
  }
  /// d2/dyhat2: 0 (the kink at e = 0 included, where the slope is the subgradient 0;
  /// NaN for a NaN e)
  template <class E>
  static auto curvature(const Eigen::ArrayBase<E>& e) {
    return detail::zero_or_nan(e);
  }
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(MAE)
#endif
