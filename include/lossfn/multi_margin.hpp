/// @file
/// Multi-class margin (hinge) loss against class-index targets (torch.nn.MultiMarginLoss).
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

/// Options of MultiMargin, as torch.nn.MultiMarginLoss's.
struct MultiMarginOptions {
  int p = 1;                     ///< the power of the hinge: 1 (default) or 2
  double margin = 1;             ///< the margin; finite
  Eigen::ArrayXd class_weights;  ///< one weight >= 0 per class (w_y of a row's target); empty (default) = all 1
};

/// Multi-class margin loss per sample (row) i of an m x C pred of scores x, against
/// class indices y (an m x 1 column of any integer type), as PyTorch's
/// MultiMarginLoss:
///
///   loss_i = (1/C) sum_{j != y_i} w_{y_i} h_ij^p,  h_ij = max(0, margin - x_{i,y_i} + x_ij)
///
/// (w = class_weights, 1 without them). Gradient (subgradient 0 at the hinge,
/// margin - x_y + x_j = 0, as PyTorch) and Hessian diagonal, over the active j
/// (margin - x_y + x_j > 0):
///
///   d loss_i / dx_ij  = (1/C) w_y p h_ij^(p-1)          (j active; 0 otherwise)
///   d loss_i / dx_iy  = -sum_{active j} d loss_i / dx_ij
///   d2 loss_i / dx2   = 0 for p = 1; for p = 2: (2/C) w_y at an active j and
///                       (2/C) w_y x (the number of active j) at y
///
/// Sum: L = sum_i loss_i. Mean: L = sum_i loss_i / m (PyTorch: class weights enter no
/// denominator). WeightedMean: divides by the summed sample weights. None: the
/// column of loss_i. Every call of the row-wise losses (see CrossEntropy): forward,
/// backward (None: with upstream), forward_backward, hessian_diagonal,
/// forward_backward_hessian, denominator, operator(), and lossfn::weights(w) with one
/// weight per row.
///
/// Errors: lossfn::shape_error when target is not an m x 1 column, pred has no
/// column, or class_weights is neither empty nor of length C; std::out_of_range for
/// a target outside [0, C), naming its row and value; std::invalid_argument for p
/// other than 1 or 2, a margin that is not finite or a class weight that is negative
/// or not finite (at construction), and for Mean over m = 0 samples. A target of a
/// floating-point type does not compile.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class MultiMargin : public detail::RowwiseLoss<MultiMargin<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::MultiMargin::forward: ...").
  static constexpr const char* name = "MultiMargin";

  /// p = 1, margin = 1, no class weights.
  MultiMargin() = default;
  /// @param options the options
  /// @throws std::invalid_argument if p is not 1 or 2, margin is not finite, or a
  ///         class weight is negative or not finite
  explicit MultiMargin(MultiMarginOptions options) : options_(std::move(options)) {
    detail::check_option(options_.p == 1 || options_.p == 2, name,
                         "p must be 1 or 2, got " + std::to_string(options_.p));
    detail::check_option(std::isfinite(options_.margin), name,
                         "margin must be finite, got " + detail::number_string(options_.margin));
    detail::check_class_weights_option(name, options_.class_weights);
  }
  /// @param p the power of the hinge, 1 or 2
  /// @param margin the margin (finite)
  /// @param class_weights one weight >= 0 per class, or empty
  /// @throws std::invalid_argument as MultiMargin(MultiMarginOptions)
  explicit MultiMargin(int p, double margin = 1, Eigen::ArrayXd class_weights = {})
      : MultiMargin(MultiMarginOptions{p, margin, std::move(class_weights)}) {}

  /// The options this loss was built with.
  const MultiMarginOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<MultiMargin<Reduction>, Reduction>;
  friend struct detail::Driver;

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::require_same_scalar<P, P>();  // pred is floating point
    static_assert(std::is_integral<detail::scalar_t<T>>::value,
                  "lossfn: MultiMargin's target holds class indices: a column of an integer type");
    detail::check_column_per_row(name, function, "pred", pred, "target", target);
    detail::check_classes(name, function, pred);
    detail::check_class_weights_length(name, function, options_.class_weights, pred);
  }

  /// Checks every class index and returns what Mean divides by (m) or, with sample
  /// weights given, WeightedMean (their sum).
  template <class P, class T, class S>
  double divisor(const char* function, const P& pred, const T& target, const detail::RowWeights<S>& sample) const {
    detail::check_class_indices(name, function, target, pred.cols());
    if (!sample.given()) return static_cast<double>(pred.rows());
    double total = 0;
    for (Eigen::Index i = 0; i < pred.rows(); ++i) total += static_cast<double>(sample(i));
    return total;
  }

  /// The row sink's kernel (see detail::RowwiseLoss): per row, the loss to
  /// rows.record and, times rows.multiplier(i), the gradient and Hessian diagonal
  /// (every entry of the row written). grad and hess are NoGrad* (nullptr) when not wanted.
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    using S = detail::scalar_t<Z>;
    using A = detail::accumulator_t<S>;
    constexpr bool want_grad = !std::is_same<Grad, detail::NoGrad>::value;
    constexpr bool want_hess = !std::is_same<Hess, detail::NoGrad>::value;
    const Eigen::ArrayXd& w = options_.class_weights;
    const Eigen::Index classes = z.cols();
    const bool squared = options_.p == 2;
    const A margin = static_cast<A>(options_.margin);
    const A inv_c = A(1) / static_cast<A>(classes);
    if constexpr (!bool(Z::IsRowMajor)) {
      column_major_kernel(z, target, grad, rows, hess);
      return;
    }
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
      const auto y = static_cast<Eigen::Index>(target(i, 0));
      const A wy = w.size() == 0 ? A(1) : static_cast<A>(w(y));
      const A u = static_cast<A>(rows.multiplier(i)) * inv_c * wy;  // (1/C) w_y x scale (x upstream, weight)
      const A base = margin - static_cast<A>(z(i, y));
      A total(0), slope_y(0);
      Eigen::Index active = 0;
      for (Eigen::Index j = 0; j < classes; ++j) {
        if (j == y) continue;
        const A h = base + static_cast<A>(z(i, j));
        const bool on = h > 0;    // subgradient 0 at the hinge
        const bool nan = h != h;  // a NaN score: NaN loss and gradient (IEEE), not a silent 0
        if (on) {
          total += squared ? h * h : h;
          ++active;
        } else if (nan) {
          total += h;
        }
        if constexpr (want_grad) {
          const A g = on ? u * (squared ? 2 * h : A(1)) : nan ? h : A(0);
          slope_y += g;
          (*grad)(i, j) = static_cast<S>(g);
        }
        if constexpr (want_hess) (*hess)(i, j) = static_cast<S>(on && squared ? 2 * u : A(0));
      }
      if constexpr (want_grad) (*grad)(i, y) = static_cast<S>(-slope_y);
      if constexpr (want_hess) (*hess)(i, y) = static_cast<S>(squared ? 2 * u * static_cast<A>(active) : A(0));
      rows.record(i, wy * total * inv_c);
    }
  }

  /// The kernel over a column-major pred: a block of rows at a time, one contiguous
  /// column piece at a time (vectorised over the block's rows), with per row
  /// h = max(margin - x_y + x_c, 0) x [c != y] ([c != y] = min(|y - c|, 1)), the
  /// active indicator [h > 0] = sign h (NaN for a NaN h), and the sums that the
  /// target's entries take once the block's columns are done. The same values as the
  /// row-major loop above, in pred's scalar type with sums in the accumulation type.
  template <class Z, class T, class Grad, class Rows, class Hess>
  void column_major_kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess) const {
    using S = detail::scalar_t<Z>;
    using A = detail::accumulator_t<S>;
    using Column = detail::row_values<S>;
    constexpr bool want_grad = !std::is_same<Grad, detail::NoGrad>::value;
    constexpr bool want_hess = !std::is_same<Hess, detail::NoGrad>::value;
    constexpr Eigen::Index block = detail::kRowBlock<S>;
    const Eigen::ArrayXd& w = options_.class_weights;
    const Eigen::Index m = z.rows(), classes = z.cols();
    const bool squared = options_.p == 2;
    const A inv_c = A(1) / static_cast<A>(classes);
    Column u, base, label, h, step;
    detail::row_values<A, S> wy;
    for (Eigen::Index r0 = 0; r0 < m; r0 += block) {
      const Eigen::Index n = std::min(block, m - r0);
      u.resize(n);
      base.resize(n);
      label.resize(n);
      wy.resize(n);
      for (Eigen::Index j = 0; j < n; ++j) {
        const auto y = static_cast<Eigen::Index>(target(r0 + j, 0));
        wy(j) = w.size() == 0 ? A(1) : static_cast<A>(w(y));
        u(j) = static_cast<S>(static_cast<A>(rows.multiplier(r0 + j)) * inv_c * wy(j));
        base(j) = static_cast<S>(static_cast<A>(options_.margin) - static_cast<A>(z(r0 + j, y)));
        label(j) = static_cast<S>(y);
      }
      detail::RowSums<Column, A> total(n), slope(n), active(n);
      for (Eigen::Index c = 0; c < classes; ++c) {
        // Eigen 3.4's max keeps a NaN operand (packet and scalar paths alike) and sign(NaN) is NaN
        h = (base + z.block(r0, c, n, 1)).max(S(0)) * (label - static_cast<S>(c)).abs().min(S(1));
        step = h.sign();  // 1 where active, 0 at and past the hinge and at y, NaN for NaN
        total.add(squared ? (h * h).eval() : h);
        if constexpr (want_grad) {
          auto g = grad->block(r0, c, n, 1);
          if (squared) {
            detail::assign(g, (S(2) * u) * h);
          } else {
            detail::assign(g, u * step);
          }
          slope.add(g);
        }
        if constexpr (want_hess) {
          auto hc = hess->block(r0, c, n, 1);
          if (squared) {
            detail::assign(hc, (S(2) * u) * step);
          } else {
            hc.setZero();
          }
          active.add(step);
        }
      }
      const auto& totals = total.totals();
      for (Eigen::Index j = 0; j < n; ++j) {
        const auto y = static_cast<Eigen::Index>(target(r0 + j, 0));
        if constexpr (want_grad) (*grad)(r0 + j, y) = static_cast<S>(-slope.totals()(j));
        if constexpr (want_hess) {
          (*hess)(r0 + j, y) = squared ? static_cast<S>(A(2) * static_cast<A>(u(j)) * active.totals()(j)) : S(0);
        }
        rows.record(r0 + j, wy(j) * totals(j) * inv_c);
      }
    }
  }

  MultiMarginOptions options_;
};

}  // namespace lossfn
