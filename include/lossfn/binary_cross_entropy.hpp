/// @file
/// Binary cross entropy, from logits (stable) or from probabilities (PyTorch's clamps).
#pragma once

#include <Eigen/Core>

#include <cmath>

#include "detail/binary.hpp"
#include "detail/checks.hpp"
#include "detail/elementwise.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of BinaryCrossEntropy, as torch.nn.BCEWithLogitsLoss's (and BCELoss's).
struct BinaryCrossEntropyOptions {
  Input input = Input::Logits;  ///< Logits (default, recommended) or Probabilities
  Eigen::ArrayXd pos_weight;    ///< empty (default), or one weight >= 0 per column for the positive term
  double label_smoothing = 0;   ///< eps in [0, 1): the target becomes y (1 - eps) + eps / 2
};

namespace detail {

/// The one operand of a pack of one (a math's optional third operand).
template <class C>
EIGEN_ALWAYS_INLINE const C& only(const C& c) {
  return c;
}

/// The target after label smoothing: y (1 - eps) + eps / 2 (y itself when eps = 0).
template <class Y>
EIGEN_ALWAYS_INLINE auto smoothed(const Eigen::ArrayBase<Y>& y, double eps) {
  using S = typename Y::Scalar;
  return lane_or_expression(y * S(1 - eps) + S(eps / 2));
}

/// BCE from logits z, target y, pos_weight c (PosWeight; else c = 1), l = 1 + (c - 1) y:
///   term  (1 - y) z + l softplus(-z)
///   d/dz  l sigmoid(z) - c y            (sigmoid(z) - y when c = 1)
///   d2/dz2  l sigmoid(z) sigmoid(-z)
template <bool PosWeight>
struct BceLogitsMath {
  static constexpr std::size_t operands = PosWeight ? 3 : 2;
  double smoothing;

  template <class Z, class Y, class... C>
  EIGEN_ALWAYS_INLINE auto value(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y0, const C&... c) const {
    using S = typename Z::Scalar;
    const auto y = smoothed(y0, smoothing);
    const auto t = exp_neg_abs(z);
    if constexpr (PosWeight) {
      return lane_or_expression((S(1) - y) * z + (S(1) + (only(c...) - S(1)) * y) * softplus_of_minus(z, t));
    } else {
      // max(z, 0) - z y + log1p(t): PyTorch's stable form, (1 - y) z + softplus(-z)
      return lane_or_expression(z.max(S(0)) - z * y + t.log1p());
    }
  }
  template <class Z, class Y, class... C>
  EIGEN_ALWAYS_INLINE auto slope(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y0, const C&... c) const {
    using S = typename Z::Scalar;
    const auto y = smoothed(y0, smoothing);
    const auto t = exp_neg_abs(z);
    if constexpr (PosWeight) {
      return lane_or_expression((S(1) + (only(c...) - S(1)) * y) * sigmoid_of(z, t) - only(c...) * y);
    } else {
      return sigmoid_minus(z, y, t);  // sigmoid(z) - y without its cancellation at hard labels
    }
  }
  template <class Z, class Y, class... C>
  EIGEN_ALWAYS_INLINE auto curvature(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y0, const C&... c) const {
    using S = typename Z::Scalar;
    const auto s = sigmoid_slope_of(exp_neg_abs(z));
    if constexpr (PosWeight) {
      const auto y = smoothed(y0, smoothing);
      return lane_or_expression((S(1) + (only(c...) - S(1)) * y) * s);
    } else {
      return lane_or_expression(s + zero_or_nan(y0));
    }
  }
};

/// BCE from probabilities p, as torch.nn.functional.binary_cross_entropy (c = 1) with
/// pos_weight c on the positive term, l = 1 + (c - 1) y, q = max(p (1 - p), 1e-12):
///   term  -(c y max(log p, -100) + (1 - y) max(log(1 - p), -100))
///   d/dp  (l p - c y) / q                  PyTorch's (p - y) / q when c = 1
///   d2/dp2  d/dp of that: (l q - (l p - c y)(1 - 2p)) / q^2 where p (1 - p) > 1e-12,
///         l / q where the floor holds
/// The clamps make the gradient inconsistent with the value at p in {0, 1} (as in
/// PyTorch): the logits form has neither.
template <bool PosWeight>
struct BceProbabilitiesMath {
  static constexpr std::size_t operands = PosWeight ? 3 : 2;
  double smoothing;

  template <class P, class Y, class... C>
  EIGEN_ALWAYS_INLINE auto value(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<Y>& y0, const C&... c) const {
    using S = typename P::Scalar;
    const auto y = smoothed(y0, smoothing);
    const auto log_p = lane_or_expression(p.log().max(S(-100)));
    const auto log_q = lane_or_expression((S(1) - p).log().max(S(-100)));
    if constexpr (PosWeight) {
      return lane_or_expression(-(only(c...) * y * log_p + (S(1) - y) * log_q));
    } else {
      return lane_or_expression(-(y * log_p + (S(1) - y) * log_q));
    }
  }
  template <class P, class Y, class... C>
  EIGEN_ALWAYS_INLINE auto slope(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<Y>& y0, const C&... c) const {
    using S = typename P::Scalar;
    const auto y = smoothed(y0, smoothing);
    const auto q = lane_or_expression((p * (S(1) - p)).max(S(1e-12)));
    if constexpr (PosWeight) {
      return lane_or_expression(((S(1) + (only(c...) - S(1)) * y) * p - only(c...) * y) / q);
    } else {
      return lane_or_expression((p - y) / q);
    }
  }
  template <class P, class Y, class... C>
  EIGEN_ALWAYS_INLINE auto curvature(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<Y>& y0, const C&... c) const {
    using S = typename P::Scalar;
    const auto y = smoothed(y0, smoothing);
    const auto pq = lane_or_expression(p * (S(1) - p));
    const auto q = lane_or_expression(pq.max(S(1e-12)));
    // 1 where p (1 - p) > 1e-12 (the gradient's quotient varies with p), 0 on the floor
    const auto varies = lane_or_expression(positive_step(pq - S(1e-12)));
    if constexpr (PosWeight) {
      const auto l = lane_or_expression(S(1) + (only(c...) - S(1)) * y);
      return lane_or_expression((l * q - (l * p - only(c...) * y) * (S(1) - S(2) * p) * varies) / q.square());
    } else {
      return lane_or_expression((q - (p - y) * (S(1) - S(2) * p) * varies) / q.square());
    }
  }
};

}  // namespace detail

/// Binary cross entropy per element, pred and target of one shape (m x d: d binary
/// labels or d logits per sample), as torch.nn.BCEWithLogitsLoss (Input::Logits, the
/// default) or torch.nn.BCELoss (Input::Probabilities). With y the target after
/// label smoothing and c the column's pos_weight (1 without):
///   logits z:         (1 - y) z + (1 + (c - 1) y) softplus(-z)
///                     gradient (1 + (c - 1) y) sigmoid(z) - c y, Hessian (1 + (c - 1) y) sigmoid(z) sigmoid(-z)
///   probabilities p:  -(c y max(log p, -100) + (1 - y) max(log(1 - p), -100))
///                     gradient (l p - c y) / max(p (1 - p), 1e-12), l = 1 + (c - 1) y
/// The logits form is exact and finite for every finite z (z = +-1e4 in float: loss 0
/// or |z|, gradient 0 or +-1); use it. The probability form keeps PyTorch's clamps
/// and gradient floor, so at p = 0 or 1 its gradient is not the value's derivative.
/// Sum or Mean over the m d elements (WeightedMean with weights). With Sum and
/// logits, the gradient and Hessian diagonal are XGBoost's binary:logistic ones.
///
/// Calls, as every elementwise loss: forward, backward (None: with upstream),
/// forward_backward, hessian_diagonal, forward_backward_hessian, denominator and
/// operator(), each also with lossfn::weights(w) after the target. Throws
/// lossfn::shape_error if the shapes differ or pos_weight is not one per column;
/// std::out_of_range for a target (or a probability) outside [0, 1], naming row,
/// column and value; std::invalid_argument for Mean over an empty input.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class BinaryCrossEntropy : public detail::ElementwiseLoss<BinaryCrossEntropy<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "BinaryCrossEntropy";

  /// @throws std::invalid_argument for input LogProbabilities, label_smoothing outside
  /// [0, 1), or a pos_weight entry that is not finite and >= 0
  explicit BinaryCrossEntropy(const BinaryCrossEntropyOptions& options = {})
      : options_(options), pos_weight_(options.pos_weight) {
    detail::check_option(options.input != Input::LogProbabilities, name,
                         "input must be Logits or Probabilities (LogProbabilities is not a binary form)");
    detail::check_option(options.label_smoothing >= 0 && options.label_smoothing < 1, name,
                         "label_smoothing must be in [0, 1), got " + detail::number_string(options.label_smoothing));
    detail::check_option(options.pos_weight.isFinite().all() && (options.pos_weight >= 0).all(), name,
                         "pos_weight must be finite and >= 0");
  }

  /// The options this loss was built with.
  const BinaryCrossEntropyOptions& options() const noexcept { return options_; }

 private:
  friend struct detail::Driver;
  friend class detail::ElementwiseLoss<BinaryCrossEntropy<Reduction>, Reduction>;
  using Base = detail::ElementwiseLoss<BinaryCrossEntropy<Reduction>, Reduction>;

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    Base::check(function, pred, target);
    detail::check_per_column(name, function, "pos_weight", pos_weight_, pred);
  }
  /// Targets (and probabilities) in [0, 1], read before anything is written.
  template <class S>
  double count(const char* function, const detail::Inputs<S, 2>& in, const detail::WeightsView<S>* weights) const {
    detail::check_unit_interval(name, function, "target", in.x[1]);
    if (options_.input == Input::Probabilities) detail::check_unit_interval(name, function, "pred", in.x[0]);
    return Base::count(function, in, weights);
  }
  /// The math of the input form, with pos_weight as a third operand when given.
  template <class S, class W>
  detail::accumulator_t<S> run(const detail::Inputs<S, 2>& in, const W& work) const {
    const double eps = options_.label_smoothing;
    const bool logits = options_.input == Input::Logits;
    if (pos_weight_.size() == 0) {
      return logits ? this->run_with(detail::BceLogitsMath<false>{eps}, in, work)
                    : this->run_with(detail::BceProbabilitiesMath<false>{eps}, in, work);
    }
    const detail::view_t<S> c = pos_weight_.row_broadcast<S>(in.x[0].rows());
    return logits ? this->run_with(detail::BceLogitsMath<true>{eps}, in, work, c)
                  : this->run_with(detail::BceProbabilitiesMath<true>{eps}, in, work, c);
  }

  BinaryCrossEntropyOptions options_;
  detail::ColumnValues pos_weight_;
};

}  // namespace lossfn
