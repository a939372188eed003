/// @file
/// How the call driver takes weights: the shape and value checks, and the view a
/// row-wise kernel reads them through.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
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

/// Whether every entry of x is finite and >= 0, in one vectorised read: the
/// smallest entry and the sum of x x 0 (NaN as soon as one entry is NaN or
/// infinite), per chunk of at most 4096 entries so that both reductions read it
/// from L1. (The per-entry test with its branch cost more than a pass over memory:
/// 3.5 ms for 1e7 float weights, as much as the weighted kernel itself.)
/// largest: the largest entry seen (valid when the answer is true).
template <class X, class S>
bool all_finite_nonnegative(const X& x, S& largest) {
  constexpr Eigen::Index chunk = 4096;
  for (Eigen::Index start = 0; start < x.size(); start += chunk) {
    const auto part = x.segment(start, std::min(chunk, x.size() - start));
    const S poison = (part * S(0)).sum();
    if (!(part.minCoeff() >= S(0)) || !(poison == S(0))) return false;
    largest = std::max(largest, part.maxCoeff());
  }
  return true;
}

/// Every weight finite and >= 0; else std::out_of_range naming its row, column and
/// value (the first bad one in storage order). Returns the largest weight.
template <class S>
S check_weight_values(const char* loss, const char* function, const view_t<S>& w) {
  using Column = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>;
  const Eigen::Index rows = w.rows(), cols = w.cols();
  S largest(0);
  if (w.size() == 0) return largest;
  bool ok = true;
  if (w.innerStride() == 1 && (cols == 1 || w.outerStride() == rows)) {
    ok = all_finite_nonnegative(Column(w.data(), w.size()), largest);  // column-major, contiguous
  } else if (w.outerStride() == 1 && (rows == 1 || w.innerStride() == cols)) {
    ok = all_finite_nonnegative(Column(w.data(), w.size()), largest);  // row-major, contiguous
  } else {
    for (Eigen::Index j = 0; j < cols && ok; ++j) ok = all_finite_nonnegative(w.col(j), largest);
  }
  if (ok) return largest;
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      const S v = w(i, j);
      // !(v >= 0) also catches NaN
      if (!(v >= S(0)) || !std::isfinite(v)) raise_weight(loss, function, i, j, static_cast<double>(v));
    }
  }
  return largest;  // not reached: a chunk failed, so some weight is bad
}

/// The caller's weights as the kernels read them: their view (of the shape the
/// caller gave) and a power of two that multiplies every one of them, 1 unless the
/// reduction divides by summed weights that are too small to invert (see
/// weight_multiplier).
template <class S>
struct WeightsView {
  view_t<S> values;
  S multiplier;
};

/// WeightedMean divides by the summed weights W: each derivative is w_i / W times
/// the term's, and the loss is sum w_i l_i / W, both finite whatever W > 0. Its
/// factor 1 / W is not: it overflows for W below 1 / max (a denormal double W; in
/// float's kernels below 2.9e-39), products such as slope x (1 / W) overflow long
/// before, and W itself (products of denormal weights and class weights) rounds. The
/// weighted mean does not change when every weight (and so W) is multiplied by the
/// same power of two, which is exact: when the largest weight is below 1 / sqrt(max),
/// the count and the kernels read every weight times 2^k, the largest then in
/// [1, 2) (k at most the largest exponent the scalar can hold). 1 otherwise, so a
/// usual call reads its weights as given. Found by the fuzzer (tests/fuzz,
/// corpus/*/finding-weightedmean-*).
template <class S>
S weight_multiplier(S largest_weight) {
  using L = std::numeric_limits<S>;
  const long double threshold = 1 / std::sqrt(static_cast<long double>(L::max()));
  if (!(largest_weight > 0) || static_cast<long double>(largest_weight) >= threshold) return S(1);
  int exponent = 0;
  std::frexp(largest_weight, &exponent);  // w = f 2^exponent, f in [0.5, 1)
  const int k = std::min(1 - exponent, L::max_exponent - 2);
  return std::ldexp(S(1), k);
}

/// One weight per row for a row-wise kernel: w_i (times the view's multiplier), or
/// 1 for every row of a call without weights (data null), so that an unweighted
/// call multiplies by nothing.
template <class S>
struct RowWeights {
  const S* data = nullptr;
  Eigen::Index step = 0;
  S multiplier = S(1);

  /// The weights of an m x 1 WeightsView, times its multiplier.
  static RowWeights of(const WeightsView<S>& w) { return {w.values.data(), w.values.innerStride(), w.multiplier}; }
  bool given() const { return data != nullptr; }
  S operator()(Eigen::Index row) const { return data[row * step] * multiplier; }
  /// u x w_row (u itself without weights).
  template <class U>
  U times(U u, Eigen::Index row) const {
    return data == nullptr ? u : u * static_cast<U>((*this)(row));
  }
};

}  // namespace detail
}  // namespace lossfn
