/// @file
/// How the call driver takes weights: the shape and value checks, and the view a
/// row-wise kernel reads them through.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <string>
#include <type_traits>

#include "../weights.hpp"
#include "checks.hpp"
#include "view.hpp"

namespace lossfn {
namespace detail {

/// A call without weights.
struct NoWeights {};

/// Whether a reduction divides by the summed weights (WeightedMean) rather than by
/// the number of terms (Mean). A user-defined reduction without the flag does not.
template <class R, class = void>
struct divides_by_weights : std::false_type {};
template <class R>
struct divides_by_weights<R, std::enable_if_t<R::divides_by_weights>> : std::true_type {};

/// The weights' shape, for a loss with one term per entry of x (PerEntry: x's
/// shape, m x 1 or 1 x d) or one term per row (m x 1); else a shape_error.
template <class X, class W>
void check_weights_shape(const char* loss, const char* function, bool per_entry, const char* x_name,
                         const Eigen::EigenBase<X>& x, const Eigen::EigenBase<W>& w) {
  const Eigen::Index m = x.rows(), d = x.cols();
  const bool column = w.rows() == m && w.cols() == 1;
  const bool ok = column || (per_entry && ((w.rows() == m && w.cols() == d) || (w.rows() == 1 && w.cols() == d)));
  if (ok) return;
  const std::string expected = per_entry ? shape_string(m, d) + " (" + x_name + "'s shape), " + shape_string(m, 1) +
                                               " (one per row) or " + shape_string(1, d) + " (one per column)"
                                         : shape_string(m, 1) + " (one per row of " + x_name + ")";
  raise(error_kind::shape, where(loss, function) + "weights is " + shape_string(w.rows(), w.cols()) + " but " + x_name +
                               " is " + shape_string(m, d) + ": weights must be " + expected);
}

[[noreturn]] LOSSFN_COLD inline void raise_weight(const char* loss, const char* function, Eigen::Index row,
                                                  Eigen::Index col, double value) {
  raise(error_kind::out_of_range, where(loss, function) + "weight at row " + std::to_string(row) + ", column " +
                                      std::to_string(col) + " is " + number_string(value) +
                                      ": weights must be finite and >= 0");
}

/// Every weight finite and >= 0; else std::out_of_range naming its row, column and value.
template <class S>
void check_weight_values(const char* loss, const char* function, const view_t<S>& w) {
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const S v = w(i, j);
      // !(v >= 0) also catches NaN
      if (!(v >= S(0)) || !std::isfinite(v)) raise_weight(loss, function, i, j, static_cast<double>(v));
    }
  }
}

/// One weight per row for a row-wise kernel: w_i, or 1 for every row of a call
/// without weights (data null), so that an unweighted call multiplies by nothing.
template <class S>
struct RowWeights {
  const S* data = nullptr;
  Eigen::Index step = 0;

  /// The weights of an m x 1 view.
  static RowWeights of(const view_t<S>& w) { return {w.data(), w.innerStride()}; }
  bool given() const { return data != nullptr; }
  S operator()(Eigen::Index row) const { return data[row * step]; }
  /// u x w_row (u itself without weights).
  template <class U>
  U times(U u, Eigen::Index row) const {
    return data == nullptr ? u : u * static_cast<U>(data[row * step]);
  }
};

}  // namespace detail
}  // namespace lossfn
