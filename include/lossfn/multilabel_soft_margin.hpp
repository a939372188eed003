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
  /// rows.record and, times u = rows.multiplier(i) / C (the reduction's scale or
  /// None's upstream, times the row's weight), the gradient and Hessian diagonal.
  /// Vectorised in pred's scalar type over pieces that follow the storage order
  /// (row-major: pieces of a row; column-major: a column's piece of a block of rows,
  /// the rows' sums kept beside it), sums in the accumulation type. With
  /// e = exp(-|x|) and r = 1 / (1 + e): sigmoid(x) = r exp(min(x, 0)) (no select,
  /// no cancellation at x << 0) and sigmoid (1 - sigmoid) = e r^2. grad and hess are
  /// NoGrad* (nullptr) when not wanted.
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    using S = detail::scalar_t<Z>;
    using A = detail::accumulator_t<S>;
    constexpr bool want_grad = !std::is_same<Grad, detail::NoGrad>::value;
    constexpr bool want_hess = !std::is_same<Hess, detail::NoGrad>::value;
    const Eigen::ArrayXd& w = options_.class_weights;
    const bool weighted = w.size() != 0;
    const Eigen::Index m = z.rows(), classes = z.cols();
    const A inv_c = A(1) / static_cast<A>(classes);
    // one piece: x, y its logits and targets, wv its class weights, uv its multiplier
    // u / C (row mode: a scalar; column mode: one per row), e and r stack buffers;
    // returns the weighted terms w BCE(x, y) as an expression over e and r
    const auto piece = [&](const auto& x, const auto& y, const auto& wv, const auto& uv, auto&& g, auto&& h, auto& e,
                           auto& r) {
      e = (-x.abs()).exp();  // in (0, 1]: neither overflows
      r = S(1) / (S(1) + e);
      // sigmoid(x) = r max(e, [x >= 0]) (r for x >= 0, e r below), [x >= 0] = min(sign x + 1, 1)
      if constexpr (want_grad) detail::assign(g, (uv * wv) * (r * e.max((x.sign() + S(1)).min(S(1))) - y));
      if constexpr (want_hess) detail::assign(h, (uv * wv) * (e * r * r));
      static_cast<void>(g);
      static_cast<void>(h);
      static_cast<void>(uv);
      // log1p(e) as log(1 + e) - ((1 + e) - 1 - e) / (1 + e): the rounding of 1 + e
      // corrected to first order (vectorised in float and double, unlike log1p)
      return wv * (x.max(S(0)) - x * y + ((S(1) + e).log() - (((S(1) + e) - S(1)) - e) * r));
    };
    if constexpr (bool(Z::IsRowMajor)) {
      using Piece = Eigen::Array<S, 1, Eigen::Dynamic, Eigen::RowMajor, 1, detail::kRowPiece>;
      Piece e, r;
      detail::NoGrad none;
      for (Eigen::Index i = 0; i < m; ++i) {
        const S u = static_cast<S>(static_cast<A>(rows.multiplier(i)) * inv_c);
        detail::RowSums<S, A> total(1);
        for (Eigen::Index start = 0; start < classes; start += detail::kRowPiece) {
          const Eigen::Index n = std::min(detail::kRowPiece, classes - start);
          const auto x = z.row(i).segment(start, n);
          const auto y = target.row(i).segment(start, n);
          const auto run = [&](auto&& g, auto&& h) {
            if (weighted) {
              const auto wv = w.segment(start, n).transpose().template cast<S>();
              total.add(piece(x, y, wv, u, g, h, e, r));
            } else {
              total.add(piece(x, y, S(1), u, g, h, e, r));
            }
          };
          if constexpr (want_grad && want_hess) {
            run(grad->row(i).segment(start, n), hess->row(i).segment(start, n));
          } else if constexpr (want_grad) {
            run(grad->row(i).segment(start, n), none);
          } else if constexpr (want_hess) {
            run(none, hess->row(i).segment(start, n));
          } else {
            run(none, none);
          }
        }
        rows.record(i, total.totals() * inv_c);
      }
    } else {
      constexpr Eigen::Index block = detail::kRowBlock<S>;
      using Column = detail::row_values<S>;
      Column e, r, u;
      detail::NoGrad none;
      for (Eigen::Index r0 = 0; r0 < m; r0 += block) {
        const Eigen::Index n = std::min(block, m - r0);
        u.resize(n);
        for (Eigen::Index j = 0; j < n; ++j) u(j) = static_cast<S>(static_cast<A>(rows.multiplier(r0 + j)) * inv_c);
        detail::RowSums<Column, A> total(n);  // column pieces summed in S, moved into A every few columns
        for (Eigen::Index c = 0; c < classes; ++c) {
          const auto x = z.block(r0, c, n, 1);
          const auto y = target.block(r0, c, n, 1);
          const S wc = weighted ? static_cast<S>(w(c)) : S(1);
          const auto run = [&](auto&& g, auto&& h) { total.add(piece(x, y, wc, u, g, h, e, r)); };
          if constexpr (want_grad && want_hess) {
            run(grad->block(r0, c, n, 1), hess->block(r0, c, n, 1));
          } else if constexpr (want_grad) {
            run(grad->block(r0, c, n, 1), none);
          } else if constexpr (want_hess) {
            run(none, hess->block(r0, c, n, 1));
          } else {
            run(none, none);
          }
        }
        const auto& totals = total.totals();
        for (Eigen::Index j = 0; j < n; ++j) rows.record(r0 + j, totals(j) * inv_c);
      }
    }
  }

  MultiLabelSoftMarginOptions options_;
};

}  // namespace lossfn
