/// @file
/// The target parts of the row-wise softmax kernel (softmax.hpp), one adapter per
/// way a loss's target enters c = D + a e_t: the sparse part of class-index targets
/// (IndexSparse), the dense part of label smoothing (SmoothingDense), of soft
/// targets (SoftDense) and of KL's P with its P log P term (KLDense). Kept apart
/// from the loss headers, which then read as their math and options.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <type_traits>

#include "operand.hpp"
#include "softmax.hpp"

namespace lossfn {
namespace detail {

/// Class-index targets: c_ik gets a_i = main x w_{t_i} at k = t_i (0 on ignored rows).
/// The targets were range-checked before any kernel runs.
template <class Targets, class S>
class IndexSparse {
 public:
  static constexpr bool active = true;

  IndexSparse(const Targets& targets, S main, const Eigen::ArrayXd& weights, bool has_ignore, Eigen::Index ignore)
      : targets_(targets), main_(main), weights_(weights), has_ignore_(has_ignore), ignore_(ignore) {}

  /// False when row i is ignored (its target equals ignore_index).
  bool counted(Eigen::Index i) const { return !(has_ignore_ && equals(targets_(i, 0), ignore_)); }

  /// Row i's class t and its weight a; false when a is 0 (ignored row, zero weight).
  bool get(Eigen::Index i, Eigen::Index& t, S& a) const {
    if (!counted(i)) return false;
    t = static_cast<Eigen::Index>(targets_(i, 0));
    a = weights_.size() == 0 ? main_ : main_ * static_cast<S>(weights_(t));
    return a != S(0);
  }

  /// v == x without sign-conversion surprises, for any integer type of v.
  template <class I>
  static bool equals(I v, Eigen::Index x) {
    if constexpr (std::is_signed<I>::value) {
      return static_cast<long long>(v) == static_cast<long long>(x);
    } else {
      return x >= 0 && static_cast<unsigned long long>(v) == static_cast<unsigned long long>(x);
    }
  }
  /// 0 <= v < classes, for any integer type of v.
  template <class I>
  static bool is_class(I v, Eigen::Index classes) {
    if constexpr (std::is_signed<I>::value) {
      return v >= 0 && static_cast<long long>(v) < static_cast<long long>(classes);
    } else {
      return static_cast<unsigned long long>(v) < static_cast<unsigned long long>(classes);
    }
  }

 private:
  const Targets& targets_;
  S main_;
  const Eigen::ArrayXd& weights_;
  bool has_ignore_;
  Eigen::Index ignore_;
};

/// Label smoothing of class-index targets: D_ik = beta_i w_k, beta_i = eps / K
/// on counted rows and 0 on ignored ones (w_k = 1 without class weights).
template <class Sparse, class S, bool Weighted>
class SmoothingDense {
 public:
  static constexpr bool active = true;
  static constexpr bool has_extra = false;

  SmoothingDense(const Sparse& sparse, S beta, const Eigen::ArrayXd& weights)
      : sparse_(sparse), beta_(beta), weights_(weights) {}

  void begin(Eigen::Index first, Eigen::Index count) {
    block_.resize(count);
    for (Eigen::Index j = 0; j < count; ++j) block_(j) = row_beta(first + j);
  }
  auto line(RowLine l) const {
    using Row = Eigen::Array<S, 1, Eigen::Dynamic>;
    if constexpr (Weighted) {
      return weights_.segment(l.start, l.length).transpose().template cast<S>() * row_beta(l.row);
    } else {
      return Row::Constant(1, l.length, row_beta(l.row));
    }
  }
  void prefetch(ColLine /*l*/) const {}
  auto line(ColLine l) const {
    if constexpr (Weighted) {
      return block_ * static_cast<S>(weights_(l.col));
    } else {
      return block_ * S(1);
    }
  }

 private:
  S row_beta(Eigen::Index i) const { return sparse_.counted(i) ? beta_ : S(0); }

  const Sparse& sparse_;
  S beta_;
  const Eigen::ArrayXd& weights_;
  row_values<S> block_;
};

/// Soft (probability) targets: D_ik = w_k ((1 - eps) y_ik + eps / K).
template <class Y, class S, bool Weighted>
class SoftDense {
 public:
  static constexpr bool active = true;
  static constexpr bool has_extra = false;

  SoftDense(const Y& y, S keep, S spread, const Eigen::ArrayXd& weights)
      : y_(y), keep_(keep), spread_(spread), weights_(weights) {}

  void begin(Eigen::Index /*first*/, Eigen::Index /*count*/) {}
  auto line(RowLine l) const {
    auto smoothed = keep_ * as_array(y_.row(l.row).segment(l.start, l.length)) + spread_;
    if constexpr (Weighted) {
      return smoothed * weights_.segment(l.start, l.length).transpose().template cast<S>();
    } else {
      return smoothed;
    }
  }
  void prefetch(ColLine l) const { prefetch_next<0>(y_, l); }
  auto line(ColLine l) const {
    auto smoothed = keep_ * as_array(y_.block(l.first, l.col, l.count, 1)) + spread_;
    if constexpr (Weighted) {
      return smoothed * static_cast<S>(weights_(l.col));
    } else {
      return smoothed;
    }
  }

 private:
  const Y& y_;
  S keep_, spread_;
  const Eigen::ArrayXd& weights_;
};

/// KL's target: D_ik = P_ik (P = exp(target) with log_target), and the per-row
/// term of P alone, sum_k P_ik log P_ik with 0 log 0 = 0, from the piece's D.
template <class Y, class S, bool LogTarget>
class KLDense {
 public:
  static constexpr bool active = true;
  static constexpr bool has_extra = true;

  explicit KLDense(const Y& y) : y_(y), log_tiny_(std::log(std::numeric_limits<S>::denorm_min())) {}

  void begin(Eigen::Index /*first*/, Eigen::Index /*count*/) {}
  auto line(RowLine l) const { return probability(piece(l)); }
  auto line(ColLine l) const { return probability(piece(l)); }
  void prefetch(ColLine l) const { prefetch_next<0>(y_, l); }
  /// P log P on a piece whose P is d
  template <class L, class D>
  auto extra(L l, const D& d) const {
    if constexpr (LogTarget) {
      // P log P with log P = -inf would be 0 x -inf = NaN: log P is raised to the
      // log of the smallest subnormal, where P (d) is 0 already
      return d * piece(l).max(log_tiny_);
    } else {
      static_cast<void>(l);
      return x_log_x(d);
    }
  }

 private:
  auto piece(RowLine l) const { return as_array(y_.row(l.row).segment(l.start, l.length)); }
  auto piece(ColLine l) const { return as_array(y_.block(l.first, l.col, l.count, 1)); }
  // P = exp(log P), times a ramp that is 0 for log P <= log(denorm_min) and 1 a unit
  // above: Eigen's vectorised exp gives about 5.6e-309 (double) or 2.9e-39 (float)
  // for -inf, and P of -inf must be exactly 0 (0 log 0 = 0, a zero gradient)
  template <class E>
  auto probability(const E& y) const {
    if constexpr (LogTarget) {
      return y.exp() * (y - log_tiny_).max(S(0)).min(S(1));
    } else {
      return y * S(1);
    }
  }

  const Y& y_;
  S log_tiny_;
};

}  // namespace detail
}  // namespace lossfn
