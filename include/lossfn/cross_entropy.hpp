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
#include "detail/softmax_targets.hpp"
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
    const double eps = options_.label_smoothing;
    detail::check_option(detail::is_input_form(options_.input), name, "input is not a lossfn::Input value");
    detail::check_option(std::isfinite(eps) && eps >= 0 && eps < 1, name,
                         "label_smoothing must be in [0, 1), got " + detail::number_string(eps));
    const Eigen::ArrayXd& w = options_.class_weights;
    for (Eigen::Index k = 0; k < w.size(); ++k) {
      detail::check_option(std::isfinite(w(k)) && w(k) >= 0, name,
                           "class_weights must be finite and >= 0, got " + detail::number_string(w(k)) + " for class " +
                               std::to_string(k));
    }
  }

  /// The options this loss was built with.
  const CrossEntropyOptions& options() const noexcept { return options_; }

 private:
  friend class detail::RowwiseLoss<CrossEntropy<Reduction>, Reduction>;

  template <class T>
  static constexpr bool index_target = std::is_integral<detail::scalar_t<T>>::value;

  template <class P, class T>
  void check_call(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    detail::require_same_scalar<P, P>();  // pred is floating point
    if constexpr (index_target<T>) {
      detail::check_column_per_row(name, function, "pred", pred, "target", target);
    } else {
      detail::require_same_scalar<P, T>();
      detail::check_same_shape(name, function, "pred", pred, "target", target);
      if (options_.ignore_index) {
        detail::raise(error_kind::invalid_argument,
                      detail::where(name, function) +
                          "ignore_index applies to class-index targets only, and these targets are probabilities");
      }
    }
    detail::check_classes(name, function, pred);
    const Eigen::Index weights = options_.class_weights.size();
    if (weights != 0 && weights != pred.cols()) {
      detail::raise(error_kind::shape, detail::where(name, function) + "class_weights has " + std::to_string(weights) +
                                           " entries but pred is " + detail::shape_string(pred.rows(), pred.cols()) +
                                           " (" + std::to_string(pred.cols()) + " classes)");
    }
  }

  /// Checks every index target and returns what Mean divides by.
  template <class P, class T>
  double count(const char* function, const P& pred, const T& target) const {
    if constexpr (!index_target<T>) {
      static_cast<void>(function);
      static_cast<void>(target);
      return static_cast<double>(pred.rows());
    } else {
      using I = detail::scalar_t<T>;
      using Sparse = detail::IndexSparse<T, double>;
      const Eigen::ArrayXd& w = options_.class_weights;
      const bool has_ignore = options_.ignore_index.has_value();
      const Eigen::Index ignore = options_.ignore_index.value_or(0);
      double total = 0;
      for (Eigen::Index i = 0; i < target.rows(); ++i) {
        const I v = target(i, 0);
        if (has_ignore && Sparse::equals(v, ignore)) continue;
        if (!Sparse::is_class(v, pred.cols())) {
          const std::string value = std::is_signed<I>::value ? std::to_string(static_cast<long long>(v))
                                                             : std::to_string(static_cast<unsigned long long>(v));
          detail::raise(error_kind::out_of_range, detail::where(name, function) + "target at row " + std::to_string(i) +
                                                      " is " + value + ", not a class index in [0, " +
                                                      std::to_string(pred.cols()) + ")" +
                                                      (has_ignore ? " nor ignore_index" : ""));
        }
        total += w.size() == 0 ? 1.0 : w(static_cast<Eigen::Index>(v));
      }
      return total;
    }
  }

  template <class Z, class T, class Grad, class Rows>
  void run(const Z& z, const T& target, Grad* grad, Rows& rows) const {
    using S = detail::scalar_t<Z>;
    const Eigen::ArrayXd& w = options_.class_weights;
    const double eps = options_.label_smoothing;
    const S keep = static_cast<S>(1 - eps);
    const S spread = static_cast<S>(eps / static_cast<double>(z.cols()));
    const Input form = options_.input;
    if constexpr (index_target<T>) {
      using Sparse = detail::IndexSparse<T, S>;
      const Sparse sparse(target, keep, w, options_.ignore_index.has_value(), options_.ignore_index.value_or(0));
      if (eps == 0) {
        detail::NoDense dense;
        detail::rowwise_kernel(form, z, dense, sparse, grad, rows);
      } else if (w.size() == 0) {
        detail::SmoothingDense<Sparse, S, false> dense(sparse, spread, w);
        detail::rowwise_kernel(form, z, dense, sparse, grad, rows);
      } else {
        detail::SmoothingDense<Sparse, S, true> dense(sparse, spread, w);
        detail::rowwise_kernel(form, z, dense, sparse, grad, rows);
      }
    } else {
      const detail::NoSparse sparse;
      if (w.size() == 0) {
        detail::SoftDense<T, S, false> dense(target, keep, spread, w);
        detail::rowwise_kernel(form, z, dense, sparse, grad, rows);
      } else {
        detail::SoftDense<T, S, true> dense(target, keep, spread, w);
        detail::rowwise_kernel(form, z, dense, sparse, grad, rows);
      }
    }
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
