/// @file
/// Mean absolute error.
#pragma once

#include "detail/elementwise.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Absolute error, per element: |yhat - y|.
///
/// Sum: L = sum_i |yhat_i - y_i|, Mean: L = that / n over the n elements.
/// Gradient: sign(yhat_i - y_i) x scale, with the subgradient 0 where yhat_i = y_i
/// (PyTorch's choice) and NaN where the error is NaN.
///
/// Calls, as every elementwise loss: forward(pred, target), backward(pred, target)
/// (None: backward(pred, target, upstream)), forward_backward(pred, target, grad_out)
/// and operator() (= forward). Throws lossfn::shape_error if the shapes differ and
/// std::invalid_argument for Mean over an empty input.
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
  /// d/dyhat: sign(e), 0 at e = 0; Eigen's sign maps NaN to 0, so NaN is put back
  template <class E>
  static auto slope(const Eigen::ArrayBase<E>& e) {
    return (e == e).select(e.sign(), e);
  }
};

}  // namespace lossfn
