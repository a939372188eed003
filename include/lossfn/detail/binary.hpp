/// @file
/// What the binary losses (BinaryCrossEntropy, SigmoidFocal, SoftMargin, Hinge,
/// SquaredHinge; MultiLabelSoftMargin per row) share: the logistic function's
/// pieces from one exponential, and the vectorised checks of target values.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "checks.hpp"
#include "elementwise.hpp"
#include "view.hpp"

namespace lossfn {
namespace detail {

// ---- the logistic function from t = exp(-|z|) ---------------------------------------
// t is in (0, 1] for every finite z (0 only past |z| ~ 745 in double, 104 in float),
// so nothing below overflows, and each piece is exact to a few ulps at any z:
//   sigmoid(z)            = (z > 0 ? 1 : t) / (1 + t)
//   softplus(-z)          = log(1 + exp(-z)) = max(-z, 0) + log1p(t)
//   sigmoid(z) sigmoid(-z) = t / (1 + t)^2      (no 1 - sigmoid cancellation)
// A lane (fixed size) is evaluated once; a strided or re-summed piece stays an
// expression (lane_or_expression), so no piece allocates.

/// Where exp_neg_abs flushes to 0: past it exp(-|z|) is below the smallest normal
/// number, and Eigen's vectorised exp clamps its argument (to -709.78 in double,
/// -88.38 in float) and returns ~1e-308 or ~1e-38 there, where the scalar tail returns
/// the denormal or 0. Flushed, a saturated logit gives a loss of exactly 0 on every
/// path (the error, below the smallest normal, is what any underflow costs).
template <class S>
constexpr S exp_flush_point() {
  return std::numeric_limits<S>::digits > 24 ? S(708) : S(87);
}

/// t = exp(-|z|), 0 past exp_flush_point (NaN for NaN): min(exp(-|z|), cut - |z|) is
/// the exponential below the cut (where cut - |z| is >= 1e-13 > t) and <= 0 past it
template <class Z>
EIGEN_ALWAYS_INLINE auto exp_neg_abs(const Eigen::ArrayBase<Z>& z) {
  using S = typename Z::Scalar;
  const auto a = lane_or_expression(z.abs());
  return lane_or_expression((-a).exp().min(exp_flush_point<S>() - a).max(S(0)));
}

/// sigmoid(z) from z and t = exp(-|z|)
template <class Z, class T>
EIGEN_ALWAYS_INLINE auto sigmoid_of(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<T>& t) {
  using S = typename Z::Scalar;
  return lane_or_expression((t + positive_step(z) * (S(1) - t)) / (S(1) + t));
}

/// sigmoid(z) - y as (1 - y) sigmoid(z) - y sigmoid(-z), both from z and t = exp(-|z|):
/// for a hard label it forms no difference of nearly equal numbers, so the gradient of
/// a saturated logit keeps its relative accuracy (sigmoid(z) - 1 at z = 35 is off by
/// an ulp of 1, 20%), where focal weights make that error visible
template <class Z, class Y, class T>
EIGEN_ALWAYS_INLINE auto sigmoid_minus(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<Y>& y,
                                       const Eigen::ArrayBase<T>& t) {
  using S = typename Z::Scalar;
  const auto up = positive_step(z);
  const auto p_num = lane_or_expression(t + up * (S(1) - t));   // (1 + t) sigmoid(z)
  const auto q_num = lane_or_expression(up * t + (S(1) - up));  // (1 + t) sigmoid(-z)
  return lane_or_expression(((S(1) - y) * p_num - y * q_num) / (S(1) + t));
}

/// softplus(-z) = log(1 + exp(-z)) from z and t = exp(-|z|)
template <class Z, class T>
EIGEN_ALWAYS_INLINE auto softplus_of_minus(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<T>& t) {
  using S = typename Z::Scalar;
  return lane_or_expression((-z).max(S(0)) + t.log1p());
}

/// sigmoid(z) sigmoid(-z) = t / (1 + t)^2 from t = exp(-|z|)
template <class T>
EIGEN_ALWAYS_INLINE auto sigmoid_slope_of(const Eigen::ArrayBase<T>& t) {
  using S = typename T::Scalar;
  return lane_or_expression(t / (S(1) + t).square());
}

// ---- checks of target values ---------------------------------------------------------

[[noreturn]] LOSSFN_COLD inline void raise_entry(const char* loss, const char* function, const char* what,
                                                 Eigen::Index row, Eigen::Index col, double value, const char* must) {
  raise(error_kind::out_of_range, where(loss, function) + what + " at row " + std::to_string(row) + ", column " +
                                      std::to_string(col) + " is " + number_string(value) + ": " + must);
}

/// Every entry of x passes ok; else std::out_of_range naming the first failing entry
/// (column by column): "<what> at row i, column j is v: <must>". chunk_ok(piece) says
/// whether a whole piece (a column segment of at most 4096 entries, read from L1)
/// passes, with vectorised reductions (min, max, sum: a comparison per entry and
/// .all() measured as a scalar loop, 3x the cost of the loss's own sweep); ok(v) is
/// the same test of one value, for naming the culprit.
template <class S, class ChunkOk, class Ok>
void check_entries(const char* loss, const char* function, const char* what, const view_t<S>& x,
                   const ChunkOk& chunk_ok, const Ok& ok, const char* must) {
  constexpr Eigen::Index chunk = 4096;
  bool good = true;
  for (Eigen::Index j = 0; j < x.cols() && good; ++j) {
    for (Eigen::Index start = 0; start < x.rows() && good; start += chunk) {
      good = chunk_ok(x.col(j).segment(start, std::min(chunk, x.rows() - start)));
    }
  }
  if (good) return;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      if (!ok(x(i, j))) raise_entry(loss, function, what, i, j, static_cast<double>(x(i, j)), must);
    }
  }
}

/// Whether a piece holds no NaN (sum of v x 0: NaN as soon as one entry is NaN or
/// infinite; the callers' bounds exclude the infinities themselves).
template <class V>
bool no_nan(const V& v) {
  using S = typename V::Scalar;
  return (v * S(0)).sum() == S(0);
}

/// Every entry of x in [0, 1] (NaN is not).
template <class S>
void check_unit_interval(const char* loss, const char* function, const char* what, const view_t<S>& x) {
  check_entries(
      loss, function, what, x,
      [](const auto& v) { return v.size() == 0 || (v.minCoeff() >= S(0) && v.maxCoeff() <= S(1) && no_nan(v)); },
      [](S v) { return v >= S(0) && v <= S(1); }, "must be in [0, 1]");
}

/// Every label exactly -1 or 1 (zero_one: exactly 0 or 1): | |v| - 1 | (or |v (v - 1)|,
/// inf for a huge v) is 0 for every entry.
template <class S>
void check_binary_labels(const char* loss, const char* function, const view_t<S>& y, bool zero_one) {
  if (zero_one) {
    check_entries(
        loss, function, "label", y,
        [](const auto& v) { return v.size() == 0 || ((v * (v - S(1))).abs().maxCoeff() == S(0) && no_nan(v)); },
        [](S v) { return v == S(0) || v == S(1); }, "labels must be 0 or 1 (zero_one_labels)");
  } else {
    check_entries(
        loss, function, "label", y,
        [](const auto& v) { return v.size() == 0 || ((v.abs() - S(1)).abs().maxCoeff() == S(0) && no_nan(v)); },
        [](S v) { return v == S(1) || v == S(-1); }, "labels must be -1 or 1");
  }
}

/// Per-column option values (pos_weight, class weights) kept in every scalar type a
/// call may use, so that a call views them without converting (and allocating).
struct ColumnValues {
  Eigen::ArrayXd as_double;
  Eigen::ArrayXf as_float;
  Eigen::Array<long double, Eigen::Dynamic, 1> as_long_double;

  ColumnValues() = default;
  explicit ColumnValues(const Eigen::ArrayXd& values)
      : as_double(values), as_float(values.cast<float>()), as_long_double(values.cast<long double>()) {}

  Eigen::Index size() const { return as_double.size(); }
  /// The values as a 1 x size view of scalar S, broadcast down `rows` rows.
  template <class S>
  view_t<S> row_broadcast(Eigen::Index rows) const {
    const S* data = nullptr;
    if constexpr (std::is_same<S, float>::value) {
      data = as_float.data();
    } else if constexpr (std::is_same<S, double>::value) {
      data = as_double.data();
    } else {
      static_assert(std::is_same<S, long double>::value, "lossfn: float, double or long double");
      data = as_long_double.data();
    }
    // coefficient (i, j) at data[i * 0 + j * 1]: every row the same
    return view_t<S>(data, rows, size(), view_stride(1, 0));
  }
};

/// A per-column option (pos_weight): empty, or one value per column of pred; else
/// shape_error. Its values were checked at construction (std::invalid_argument).
template <class P>
void check_per_column(const char* loss, const char* function, const char* option, const ColumnValues& values,
                      const Eigen::DenseBase<P>& pred) {
  if (values.size() == 0 || values.size() == pred.cols()) return;
  raise(error_kind::shape, where(loss, function) + option + " has " + std::to_string(values.size()) +
                               " entries but pred has " + std::to_string(pred.cols()) +
                               " columns: one per column, or empty");
}

}  // namespace detail
}  // namespace lossfn
