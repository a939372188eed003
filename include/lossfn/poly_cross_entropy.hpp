/// @file
/// Poly-1 cross entropy (Leng et al. 2022, Optax's poly_loss_cross_entropy): cross
/// entropy plus epsilon times the target's mass outside the predicted distribution.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <utility>

#include "cross_entropy.hpp"
#include "detail/checks.hpp"
#include "detail/softmax.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of PolyCrossEntropy: CrossEntropy's (input form, label_smoothing,
/// class_weights, ignore_index) and epsilon. Derives from CrossEntropyOptions (as
/// TverskyOptions from SegmentationOptions), so those fields are set by name.
struct PolyCrossEntropyOptions : CrossEntropyOptions {
  double epsilon = 2.0;  ///< the weight of the first polynomial term (Optax's default 2.0); any finite value
};

namespace detail {

/// Poly-1's per-class term phi(q) = log q - epsilon (1 - q):
///   psi = q phi'(q) = 1 + epsilon q,  chi = q psi'(q) = epsilon q,  kappa = epsilon q x^2
struct PolyTerm {
  static constexpr bool plain = false;
  double epsilon;
  template <class T>
  TermValues<T> at(T q, T lq, T x) const {
    const T e = static_cast<T>(epsilon);
    return {lq - e * x, T(1) + e * q, e * q, e * q * x * x};
  }
};

}  // namespace detail

/// Poly-1 cross entropy per sample (row) i of an m x K pred, against class indices
/// (an m x 1 integer column) or an m x K array of probabilities, as CrossEntropy:
///
///   loss_i = CE_i + epsilon sum_k c_ik (1 - q_ik)
///
/// c_i is CrossEntropy's weighted, smoothed target row and q_i pred's row as a
/// distribution (softmax of logits; probabilities and log-probabilities as given).
/// With a target that sums to 1 (one-hot, soft, smoothed) the extra term is
/// epsilon (1 - sum_k c_ik q_ik), Optax's epsilon (1 - p_t).
///
/// Gradient and Hessian diagonal with s_i = sum_k c_ik q_ik, C_i = sum_k c_ik:
///   logits:            grad = CE's - epsilon q_j (c_j - s),  hess = CE's - epsilon q_j (c_j - s)(1 - 2 q_j)
///   probabilities:     grad = CE's - epsilon c_j,            hess = CE's (c_j / p_j^2)
///   log-probabilities: grad = CE's - epsilon c_j q_j,        hess = -epsilon c_j q_j
/// times the reduction's scale (and the sample weights). epsilon = 0 is CrossEntropy
/// exactly (its own code path).
///
/// Reductions, weights, denominator and errors as CrossEntropy: Mean divides by the
/// summed class weights of the counted samples (index targets) or m (soft targets).
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class PolyCrossEntropy : public detail::RowwiseLoss<PolyCrossEntropy<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "PolyCrossEntropy";

  /// Logits, epsilon = 2, no weights, no smoothing, nothing ignored.
  PolyCrossEntropy() = default;
  /// @param options the options
  /// @throws std::invalid_argument for CrossEntropy's bad options or a non-finite epsilon
  explicit PolyCrossEntropy(PolyCrossEntropyOptions options) : options_(std::move(options)) {
    detail::check_cross_entropy_options(name, options_);
    detail::check_option(std::isfinite(options_.epsilon), name,
                         "epsilon must be finite, got " + detail::number_string(options_.epsilon));
  }
  /// @param epsilon the weight of the polynomial term (the other options at their defaults)
  explicit PolyCrossEntropy(double epsilon) : PolyCrossEntropy(with_epsilon(epsilon)) {}

  /// The options this loss was built with.
  const PolyCrossEntropyOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<PolyCrossEntropy<Reduction>, Reduction>;
  friend struct detail::Driver;

  static PolyCrossEntropyOptions with_epsilon(double epsilon) {
    PolyCrossEntropyOptions o;
    o.epsilon = epsilon;
    return o;
  }

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::check_class_targets(name, function, options_, pred, target);
  }
  template <class P, class T, class S>
  double divisor(const char* function, const P& pred, const T& target, const detail::RowWeights<S>& sample) const {
    return detail::class_target_divisor(name, function, options_, pred, target, sample, true);
  }
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    if (options_.epsilon == 0) {
      detail::class_target_kernel(options_, detail::LogTerm{}, z, target, grad, rows, hess);
    } else {
      detail::class_target_kernel(options_, detail::PolyTerm{options_.epsilon}, z, target, grad, rows, hess);
    }
  }

  PolyCrossEntropyOptions options_;
};

}  // namespace lossfn
