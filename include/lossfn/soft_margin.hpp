/// @file
/// Soft margin loss: the logistic loss of labels -1 and 1.
#pragma once

#include <Eigen/Core>

#include "detail/binary.hpp"
#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

namespace detail {

/// softplus(-u), u = y x, labels y = +-1, t = exp(-|u|):
///   term   log(1 + exp(-y x)) = max(-u, 0) + log1p(t)
///   d/dx   -y sigmoid(-u)
///   d2/dx2 sigmoid(u) sigmoid(-u) = t / (1 + t)^2    (y^2 = 1)
struct SoftMarginMath {
  template <class X, class Y>
  EIGEN_ALWAYS_INLINE auto value(const Eigen::ArrayBase<X>& x, const Eigen::ArrayBase<Y>& y) const {
    const auto u = lane_or_expression(y * x);
    return softplus_of_minus(u, exp_neg_abs(u));
  }
  template <class X, class Y>
  EIGEN_ALWAYS_INLINE auto slope(const Eigen::ArrayBase<X>& x, const Eigen::ArrayBase<Y>& y) const {
    const auto u = lane_or_expression(-(y * x));
    return lane_or_expression(-y * sigmoid_of(u, exp_neg_abs(u)));
  }
  template <class X, class Y>
  EIGEN_ALWAYS_INLINE auto curvature(const Eigen::ArrayBase<X>& x, const Eigen::ArrayBase<Y>& y) const {
    return sigmoid_slope_of(exp_neg_abs(lane_or_expression(y * x)));
  }
};

}  // namespace detail

/// Soft margin loss per element, as torch.nn.SoftMarginLoss: scores x and labels y
/// in {-1, 1} of one shape,
///   term      log(1 + exp(-y x))      (finite for every finite x)
///   gradient  -y sigmoid(-y x)
///   Hessian   sigmoid(x) sigmoid(-x)
/// It equals BinaryCrossEntropy from logits of y x against target 1. Sum, Mean over
/// all elements, WeightedMean, None.
///
/// Calls, as every elementwise loss (see BinaryCrossEntropy). Throws
/// lossfn::shape_error if the shapes differ; std::out_of_range for a label other
/// than -1 or 1, naming row, column and value; std::invalid_argument for Mean over
/// an empty input.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class SoftMargin : public detail::ElementwiseLoss<SoftMargin<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "SoftMargin";

 private:
  friend struct detail::Driver;
  friend class detail::ElementwiseLoss<SoftMargin<Reduction>, Reduction>;
  using Base = detail::ElementwiseLoss<SoftMargin<Reduction>, Reduction>;

  template <class S>
  static double count(const char* function, const detail::Inputs<S, 2>& in, const detail::WeightsView<S>* weights) {
    detail::check_binary_labels(name, function, in.x[1], false);
    return Base::count(function, in, weights);
  }
  static detail::SoftMarginMath kernel_math() { return {}; }
};

}  // namespace lossfn
