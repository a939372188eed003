/// @file
/// Kullback-Leibler divergence of a predicted distribution Q from a target P, per sample (row).
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <limits>

#include "detail/checks.hpp"
#include "detail/operand.hpp"
#include "detail/softmax.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of KLDivergence.
struct KLDivergenceOptions {
  Input input = Input::Logits;  ///< the form of Q (pred): logits (default), probabilities or log-probabilities
  bool log_target = false;      ///< true: the target is given as log P (as PyTorch's kl_div)
};

namespace detail {

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

/// KL divergence per sample (row) i of an m x K prediction Q from an m x K target P:
///
///   loss_i = sum_k P_ik (log P_ik - log Q_ik),  with 0 log 0 = 0
///
/// Q is given as logits (default; log Q = log-softmax with the row max
/// subtracted), probabilities or log-probabilities (used as given); P as
/// probabilities, or as log P with log_target. A class with P_ik = 0 contributes
/// nothing to the loss and a gradient of exactly 0, even where Q_ik = 0.
///
/// Sum: L = sum_i loss_i. Mean: L = sum_i loss_i / m, PyTorch's 'batchmean'
/// and the notes' 1/m (PyTorch's reduction='mean' divides by m K instead).
/// None: the column of loss_i.
///
/// Gradient with respect to the given form of Q, per row, times the reduction's scale:
///   logits:            softmax(z_i) sum_k P_ik - P_i  (the notes' p - y for normalised P)
///   probabilities:     -P_ik / Q_ik, 0 where P_ik = 0
///   log-probabilities: -P_ik
/// P_ik > 0 with Q_ik = 0 gives loss +inf (and gradient -inf for probabilities).
///
/// Errors: lossfn::shape_error when P is not of Q's shape or Q has no column;
/// std::invalid_argument for Mean over m = 0 samples and for an input that is
/// not an Input value (at construction).
///
/// @tparam Reduction Sum, Mean (default; per sample, PyTorch's batchmean) or None
template <class Reduction = Mean>
class KLDivergence : public detail::RowwiseLoss<KLDivergence<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::KLDivergence::forward: ...").
  static constexpr const char* name = "KLDivergence";

  /// Q as logits, P as probabilities.
  KLDivergence() = default;
  /// @param options the options
  /// @throws std::invalid_argument if options.input is not an Input value
  explicit KLDivergence(const KLDivergenceOptions& options) : options_(options) {
    detail::check_option(detail::is_input_form(options_.input), name, "input is not a lossfn::Input value");
  }

  /// The options this loss was built with.
  const KLDivergenceOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<KLDivergence<Reduction>, Reduction>;
  friend struct detail::Driver;

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::require_same_scalar<P, T>();
    detail::check_same_shape(name, function, "pred", pred, "target", target);
    detail::check_classes(name, function, pred);
  }

  /// What Mean divides by (the number of rows) or, with sample weights given,
  /// WeightedMean (their sum).
  template <class P, class T, class S>
  double divisor(const char* /*function*/, const P& pred, const T& /*target*/,
                 const detail::RowWeights<S>& sample) const {
    if (!sample.given()) return static_cast<double>(pred.rows());
    double total = 0;
    for (Eigen::Index i = 0; i < pred.rows(); ++i) total += static_cast<double>(sample(i));
    return total;
  }

  /// The row-wise kernel with c_ik = P_ik (exp of the target for log_target, 0
  /// below the log of the smallest subnormal): the terms in Q are those of the
  /// cross entropy -sum_k P_ik log Q_ik, and the Hessian's mass C_i = sum_k P_ik is
  /// what the target row sums to. grad and hess are NoGrad* (nullptr) when not wanted.
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    using S = detail::scalar_t<Z>;
    const detail::NoSparse sparse;
    if (options_.log_target) {
      detail::KLDense<T, S, true> dense(target);
      detail::rowwise_kernel(options_.input, z, dense, sparse, grad, hess, rows);
    } else {
      detail::KLDense<T, S, false> dense(target);
      detail::rowwise_kernel(options_.input, z, dense, sparse, grad, hess, rows);
    }
  }

  KLDivergenceOptions options_;
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(KL_DIVERGENCE)
#endif
