/// @file
/// Hinge loss of binary labels, max(0, 1 - y f).
#pragma once

#include <Eigen/Core>

#include "detail/binary.hpp"
#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of Hinge and SquaredHinge.
struct HingeOptions {
  bool zero_one_labels = false;  ///< false: labels -1 and 1; true: labels 0 and 1, read as -1 and 1 (Keras)
};

namespace detail {

/// The hinge of score f and label y (0/1 labels mapped to y = 2 y01 - 1),
/// r = max(0, 1 - y f); Squared: r^2.
///   term   r                      r^2
///   d/df   -y [1 - y f > 0]       -2 y r
///   d2/df2 0                      2 [1 - y f > 0]
/// At y f = 1 the subgradient 0 is taken (and the second derivative 0).
template <bool Squared>
struct HingeMath {
  bool zero_one;

  template <class F, class Y>
  EIGEN_ALWAYS_INLINE auto value(const Eigen::ArrayBase<F>& f, const Eigen::ArrayBase<Y>& y) const {
    using S = typename F::Scalar;
    const auto r = lane_or_expression((S(1) - sign(y) * f).max(S(0)));
    if constexpr (Squared) {
      return lane_or_expression(r.square());
    } else {
      return r;
    }
  }
  template <class F, class Y>
  EIGEN_ALWAYS_INLINE auto slope(const Eigen::ArrayBase<F>& f, const Eigen::ArrayBase<Y>& y) const {
    using S = typename F::Scalar;
    const auto s = sign(y);
    const auto margin = lane_or_expression(S(1) - s * f);
    if constexpr (Squared) {
      return lane_or_expression(S(-2) * s * margin.max(S(0)));
    } else {
      return lane_or_expression(-s * positive_step(margin));
    }
  }
  template <class F, class Y>
  EIGEN_ALWAYS_INLINE auto curvature(const Eigen::ArrayBase<F>& f, const Eigen::ArrayBase<Y>& y) const {
    using S = typename F::Scalar;
    const auto margin = lane_or_expression(S(1) - sign(y) * f);
    if constexpr (Squared) {
      return lane_or_expression(S(2) * positive_step(margin));
    } else {
      return lane_or_expression(zero_or_nan(margin));
    }
  }

 private:
  /// y in {-1, 1}: the label itself, or 2 y - 1 for 0/1 labels
  template <class Y>
  EIGEN_ALWAYS_INLINE auto sign(const Eigen::ArrayBase<Y>& y) const {
    using S = typename Y::Scalar;
    return lane_or_expression(y * S(zero_one ? 2 : 1) - S(zero_one ? 1 : 0));
  }
};

/// The checks and the kernel math of Hinge and SquaredHinge.
template <class Derived, class Reduction, bool Squared>
class HingeLoss : public ElementwiseLoss<Derived, Reduction> {
 public:
  /// @param options the label convention
  explicit HingeLoss(const HingeOptions& options = {}) : options_(options) {}
  /// The options this loss was built with.
  const HingeOptions& options() const noexcept { return options_; }

 protected:
  friend struct Driver;
  friend class ElementwiseLoss<Derived, Reduction>;

  /// Labels -1/1 (or 0/1), read before anything is written.
  template <class S>
  double count(const char* function, const Inputs<S, 2>& in, const WeightsView<S>* weights) const {
    check_binary_labels(Derived::name, function, in.x[1], options_.zero_one_labels);
    return ElementwiseLoss<Derived, Reduction>::count(function, in, weights);
  }
  HingeMath<Squared> kernel_math() const { return {options_.zero_one_labels}; }

 private:
  HingeOptions options_;
};

}  // namespace detail

/// Hinge loss per element, scores f and labels y of one shape (Keras's hinge, the
/// binary SVM loss):
///   term      max(0, 1 - y f)
///   gradient  -y where y f < 1, else 0 (the subgradient 0 at y f = 1)
///   Hessian   0
/// Labels -1 and 1, or 0 and 1 with zero_one_labels. Sum, Mean over all elements,
/// WeightedMean, None.
///
/// Calls, as every elementwise loss (see BinaryCrossEntropy). Throws
/// lossfn::shape_error if the shapes differ; std::out_of_range for any other label,
/// naming row, column and value; std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class Hinge : public detail::HingeLoss<Hinge<Reduction>, Reduction, false> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "Hinge";
  using detail::HingeLoss<Hinge<Reduction>, Reduction, false>::HingeLoss;
};

}  // namespace lossfn
