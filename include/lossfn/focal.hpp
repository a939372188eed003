/// @file
/// Softmax focal loss (Lin et al. 2017): cross entropy down-weighted by (1 - q)^gamma
/// on the classes the prediction already gets right.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <utility>

#include "cross_entropy.hpp"
#include "detail/checks.hpp"
#include "detail/softmax.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of Focal: CrossEntropy's (input form, label_smoothing, class_weights as
/// the alpha, ignore_index) and gamma. Derives from CrossEntropyOptions (as
/// TverskyOptions from SegmentationOptions), so those fields are set by name.
struct FocalOptions : CrossEntropyOptions {
  double gamma = 2;  ///< the focusing exponent, finite and >= 0; 0 is cross entropy
};

namespace detail {

/// Focal's per-class term phi(q) = (1 - q)^gamma log q, with x = 1 - q, lq = log q and
/// r = lq / x (-1 at x = 0, its limit; r <= -1 on (0, 1)), B = -2 - lq + (gamma - 1) q r:
///   psi   = q phi'(q) = x^gamma (1 - gamma q r)
///   chi   = q psi'(q) = gamma x^(gamma - 1) q B
///   kappa = x^2 chi   = gamma x^(gamma + 1) q B
/// The textbook gamma q (1 - q)^(gamma - 1) log q is x^gamma q r here: no 0 x inf and
/// no negative power of x (chi's x^(gamma - 1) diverges at x = 0 for gamma < 1, and so
/// does the true chi; the logits path uses it only where x >= 1/2, kappa elsewhere).
/// q r and q B are 0 at q = 0 (their limits; log q may be -inf there).
struct FocalTerm {
  static constexpr bool plain = false;
  double gamma;
  template <class T>
  TermValues<T> at(T q, T lq, T x) const {
    using std::pow;
    const T g = static_cast<T>(gamma);
    const T r = x == T(0) ? T(-1) : lq / x;
    const T qr = q == T(0) ? T(0) : q * r;
    const T qb = q == T(0) ? T(0) : q * (T(-2) - lq + (g - T(1)) * qr);
    // x^gamma (gamma 1 and 2 by multiplication: one pow per row costs 1.3x CrossEntropy's
    // forward_backward at 4096 x 1000), x^(gamma - 1) as x^gamma / x where that is normal
    const T xg = gamma == 2 ? x * x : gamma == 1 ? x : pow(x, g);
    const T xg1 = xg >= std::numeric_limits<T>::min() ? xg / x : pow(x, g - T(1));
    return {xg * lq, xg * (T(1) - g * qr), g * xg1 * qb, g * xg * x * qb};
  }
};

}  // namespace detail

/// Softmax focal loss per sample (row) i of an m x K pred, against class indices (an
/// m x 1 integer column) or an m x K array of probabilities, with CrossEntropy's
/// options:
///
///   index target t:  loss_i = -alpha_t (1 - q_it)^gamma log q_it
///   general:         loss_i = -sum_k c_ik (1 - q_ik)^gamma log q_ik
///
/// c_i is CrossEntropy's weighted, smoothed target row (class_weights are the alpha)
/// and q_i pred's row as a distribution (softmax of logits; probabilities and
/// log-probabilities as given, q <= 1 expected: (1 - q)^gamma is NaN beyond).
///
/// Gradient, index target t, from logits (psi = (1 - q_t)^gamma (1 - gamma q_t log
/// q_t / (1 - q_t))):  grad_j = alpha_t psi (q_j - [j = t]), CrossEntropy's times psi;
/// 1 - q_t comes from the other classes' softmax, so saturated logits (+-1e4) give
/// finite, exact gradients and Hessian diagonals for every gamma >= 0. The Hessian
/// diagonal from logits is exact and finite; from probabilities or log-probabilities
/// at q = 1 exactly with 0 < gamma < 1 it is the true +inf (the second derivative of
/// (1 - q)^gamma log q diverges there). gamma = 0 is CrossEntropy's code path, bit for
/// bit.
///
/// Sum: L = sum_i loss_i. Mean: L = sum_i loss_i / N with N the number of counted
/// (not ignored) samples for index targets, m for soft targets: alpha enters no
/// denominator (unlike CrossEntropy's weighted Mean). WeightedMean: N = the summed
/// sample weights of the counted samples. None: the column of loss_i. RetinaNet's
/// normalisation by the positive anchors: use Sum and divide (docs/focal.md).
///
/// Errors: as CrossEntropy (shape_error for shapes and class_weights of the wrong
/// length, std::out_of_range for a class index outside [0, K)), and
/// std::invalid_argument for gamma < 0 or not finite.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class Focal : public detail::RowwiseLoss<Focal<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "Focal";

  /// Logits, gamma = 2, no alpha, no smoothing, nothing ignored.
  Focal() = default;
  /// @param options the options
  /// @throws std::invalid_argument for CrossEntropy's bad options or gamma < 0 or not finite
  explicit Focal(FocalOptions options) : options_(std::move(options)) {
    detail::check_cross_entropy_options(name, options_);
    detail::check_option(std::isfinite(options_.gamma) && options_.gamma >= 0, name,
                         "gamma must be finite and >= 0, got " + detail::number_string(options_.gamma));
  }
  /// @param gamma the focusing exponent (the other options at their defaults)
  explicit Focal(double gamma) : Focal(with_gamma(gamma)) {}

  /// The options this loss was built with.
  const FocalOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<Focal<Reduction>, Reduction>;
  friend struct detail::Driver;

  static FocalOptions with_gamma(double gamma) {
    FocalOptions o;
    o.gamma = gamma;
    return o;
  }

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::check_class_targets(name, function, options_, pred, target);
  }
  /// The counted samples (their summed sample weights): alpha enters no denominator.
  template <class P, class T, class S>
  double divisor(const char* function, const P& pred, const T& target, const detail::RowWeights<S>& sample) const {
    return detail::class_target_divisor(name, function, options_, pred, target, sample, false);
  }
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    if (options_.gamma == 0) {
      detail::class_target_kernel(options_, detail::LogTerm{}, z, target, grad, rows, hess);
    } else {
      detail::class_target_kernel(options_, detail::FocalTerm{options_.gamma}, z, target, grad, rows, hess);
    }
  }

  FocalOptions options_;
};

}  // namespace lossfn
