// libFuzzer target: the distribution family (CrossEntropy, KLDivergence).
// Bytes choose the loss, the reduction, float or double, the storage order, the
// shapes (0 and 1 rows/classes included), the input form, label smoothing, class
// weights, ignore_index and log_target (valid and invalid), the target (integer
// class indices of a signed or unsigned type, possibly out of range or of the
// wrong shape, or dense probabilities), the gradient output and hard values.
// Checks: see fuzz_common.hpp.
#include <lossfn/cross_entropy.hpp>
#include <lossfn/kl_divergence.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "fuzz_common.hpp"
#include "fuzz_weights.hpp"

namespace {

using namespace lossfn_fuzz;

/// What the family-specific code worked out about one call.
struct Expect {
  unsigned errors = 0;         ///< the kinds of error the call may raise (0: none)
  bool finite_domain = false;  ///< the math is finite: so must the outputs be
  /// the weighted section's finite domain: finite_domain, where weights (<= kMaxWeight)
  /// times None's upstream (<= kDomain) cannot overflow the loss's largest derivatives
  bool weighted_domain = false;
  bool hessian_domain = false;  ///< the true Hessian diagonal fits the type too
  bool convex = false;          ///< nonnegative target rows: the diagonal is >= 0 (docs/hessian.md)
};

/// The unweighted calls (their bytes come first: the seeds keep their meaning).
template <class Loss, class T, int Order, class PredView, class TargetView>
void unweighted(FuzzedDataProvider& in, const Loss& loss, const PredView& pred, const TargetView& target,
                const Expect& e) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using R = typename Loss::reduction;
  const Eigen::Index m = pred.rows(), k = pred.cols();
  note("expected errors %u, finite domain %d\n", e.errors, int(e.finite_domain));
  note_array("pred", pred);
  note_array("target", target);
  if constexpr (R::reduces) {
    T value{};
    Plain grad;
    check_outcome(run([&] { value = loss.forward(pred, target); }), e.errors, "forward");
    check_outcome(run([&] { grad = loss.backward(pred, target); }), e.errors, "backward");
    GradBuffer<T, Order> buffer;
    const bool wrong_out = in.ConsumeBool();
    const Eigen::Index gap = in.ConsumeIntegralInRange<Eigen::Index>(0, 2);
    T fused{};
    const Outcome got =
        run([&] { fused = loss.forward_backward(pred, target, buffer.view(m, k + (wrong_out ? 1 : 0), gap)); });
    check_outcome(got, e.errors | (wrong_out ? unsigned(kShape) : 0u), "forward_backward (Map)");
    if (got != kOk) {
      check(buffer.untouched(), "a failed forward_backward wrote into the caller's buffer");
      return;
    }
    Plain resized = Plain::Constant(3, 1, T(-1));
    T fused2{};
    check_outcome(run([&] { fused2 = loss.forward_backward(pred, target, resized); }), 0, "forward_backward (Array)");
    const auto fused_grad = buffer.view(m, k, gap);
    const bool overflowed = !e.finite_domain;
    check(close(fused, value, kRel<T>, overflowed) && close(fused2, value, kRel<T>, overflowed),
          "forward_backward's loss != forward's");
    check(all_close(fused_grad, grad, kRel<T>, overflowed) && all_close(resized, grad, kRel<T>, overflowed),
          "forward_backward's gradient != backward's");
    if (e.finite_domain) {
      check(std::isfinite(static_cast<double>(value)), "non-finite loss on finite in-domain inputs");
      check(all_finite(grad) && all_finite(fused_grad), "non-finite gradient on finite in-domain inputs");
    }
  } else {
    using Column = Eigen::Array<T, Eigen::Dynamic, 1>;
    Column terms, upstream(m);
    Plain grad;
    fill(in, upstream);
    note_array("upstream", upstream);
    check_outcome(run([&] { terms = loss.forward(pred, target); }), e.errors, "forward (None)");
    check_outcome(run([&] { grad = loss.backward(pred, target, upstream); }), e.errors, "backward (None)");
    if (e.errors != 0) return;
    check(terms.rows() == m && grad.rows() == m && grad.cols() == k, "None: outputs of the wrong shape");
    if (e.finite_domain && in_domain(upstream)) {
      check(all_finite(terms) && all_finite(grad), "None: non-finite output on finite in-domain inputs");
    }
  }
}

/// Every call of one row-wise loss on pred (m x K) and target: the unweighted ones,
/// then the weighted section (fuzz_weights.hpp) on make(R) for the reductions.
template <class Loss, class T, int Order, class Make, class PredView, class TargetView>
void exercise(FuzzedDataProvider& in, const Loss& loss, const Make& make, const PredView& pred,
              const TargetView& target, const Expect& e) {
  unweighted<Loss, T, Order>(in, loss, pred, target, e);
  PredTarget pt;
  pt.errors = e.errors;
  pt.finite_domain = e.weighted_domain;
  pt.convex = e.convex;
  const bool hessian_domain = e.hessian_domain;
  weighted_section<typename Loss::reduction, T, Order>(in, make, pred, target, pt,
                                                       [&](auto, const auto&) { return hessian_domain; });
}

/// Where the math of a form of pred is finite: logits and log-probabilities
/// anywhere in the domain; probabilities only away from 0 (-c / p, log p).
template <class View>
bool pred_in_domain(const View& pred, lossfn::Input form) {
  if (!in_domain(pred)) return false;
  if (form != lossfn::Input::Probabilities) return true;
  return (pred.size() == 0 || pred.minCoeff() >= 1e-20);
}

/// CrossEntropy's weighted and Hessian domains: its rows c_i are at most 2.5 (class
/// weight) x 1e4 (kDomain) per entry, so with weights <= 10 and None's upstream <= 1e4
/// every derivative but the probabilities' diagonal c / p^2 stays finite on the
/// finite domain; that one needs p >= 1e-8 (then <= 2.5e4 x 1e16 x 1e5).
template <class View>
void ce_domains(Expect& e, const View& pred, lossfn::Input form) {
  e.weighted_domain = e.finite_domain;
  e.hessian_domain = e.finite_domain && (form != lossfn::Input::Probabilities || pred.size() == 0 ||
                                         static_cast<double>(pred.minCoeff()) >= 1e-8);
}

const lossfn::Input kForms[] = {lossfn::Input::Logits, lossfn::Input::Probabilities, lossfn::Input::LogProbabilities,
                                static_cast<lossfn::Input>(7)};

template <class R>
using CE = lossfn::CrossEntropy<R>;
template <class R>
using KL = lossfn::KLDivergence<R>;

template <class T, int Order, class R>
void cross_entropy(FuzzedDataProvider& in, Eigen::Index m, Eigen::Index k) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  lossfn::CrossEntropyOptions o;
  o.input = kForms[in.ConsumeIntegralInRange<int>(0, 3)];
  const double smoothings[] = {0.0, 0.1, 0.5, 0.999, 1.0, -0.1, std::numeric_limits<double>::quiet_NaN()};
  o.label_smoothing = smoothings[in.ConsumeIntegralInRange<int>(0, 6)];
  bool weights_ok = true;
  const int weights_kind = in.ConsumeIntegralInRange<int>(0, 3);  // none, of length k, of another length
  if (weights_kind > 0) {
    const Eigen::Index n = weights_kind == 3 ? k + 1 : k;
    o.class_weights.resize(n);
    const double table[] = {1.0, 0.5, 2.5, 0.0, 1e-3, -1.0, std::numeric_limits<double>::infinity()};
    for (Eigen::Index i = 0; i < n; ++i) {
      o.class_weights(i) = table[in.ConsumeIntegralInRange<int>(0, 6)];
      weights_ok = weights_ok && o.class_weights(i) >= 0 && std::isfinite(o.class_weights(i));
    }
  }
  const long long ignores[] = {-100, 0, 2, 1000};
  const int ignore_kind = in.ConsumeIntegralInRange<int>(0, 4);
  if (ignore_kind < 4) o.ignore_index = static_cast<Eigen::Index>(ignores[ignore_kind]);
  const bool options_ok =
      static_cast<int>(o.input) < 3 && o.label_smoothing >= 0 && o.label_smoothing < 1 && weights_ok;
  note("CrossEntropy input %d smoothing %g ignore_index %ld\n", static_cast<int>(o.input), o.label_smoothing,
       o.ignore_index ? static_cast<long>(*o.ignore_index) : 424242L);
  note_array("class_weights", o.class_weights);

  std::unique_ptr<CE<R>> loss;
  check_outcome(run([&] { loss = std::make_unique<CE<R>>(o); }), options_ok ? 0u : unsigned(kInvalid),
                "CrossEntropy constructor");
  if (!loss) return;

  const Operand<Plain> pred_in(in, m, k);
  const auto pred = pred_in.view();
  const auto make = [&](auto other) { return CE<decltype(other)>(o); };
  Expect e;
  if (m > 0 && k == 0) e.errors |= kShape;
  if (o.class_weights.size() != 0 && o.class_weights.size() != k) e.errors |= kShape;
  if (R::divides_by_count && m == 0) e.errors |= kInvalid;
  const bool domain = pred_in_domain(pred, o.input);

  const int target_kind = in.ConsumeIntegralInRange<int>(0, 2);
  if (target_kind == 0) {  // dense probabilities of pred's shape (or not)
    const bool mismatch = in.ConsumeIntegralInRange<int>(0, 7) == 0;
    const Operand<Plain> target_in(in, mismatch ? m + 1 : m, k);
    if (mismatch) e.errors |= kShape;
    if (o.ignore_index) e.errors |= kInvalid;
    e.finite_domain = domain && in_domain(target_in.view());
    e.convex = none_negative(target_in.view());
    ce_domains(e, pred, o.input);
    exercise<CE<R>, T, Order>(in, *loss, make, pred, target_in.view(), e);
  } else {  // class indices: int or unsigned, m x 1 (sometimes m x 2 or (m+1) x 1)
    const int shape_kind = in.ConsumeIntegralInRange<int>(0, 9);
    const Eigen::Index rows = shape_kind == 0 ? m + 1 : m, cols = shape_kind == 1 ? 2 : 1;
    if (shape_kind <= 1) e.errors |= kShape;
    const auto draw = [&](auto tag) {
      using I = decltype(tag);
      Eigen::Array<I, Eigen::Dynamic, Eigen::Dynamic> target(rows, cols);
      bool in_range = true;
      for (Eigen::Index i = 0; i < target.size(); ++i) {
        const long long candidates[] = {0, 1, k - 1, k, -1, -100, 2, 1000, 3};
        const long long v = candidates[in.ConsumeIntegralInRange<int>(0, 8)];
        target(i) = static_cast<I>(v);  // -1 as unsigned is a huge index: also out of range
        const bool ignored = o.ignore_index && static_cast<long long>(target(i)) == *o.ignore_index;
        const long long as_value = static_cast<long long>(target(i));
        in_range = in_range && (ignored || (as_value >= 0 && as_value < k));
      }
      Expect ei = e;
      if (!in_range) ei.errors |= kRange;
      ei.finite_domain = domain;
      ei.convex = true;  // one-hot, smoothed and class-weighted rows are >= 0
      ce_domains(ei, pred, o.input);
      exercise<CE<R>, T, Order>(in, *loss, make, pred, target, ei);
    };
    if (target_kind == 1) {
      draw(int{});
    } else {
      draw(std::uint32_t{});
    }
  }
}

template <class T, int Order, class R>
void kl_divergence(FuzzedDataProvider& in, Eigen::Index m, Eigen::Index k) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  lossfn::KLDivergenceOptions o;
  o.input = kForms[in.ConsumeIntegralInRange<int>(0, 3)];
  o.log_target = in.ConsumeBool();
  note("KLDivergence input %d log_target %d\n", static_cast<int>(o.input), int(o.log_target));
  std::unique_ptr<KL<R>> loss;
  check_outcome(run([&] { loss = std::make_unique<KL<R>>(o); }),
                static_cast<int>(o.input) < 3 ? 0u : unsigned(kInvalid), "KLDivergence constructor");
  if (!loss) return;
  const Operand<Plain> pred_in(in, m, k);
  const bool mismatch = in.ConsumeIntegralInRange<int>(0, 7) == 0;
  const Operand<Plain> target_in(in, m, mismatch ? k + 1 : k);
  Expect e;
  if (mismatch || (m > 0 && k == 0)) e.errors |= kShape;
  if (R::divides_by_count && m == 0) e.errors |= kInvalid;
  // P log P is finite for P >= 0 (0 log 0 = 0); with log_target, exp(y) must not overflow
  const auto target = target_in.view();
  const bool target_ok = in_domain(target) && (target.size() == 0 ||
                                               (o.log_target ? target.maxCoeff() <= T(80) : target.minCoeff() >= T(0)));
  e.finite_domain = pred_in_domain(pred_in.view(), o.input) && target_ok;
  // Weighted (weights <= 10, None's upstream <= 1e4, a factor 1e5): the largest
  // derivatives are about P (logits: the gradient C q - P, the diagonal C q (1 - q)),
  // P / p and P / p^2 (probabilities), with P = exp(y) under log_target: keep them
  // below 1e28 so that the factor leaves them finite in float.
  double largest_p = 0, smallest_pred = 1;
  for (Eigen::Index j = 0; j < target.cols(); ++j)
    for (Eigen::Index i = 0; i < target.rows(); ++i) {
      const double y = static_cast<double>(target(i, j));
      largest_p = std::max(largest_p, o.log_target ? std::exp(std::min(y, 700.0)) : std::abs(y));
    }
  const auto pred = pred_in.view();
  for (Eigen::Index j = 0; j < pred.cols(); ++j)
    for (Eigen::Index i = 0; i < pred.rows(); ++i)
      smallest_pred = std::min(smallest_pred, std::abs(static_cast<double>(pred(i, j))));
  const bool probabilities = o.input == lossfn::Input::Probabilities;
  e.weighted_domain = e.finite_domain && 5 * largest_p <= 1e28 && (!probabilities || largest_p <= 1e28 * smallest_pred);
  e.hessian_domain = e.weighted_domain && (!probabilities || largest_p <= 1e28 * smallest_pred * smallest_pred);
  e.convex = o.log_target || none_negative(target);
  const auto make = [&](auto other) { return KL<decltype(other)>(o); };
  exercise<KL<R>, T, Order>(in, *loss, make, pred, target, e);
}

template <class T, int Order>
void with_type(FuzzedDataProvider& in, bool kl, int reduction, Eigen::Index m, Eigen::Index k) {
  if (kl) {
    if (reduction == 0)
      kl_divergence<T, Order, lossfn::Sum>(in, m, k);
    else if (reduction == 1)
      kl_divergence<T, Order, lossfn::Mean>(in, m, k);
    else
      kl_divergence<T, Order, lossfn::None>(in, m, k);
  } else {
    if (reduction == 0)
      cross_entropy<T, Order, lossfn::Sum>(in, m, k);
    else if (reduction == 1)
      cross_entropy<T, Order, lossfn::Mean>(in, m, k);
    else
      cross_entropy<T, Order, lossfn::None>(in, m, k);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  trace().clear();
  const bool kl = in.ConsumeBool();
  const int reduction = in.ConsumeIntegralInRange<int>(0, 2);
  const bool is_float = in.ConsumeBool();
  const bool row_major = in.ConsumeBool();
  // now and then more samples than one block of the row-wise kernel
  const bool big = in.ConsumeIntegralInRange<int>(0, 15) == 0;
  const Eigen::Index m =
      big ? in.ConsumeIntegralInRange<Eigen::Index>(64, 70) : in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  const Eigen::Index k = in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  note("reduction %d (Sum, Mean, None), %s, %s\n", reduction, is_float ? "float" : "double",
       row_major ? "row-major" : "column-major");
  if (is_float) {
    row_major ? with_type<float, Eigen::RowMajor>(in, kl, reduction, m, k)
              : with_type<float, Eigen::ColMajor>(in, kl, reduction, m, k);
  } else {
    row_major ? with_type<double, Eigen::RowMajor>(in, kl, reduction, m, k)
              : with_type<double, Eigen::ColMajor>(in, kl, reduction, m, k);
  }
  end_case();
  return 0;
}
