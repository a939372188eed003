/// @file
/// Mean squared error.
#pragma once

#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Squared error, per element: (yhat - y)^2.
///
/// Sum: L = sum_i (yhat_i - y_i)^2, Mean: L = that / n over the n = rows x cols
/// elements (PyTorch's mse_loss). Gradient: dL/dyhat_i = 2 (yhat_i - y_i) x scale,
/// scale = 1 (Sum) or 1/n (Mean). Hessian diagonal: d2L/dyhat_i^2 = 2 x scale.
///
/// Calls, as every elementwise loss: forward(pred, target), backward(pred, target)
/// (None: backward(pred, target, upstream)), forward_backward(pred, target, grad_out),
/// hessian_diagonal(pred, target) (None: with upstream), forward_backward_hessian(pred,
/// target, grad_out, hess_out) and operator() (= forward). Throws lossfn::shape_error if the shapes differ and
/// std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default) or None
template <class Reduction = Mean>
class MSE : public detail::ElementwiseLoss<MSE<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::MSE::forward: ...").
  static constexpr const char* name = "MSE";

  /// per term: e^2, e = yhat - y
  template <class E>
  static auto value(const Eigen::ArrayBase<E>& e) {
    return e.square();
  }
  /// d/dyhat: 2 e
  template <class E>
  static auto slope(const Eigen::ArrayBase<E>& e) {
    return typename E::Scalar(2) * e;
  }
  /// d2/dyhat2: 2 (NaN for a NaN e)
  template <class E>
  static auto curvature(const Eigen::ArrayBase<E>& e) {
    return typename E::Scalar(2) + detail::zero_or_nan(e);
  }
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(MSE)
#endif
