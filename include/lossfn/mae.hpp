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
template <class Reduction = Mean>
class MAE : public detail::ElementwiseLoss<MAE<Reduction>, Reduction> {
 public:
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
