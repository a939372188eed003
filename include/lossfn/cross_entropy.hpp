/// @file
/// Cross entropy between a predicted and a target distribution per sample (row).
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/checks.hpp"
#include "detail/operand.hpp"
#include "detail/softmax.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of CrossEntropy, as torch.nn.functional.cross_entropy's.
struct CrossEntropyOptions {
  Input input = Input::Logits;               ///< the form of pred: logits (default), probabilities or log-probabilities
  double label_smoothing = 0;                ///< eps in [0, 1): the target becomes (1 - eps) y + eps / K
  Eigen::ArrayXd class_weights;              ///< one weight >= 0 per class; empty (default) = all 1
  std::optional<Eigen::Index> ignore_index;  ///< class-index targets equal to it are skipped
};

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

/// CrossEntropyOptions' checks at construction (CrossEntropy, PolyCrossEntropy, Focal).
inline void check_cross_entropy_options(const char* name, const CrossEntropyOptions& o) {
  const double eps = o.label_smoothing;
  check_option(is_input_form(o.input), name, "input is not a lossfn::Input value");
  check_option(std::isfinite(eps) && eps >= 0 && eps < 1, name,
               "label_smoothing must be in [0, 1), got " + number_string(eps));
  const Eigen::ArrayXd& w = o.class_weights;
  for (Eigen::Index k = 0; k < w.size(); ++k) {
    check_option(
        std::isfinite(w(k)) && w(k) >= 0, name,
        "class_weights must be finite and >= 0, got " + number_string(w(k)) + " for class " + std::to_string(k));
  }
}

/// Class-index targets: an integer target.
template <class T>
constexpr bool index_target_v = std::is_integral<scalar_t<T>>::value;

/// The shape checks of CrossEntropy's targets (index or soft) and options.
template <class P, class T>
void check_class_targets(const char* name, const char* function, const CrossEntropyOptions& options,
                         const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) {
  require_same_scalar<P, P>();  // pred is floating point
  if constexpr (index_target_v<T>) {
    check_column_per_row(name, function, "pred", pred, "target", target);
  } else {
    require_same_scalar<P, T>();
    check_same_shape(name, function, "pred", pred, "target", target);
    if (options.ignore_index) {
      raise(error_kind::invalid_argument,
            where(name, function) +
                "ignore_index applies to class-index targets only, and these targets are probabilities");
    }
  }
  check_classes(name, function, pred);
  const Eigen::Index weights = options.class_weights.size();
  if (weights != 0 && weights != pred.cols()) {
    raise(error_kind::shape, where(name, function) + "class_weights has " + std::to_string(weights) +
                                 " entries but pred is " + shape_string(pred.rows(), pred.cols()) + " (" +
                                 std::to_string(pred.cols()) + " classes)");
  }
}

/// Checks every index target and returns what Mean divides by, or with sample
/// weights w given, what WeightedMean divides by: over the rows not ignored, the
/// number of rows (sum_i w_i), times the class weight of t_i when class_weights_count
/// (CrossEntropy, PolyCrossEntropy; Focal's alpha enters no denominator).
template <class P, class T, class S>
double class_target_divisor(const char* name, const char* function, const CrossEntropyOptions& options, const P& pred,
                            const T& target, const RowWeights<S>& sample, bool class_weights_count) {
  if constexpr (!index_target_v<T>) {
    static_cast<void>(name);
    static_cast<void>(function);
    static_cast<void>(options);
    static_cast<void>(target);
    static_cast<void>(class_weights_count);
    if (!sample.given()) return static_cast<double>(pred.rows());
    double total = 0;
    for (Eigen::Index i = 0; i < pred.rows(); ++i) total += static_cast<double>(sample(i));
    return total;
  } else {
    using I = scalar_t<T>;
    using Sparse = IndexSparse<T, double>;
    const Eigen::ArrayXd& w = options.class_weights;
    const bool has_ignore = options.ignore_index.has_value();
    const Eigen::Index ignore = options.ignore_index.value_or(0);
    const bool weighted = class_weights_count && w.size() != 0;
    double total = 0;
    for (Eigen::Index i = 0; i < target.rows(); ++i) {
      const I v = target(i, 0);
      if (has_ignore && Sparse::equals(v, ignore)) continue;
      if (!Sparse::is_class(v, pred.cols())) {
        const std::string value = std::is_signed<I>::value ? std::to_string(static_cast<long long>(v))
                                                           : std::to_string(static_cast<unsigned long long>(v));
        raise(error_kind::out_of_range, where(name, function) + "target at row " + std::to_string(i) + " is " + value +
                                            ", not a class index in [0, " + std::to_string(pred.cols()) + ")" +
                                            (has_ignore ? " nor ignore_index" : ""));
      }
      const double class_weight = weighted ? w(static_cast<Eigen::Index>(v)) : 1.0;
      total += sample.given() ? static_cast<double>(sample(i)) * class_weight : class_weight;
    }
    return total;
  }
}

/// The row-wise kernel with CrossEntropy's c for this target (see detail::rowwise_block):
///   index t: c_ik = w_t (1 - eps) [k = t] + w_k eps / K (0 on an ignored row)
///   soft y:  c_ik = w_k ((1 - eps) y_ik + eps / K)
/// as a sparse part (w_t (1 - eps) at t) and a dense part; the Hessian's mass
/// C_i = sum_k c_ik is the kernel's sum of both. term is the per-class term (LogTerm:
/// cross entropy). grad and hess are NoGrad* (nullptr) when not wanted.
template <class Term, class Z, class T, class Grad, class Rows, class Hess>
void class_target_kernel(const CrossEntropyOptions& options, const Term& term, const Z& z, const T& target, Grad* grad,
                         Rows& rows, Hess* hess) {
  using S = scalar_t<Z>;
  const Eigen::ArrayXd& w = options.class_weights;
  const double eps = options.label_smoothing;
  const S keep = static_cast<S>(1 - eps);
  const S spread = static_cast<S>(eps / static_cast<double>(z.cols()));
  const Input form = options.input;
  // CrossEntropy (LogTerm) calls the kernel entry point the compiled-kernels build declares
  const auto run = [&](auto& dense, const auto& sparse) {
    if constexpr (Term::plain) {
      static_cast<void>(term);
      rowwise_kernel(form, z, dense, sparse, grad, hess, rows);
    } else {
      rowwise_kernel(form, z, dense, sparse, grad, hess, rows, term);
    }
  };
  if constexpr (index_target_v<T>) {
    using Sparse = IndexSparse<T, S>;
    const Sparse sparse(target, keep, w, options.ignore_index.has_value(), options.ignore_index.value_or(0));
    if (eps == 0) {
      NoDense dense;
      run(dense, sparse);
    } else if (w.size() == 0) {
      SmoothingDense<Sparse, S, false> dense(sparse, spread, w);
      run(dense, sparse);
    } else {
      SmoothingDense<Sparse, S, true> dense(sparse, spread, w);
      run(dense, sparse);
    }
  } else {
    const NoSparse sparse;
    if (w.size() == 0) {
      SoftDense<T, S, false> dense(target, keep, spread, w);
      run(dense, sparse);
    } else {
      SoftDense<T, S, true> dense(target, keep, spread, w);
      run(dense, sparse);
    }
  }
}

}  // namespace detail

/// Cross entropy per sample (row) i of an m x K pred, against a target given as
/// class indices (an m x 1 column of any integer type) or as an m x K array of
/// probabilities (one-hot or soft); the overload follows the target's scalar type.
///
///   loss_i = -sum_k c_ik log q_ik
///
/// q_i is pred's row as a distribution: softmax(z_i) for logits (computed as
/// z - max - log sum exp(z - max), so logits of +-1e4 give exact, finite values),
/// the row itself for probabilities, exp of it for log-probabilities (neither is
/// renormalised). c_i is the weighted, smoothed target, as PyTorch's:
///   index target t:  c_ik = w_t (1 - eps) [k = t] + w_k eps / K
///   soft target y:   c_ik = w_k ((1 - eps) y_ik + eps / K)
/// (w = 1 without class_weights). A sample whose index target is ignore_index
/// counts for nothing. A term with c_ik = 0 is exactly 0, even where q_ik = 0.
///
/// Sum: L = sum_i loss_i. Mean: L = sum_i loss_i / N with N = the summed w_t of
/// the counted samples for index targets (the number of non-ignored samples
/// without weights), N = m for soft targets; N = 0 (every sample ignored) gives
/// L = 0 and a zero gradient. None: the column of loss_i.
///
/// Gradient with respect to the given form, per row, times the reduction's scale:
///   logits:            softmax(z_i) sum_k c_ik - c_i  (the notes' p - y when c sums to 1)
///   probabilities:     -c_ik / p_ik, 0 where c_ik = 0
///   log-probabilities: -c_ik
/// A probability of exactly 0 on a class with c_ik > 0 gives loss +inf and
/// gradient -inf there (IEEE: -log 0 and -c / 0); NaN and inf inputs propagate.
///
/// Errors: lossfn::shape_error for shapes (target not m x 1 or m x K,
/// class_weights not of length K, pred with no column); std::out_of_range for an
/// index target outside [0, K) that is not ignore_index, naming the row and the
/// value; std::invalid_argument for bad options (at construction), for
/// ignore_index with soft targets (as PyTorch), and for Mean over m = 0 samples.
///
/// @tparam Reduction Sum, Mean (default; divides by the counted samples, or their summed class weights) or None
template <class Reduction = Mean>
class CrossEntropy : public detail::RowwiseLoss<CrossEntropy<Reduction>, Reduction> {
 public:
  /// The loss's name, as it appears in error messages ("lossfn::CrossEntropy::forward: ...").
  static constexpr const char* name = "CrossEntropy";

  /// Logits, no weights, no smoothing, nothing ignored.
  CrossEntropy() = default;
  /// @param options the options
  /// @throws std::invalid_argument if label_smoothing is not in [0, 1), a class
  ///         weight is negative or not finite, or input is not an Input value
  explicit CrossEntropy(CrossEntropyOptions options) : options_(std::move(options)) {
    detail::check_cross_entropy_options(name, options_);
  }

  /// The options this loss was built with.
  const CrossEntropyOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<CrossEntropy<Reduction>, Reduction>;
  friend struct detail::Driver;

  template <class P, class T>
  void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::check_class_targets(name, function, options_, pred, target);
  }

  /// Checks every index target and returns what Mean divides by (the number of
  /// rows, or the summed class weights of the rows not ignored), or with sample
  /// weights w given, what WeightedMean divides by (sum_i w_i, or sum_i w_i x the
  /// class weight of t_i over the rows not ignored).
  template <class P, class T, class S>
  double divisor(const char* function, const P& pred, const T& target, const detail::RowWeights<S>& sample) const {
    return detail::class_target_divisor(name, function, options_, pred, target, sample, true);
  }

  /// The row-wise kernel with this target's c (see detail::class_target_kernel).
  template <class Z, class T, class Grad, class Rows, class Hess = detail::NoGrad>
  void kernel(const Z& z, const T& target, Grad* grad, Rows& rows, Hess* hess = nullptr) const {
    detail::class_target_kernel(options_, detail::LogTerm{}, z, target, grad, rows, hess);
  }

  CrossEntropyOptions options_;
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(CROSS_ENTROPY)
#endif
