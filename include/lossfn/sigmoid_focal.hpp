/// @file
/// Sigmoid focal loss (RetinaNet), as torchvision.ops.sigmoid_focal_loss.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <optional>

#include "detail/binary.hpp"
#include "detail/checks.hpp"
#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of SigmoidFocal (torchvision's defaults).
struct SigmoidFocalOptions {
  std::optional<double> alpha =
      0.25;          ///< the positive class's weight in [0, 1]; unset: no alpha_t (torchvision's alpha < 0)
  double gamma = 2;  ///< the focusing exponent, >= 0; 0 gives alpha_t-weighted BCE exactly
};

namespace detail {

/// Focal loss of logit z and target y in [0, 1] (soft allowed), p = sigmoid(z),
/// m = 1 - p_t = p (1 - y) + (1 - p) y, ce = BCEwithLogits(z, y), a = alpha_t:
///   term   a m^g ce
///   d/dz   a m^g F,   F = g R (1 - 2y) ce + (p - y),   R = p (1 - p) / m  (so that
///          d(m^g)/dz = g m^g R (1 - 2y): no negative power of m, finite for 0 < g < 1)
///   d2/dz2 a m^g (g R (1 - 2y) F + g (1 - 2y)(R' ce + R (p - y)) + p (1 - p)),
///          R' = R ((1 - 2p) - R (1 - 2y))
/// From t = exp(-|z|): m = b / (1 + t) and R = t / ((1 + t) b), b = (1 - y) + y t for
/// z > 0 and t (1 - y) + y otherwise; R <= 1 always, and where b underflows to 0 so
/// does m^g (g > 0), so R is taken with b floored at the smallest normal number.
/// m^g = exp(g max(log m, lowest)): exactly 1 for g = 0 (even at m = 0), 0 at m = 0 for g > 0.
struct SigmoidFocalMath {
  double alpha;  ///< < 0: no alpha_t
  double gamma;

  template <class Z, class Y>
  EIGEN_ALWAYS_INLINE auto value(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y) const {
    const auto t = exp_neg_abs(z);
    return lane_or_expression(alpha_t(y) * focus(z, y, t) * ce(z, y, t));
  }
  template <class Z, class Y>
  EIGEN_ALWAYS_INLINE auto slope(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y) const {
    using S = typename Z::Scalar;
    const auto t = exp_neg_abs(z);
    const auto f =
        lane_or_expression(S(gamma) * ratio(z, y, t) * (S(1) - S(2) * y) * ce(z, y, t) + sigmoid_minus(z, y, t));
    return lane_or_expression(alpha_t(y) * focus(z, y, t) * f);
  }
  template <class Z, class Y>
  EIGEN_ALWAYS_INLINE auto curvature(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y) const {
    using S = typename Z::Scalar;
    const S g = static_cast<S>(gamma);
    const auto t = exp_neg_abs(z);
    const auto p = sigmoid_of(z, t);
    const auto r = ratio(z, y, t);
    const auto c = ce(z, y, t);
    const auto u = lane_or_expression(S(1) - S(2) * y);
    const auto d = sigmoid_minus(z, y, t);
    const auto f = lane_or_expression(g * r * u * c + d);
    const auto dr = lane_or_expression(r * ((S(1) - S(2) * p) - r * u));
    return lane_or_expression(alpha_t(y) * focus(z, y, t) *
                              (g * r * u * f + g * u * (dr * c + r * d) + sigmoid_slope_of(t)));
  }

 private:
  /// alpha y + (1 - alpha)(1 - y) as (1 - alpha) + (2 alpha - 1) y; without alpha
  /// 1 + 0 y: exactly 1 (NaN for a NaN y either way)
  template <class Y>
  EIGEN_ALWAYS_INLINE auto alpha_t(const Eigen::ArrayBase<Y>& y) const {
    using S = typename Y::Scalar;
    const S base = alpha < 0 ? S(1) : S(1 - alpha), slope = alpha < 0 ? S(0) : S(2 * alpha - 1);
    return lane_or_expression(base + slope * y);
  }
  /// b: (1 + t) m, see the struct's comment
  template <class Z, class Y, class T>
  static EIGEN_ALWAYS_INLINE auto scaled_m(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y,
                                           const Eigen::ArrayBase<T>& t) {
    using S = typename Z::Scalar;
    const auto up = positive_step(z);
    return lane_or_expression(up * ((S(1) - y) + y * t) + (S(1) - up) * (t * (S(1) - y) + y));
  }
  /// m^g
  template <class Z, class Y, class T>
  EIGEN_ALWAYS_INLINE auto focus(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y,
                                 const Eigen::ArrayBase<T>& t) const {
    using S = typename Z::Scalar;
    const auto m = lane_or_expression(scaled_m(z, y, t) / (S(1) + t));
    return lane_or_expression((S(gamma) * m.log().max(std::numeric_limits<S>::lowest())).exp());
  }
  /// R = p (1 - p) / m
  template <class Z, class Y, class T>
  static EIGEN_ALWAYS_INLINE auto ratio(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y,
                                        const Eigen::ArrayBase<T>& t) {
    using S = typename Z::Scalar;
    return lane_or_expression(t / ((S(1) + t) * scaled_m(z, y, t).max(std::numeric_limits<S>::min())));
  }
  /// BCEwithLogits(z, y) = max(z, 0) - z y + log1p(t), as BinaryCrossEntropy's
  template <class Z, class Y, class T>
  static EIGEN_ALWAYS_INLINE auto ce(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y,
                                     const Eigen::ArrayBase<T>& t) {
    using S = typename Z::Scalar;
    return lane_or_expression(z.max(S(0)) - z * y + t.log1p());
  }
};

}  // namespace detail

/// Sigmoid focal loss per element (torchvision.ops.sigmoid_focal_loss; Lin et al.,
/// RetinaNet), logits z and targets y in [0, 1] of one shape, p = sigmoid(z),
/// p_t = p y + (1 - p)(1 - y), alpha_t = alpha y + (1 - alpha)(1 - y) (1 without alpha):
///   term      alpha_t (1 - p_t)^gamma BCEwithLogits(z, y)
///   gradient  alpha_t (1 - p_t)^gamma (gamma R (1 - 2y) BCE + p - y), R = p (1 - p) / (1 - p_t)
///   Hessian   its derivative (see detail::SigmoidFocalMath)
/// written without negative powers of 1 - p_t, so the gradient and Hessian are finite
/// at saturated logits for every gamma >= 0, 0 < gamma < 1 included. gamma = 0 gives
/// BinaryCrossEntropy weighted by alpha_t exactly. Sum, Mean over all elements (for
/// RetinaNet's normalisation, Sum divided by the number of positive anchors: see
/// docs/sigmoid_focal.md), WeightedMean, None.
///
/// Calls, as every elementwise loss (see BinaryCrossEntropy). Throws
/// lossfn::shape_error if the shapes differ; std::out_of_range for a target outside
/// [0, 1]; std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class SigmoidFocal : public detail::ElementwiseLoss<SigmoidFocal<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "SigmoidFocal";

  /// @throws std::invalid_argument for gamma < 0 (or not finite) or alpha outside [0, 1]
  explicit SigmoidFocal(const SigmoidFocalOptions& options = {}) : options_(options) {
    detail::check_option(std::isfinite(options.gamma) && options.gamma >= 0, name,
                         "gamma must be finite and >= 0, got " + detail::number_string(options.gamma));
    detail::check_option(!options.alpha || (*options.alpha >= 0 && *options.alpha <= 1), name,
                         "alpha must be in [0, 1] or unset, got " + detail::number_string(options.alpha.value_or(0)));
  }

  /// The options this loss was built with.
  const SigmoidFocalOptions& options() const noexcept { return options_; }

 private:
  friend struct detail::Driver;
  friend class detail::ElementwiseLoss<SigmoidFocal<Reduction>, Reduction>;
  using Base = detail::ElementwiseLoss<SigmoidFocal<Reduction>, Reduction>;

  template <class S>
  double count(const char* function, const detail::Inputs<S, 2>& in, const detail::WeightsView<S>* weights) const {
    detail::check_unit_interval(name, function, "target", in.x[1]);
    return Base::count(function, in, weights);
  }
  detail::SigmoidFocalMath kernel_math() const { return {options_.alpha.value_or(-1.0), options_.gamma}; }

  SigmoidFocalOptions options_;
};

}  // namespace lossfn
