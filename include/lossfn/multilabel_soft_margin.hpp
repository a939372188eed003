/// @file
/// Multi-label soft margin loss: the mean over the classes of a row of the binary
/// cross entropies with logits (torch.nn.MultiLabelSoftMarginLoss).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/checks.hpp"
#include "detail/class_weights.hpp"
#include "detail/softmax.hpp"
#include "errors.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of MultiLabelSoftMargin, as torch.nn.MultiLabelSoftMarginLoss's.
struct MultiLabelSoftMarginOptions {
  Eigen::ArrayXd class_weights;  ///< one weight >= 0 per class (column); empty (default) = all 1
};

/// Multi-label soft margin loss per sample (row) i of an m x C pred of logits x,
/// against an m x C target y of values in [0, 1] (0/1 labels or soft):
///
///   loss_i = (1/C) sum_c w_c BCE(x_ic, y_ic)
///   BCE(x, y) = (1 - y) x + softplus(-x) = max(x, 0) - x y + log1p(exp(-|x|))
///
/// (stable: exact and finite at x = +-1e4), w = class_weights (1 without them).
/// Gradient and Hessian diagonal, with s = sigmoid(x) (from the same exp(-|x|)):
///
///   d loss_i / dx_ic   = (1/C) w_c (s - y)
///   d2 loss_i / dx_ic2 = (1/C) w_c s (1 - s)   (the Hessian of a row is diagonal)
///
/// Sum: L = sum_i loss_i. Mean: L = sum_i loss_i / m (PyTorch's 'mean'; class weights
/// enter no denominator), so Mean equals the elementwise Mean of BCE with logits over
/// the m x C entries. WeightedMean: divides by the summed sample weights. None: the
/// column of loss_i. Every call of the row-wise losses (see CrossEntropy): forward,
/// backward (None: with upstream), forward_backward, hessian_diagonal,
/// forward_backward_hessian, denominator, operator(), and lossfn::weights(w) with one
/// weight per row.
///
/// Errors: lossfn::shape_error when target is not of pred's shape, pred has no
/// column, or class_weights is neither empty nor of length C; std::out_of_range for
/// a target outside [0, 1] (or NaN), naming its row, column and value;
/// std::invalid_argument for a class weight that is negative or not finite (at
/// construction) and for Mean over m = 0 samples.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class MultiLabelSoftMargin : public detail::RowwiseLoss<MultiLabelSoftMargin<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::MultiLabelSoftMargin::forward: ...").
  static constexpr const char* name = "MultiLabelSoftMargin";

  /// No class weights.
  MultiLabelSoftMargin() = default;
  /// @param options the options
  /// @throws std::invalid_argument if a class weight is negative or not finite
  explicit MultiLabelSoftMargin(MultiLabelSoftMarginOptions options) : options_(std::move(options)) {
    detail::check_class_weights_option(name, options_.class_weights);
  }
  /// @param class_weights one weight >= 0 per class, or empty
  /// @throws std::invalid_argument if a class weight is negative or not finite
  explicit MultiLabelSoftMargin(Eigen::ArrayXd class_weights)
      : MultiLabelSoftMargin(MultiLabelSoftMarginOptions{std::move(class_weights)}) {}

  /// The options this loss was built with.
  const MultiLabelSoftMarginOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<MultiLabelSoftMargin<Reduction>, Reduction>;
  friend struct detail::Driver;

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::require_same_scalar<P, T>();
    detail::check_same_shape(name, function, "pred", pred, "target", target);
    detail::check_classes(name, function, pred);
    detail::check_class_weights_length(name, function, options_.class_weights, pred);
  }

  /// Checks every target (in [0, 1]) and returns what Mean divides by (m) or, with
  /// sample weights given, WeightedMean (their sum).
  template <class P, class T, class S>
  double divisor(const char* function, const P& pred, const T& target, const detail::RowWeights<S>& sample) const {
    for (Eigen::Index i = 0; i < target.rows(); ++i) {
      for (Eigen::Index c = 0; c < target.cols(); ++c) {
        const auto y = target(i, c);
        if (y >= 0 && y <= 1) continue;  // NaN fails both
        detail::raise(error_kind::out_of_range, detail::where(name, function) + "target at row " + std::to_string(i) +
                                                    ", column " + std::to_string(c) + " is " +
                                                    detail::number_string(static_cast<double>(y)) + ", not in [0, 1]");
      }
    }
    if (!sample.given()) return static_cast<double>(pred.rows());
    double total = 0;
    for (Eigen::Index i = 0; i < pred.rows(); ++i) total += static_cast<double>(sample(i));
    return total;
  }

  /// The row sink's kernel (see detail::RowwiseLoss): per row, the loss to
  /// rows.record and, times rows.multiplier(i) (the reduction's scale or None's
  /// upstream, times the row's weight), the gradient and Hessian diagonal. Math in
  /// the accumulation type. grad and hess are NoGrad* (nullptr) when not wanted.
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    using S = detail::scalar_t<Z>;
    using A = detail::accumulator_t<S>;
    constexpr bool want_grad = !std::is_same<Grad, detail::NoGrad>::value;
    constexpr bool want_hess = !std::is_same<Hess, detail::NoGrad>::value;
    const Eigen::ArrayXd& w = options_.class_weights;
    const Eigen::Index classes = z.cols();
    const A inv_c = A(1) / static_cast<A>(classes);
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
      const A u = static_cast<A>(rows.multiplier(i)) * inv_c;
      A total(0);
      for (Eigen::Index c = 0; c < classes; ++c) {
        using std::abs;
        using std::exp;
        using std::log1p;
        const A x = static_cast<A>(z(i, c)), y = static_cast<A>(target(i, c));
        const A wc = w.size() == 0 ? A(1) : static_cast<A>(w(c));
        const A e = exp(-abs(x));  // in (0, 1]: neither overflows
        total += wc * (std::max(x, A(0)) - x * y + log1p(e));
        if constexpr (want_grad || want_hess) {
          const A inv = A(1) / (A(1) + e);
          if constexpr (want_grad) {
            const A s = x >= 0 ? inv : e * inv;  // sigmoid(x)
            (*grad)(i, c) = static_cast<S>(u * wc * (s - y));
          }
          if constexpr (want_hess) (*hess)(i, c) = static_cast<S>(u * wc * (e * inv * inv));  // s (1 - s)
        }
      }
      rows.record(i, total * inv_c);
    }
  }

  MultiLabelSoftMarginOptions options_;
};

}  // namespace lossfn
