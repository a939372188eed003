// libFuzzer target: the binary family, BinaryCrossEntropy (logits and probabilities,
// pos_weight, label_smoothing), SigmoidFocal (alpha unset or set, gamma >= 0), Hinge and
// SquaredHinge (labels -1/1 or 0/1) and SoftMargin. Bytes choose the loss, its options
// (valid and invalid: an invalid one must throw std::invalid_argument at construction),
// the reduction (Sum, Mean, None; WeightedMean in the weighted section), float or double,
// the storage order, the shapes (0 and 1 rows/columns, target sometimes of another
// shape), and the values: targets (and BCE's probabilities) either projected into the
// loss's domain or left arbitrary. The expected outcome is worked out from the data:
// kRange for a target (or a BCE probability) outside its domain, NaN included; kShape
// for a shape mismatch or a pos_weight not one per column; kInvalid for Mean over an
// empty input. Checks: fuzz_common.hpp's and fuzz_weights.hpp's, plus the binary
// family's claims of finiteness for every finite logit (see Spec).
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/hinge.hpp>
#include <lossfn/sigmoid_focal.hpp>
#include <lossfn/soft_margin.hpp>
#include <lossfn/squared_hinge.hpp>

#include "fuzz_common.hpp"
#include "fuzz_weights.hpp"

namespace {

using namespace lossfn_fuzz;

struct Case {
  Eigen::Index rows, cols, target_rows, target_cols;
};

/// Where a loss's targets live: [0, 1], exactly -1 or 1, exactly 0 or 1.
enum class Domain { Unit, PlusMinus, ZeroOne };

/// What the options of the drawn loss imply.
struct Spec {
  const char* name = "";
  bool accepts = true;           ///< the constructor must succeed (else std::invalid_argument)
  Domain target = Domain::Unit;  ///< the targets' domain
  bool pred_unit = false;        ///< BCE from probabilities: pred in [0, 1] too
  unsigned call_errors = 0;      ///< errors of every call whatever the data (pos_weight's length: kShape)
  bool bounded_options = true;   ///< pos_weight entries <= kMaxWeight (the finiteness claims' premise)
  /// The gradient and Hessian diagonal are finite for every finite logit (not only
  /// within kDomain): BCE from logits (|gradient| <= max(c, 1), Hessian <= c / 4 with
  /// c = max(1, pos_weight)), SigmoidFocal for every gamma >= 0 (written without
  /// negative powers of 1 - p_t), Hinge (0 or -y), SoftMargin (sigmoid-bounded).
  /// Not SquaredHinge: 2 (1 - y f) overflows float for |f| near FLT_MAX. Not BCE from
  /// probabilities, whose pred is in [0, 1] anyway (kDomain covers it).
  bool finite_any_logit = false;
  /// Also the per-term values (None) for every finite logit: BCE from logits without
  /// pos_weight > 1 (terms <= |z| + log 2; with c > 1 the term c softplus(-z) can
  /// exceed FLT_MAX), SigmoidFocal (alpha_t m^g times that), Hinge (1 + |f| rounds
  /// to at most FLT_MAX), SoftMargin (softplus(-y f) <= |f| + log 2). Not
  /// SquaredHinge ((1 - y f)^2 overflows for |f| > 1.8e19 in float).
  bool terms_any_logit = false;
  bool convex = true;  ///< Hessian diagonal >= 0: all but SigmoidFocal (its curvature can be negative)
};

template <class T>
bool in_target_domain(T v, Domain d) {
  switch (d) {
    case Domain::Unit:
      return v >= T(0) && v <= T(1);
    case Domain::PlusMinus:
      return v == T(1) || v == T(-1);
    case Domain::ZeroOne:
      return v == T(0) || v == T(1);
  }
  return false;
}

/// The value moved into the domain, keeping the hard values that already are in it
/// (0, -0, 1, denormals, 0.5 for [0, 1]).
template <class T>
T project(T v, Domain d) {
  if (in_target_domain(v, d)) return v;
  switch (d) {
    case Domain::Unit:
      if (std::isnan(static_cast<double>(v))) return T(0.5);
      if (std::isinf(static_cast<double>(v))) return v > 0 ? T(1) : T(0);
      return std::abs(v) / (T(1) + std::abs(v));
    case Domain::PlusMinus:
      return v > T(0) ? T(1) : T(-1);
    case Domain::ZeroOne:
      return v > T(0) ? T(1) : T(0);
  }
  return v;
}

template <class Plain>
void project_operand(Operand<Plain>& x, Domain d) {
  auto part = x.storage.block(x.r0, x.c0, x.rows, x.cols);
  for (Eigen::Index j = 0; j < x.cols; ++j)
    for (Eigen::Index i = 0; i < x.rows; ++i) part(i, j) = project(part(i, j), d);
}

template <class View>
bool all_in_domain(const View& x, Domain d) {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      if (!in_target_domain(x(i, j), d)) return false;
  return true;
}

/// The unweighted calls: forward, backward, hessian_diagonal, forward_backward.
template <class Loss, class T, int Order, class P, class Tg>
void unweighted(FuzzedDataProvider& in, const Loss& loss, const Case& c, const Spec& s, const P& pred, const Tg& target,
                unsigned errors, bool finite_domain, bool finite_logits) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using R = typename Loss::reduction;
  if constexpr (R::reduces) {
    T value{};
    Plain grad, hess;
    check_outcome(run([&] { value = loss.forward(pred, target); }), errors, "forward");
    check_outcome(run([&] { grad = loss.backward(pred, target); }), errors, "backward");
    check_outcome(run([&] { hess = loss.hessian_diagonal(pred, target); }), errors, "hessian_diagonal");

    GradBuffer<T, Order> buffer;
    const bool wrong_out = in.ConsumeBool();
    const Eigen::Index out_rows = wrong_out ? c.rows + 1 : c.rows;
    const Eigen::Index gap = in.ConsumeIntegralInRange<Eigen::Index>(0, 2);
    T fused{};
    const Outcome got = run([&] { fused = loss.forward_backward(pred, target, buffer.view(out_rows, c.cols, gap)); });
    check_outcome(got, errors | (wrong_out ? unsigned(kShape) : 0u), "forward_backward (Map)");
    if (got != kOk) {
      check(buffer.untouched(), "a failed forward_backward wrote into the caller's buffer");
      return;
    }
    Plain resized = Plain::Constant(2, 3, T(-1));
    T fused2{};
    check_outcome(run([&] { fused2 = loss.forward_backward(pred, target, resized); }), 0, "forward_backward (Array)");
    const auto fused_grad = buffer.view(c.rows, c.cols, gap);
    const bool overflowed = !finite_domain;
    check(close(fused, value, kRel<T>, overflowed) && close(fused2, value, kRel<T>, overflowed),
          "forward_backward's loss != forward's");
    check(all_close(fused_grad, grad, kRel<T>, overflowed) && all_close(resized, grad, kRel<T>, overflowed),
          "forward_backward's gradient != backward's");
    if (finite_domain) check(std::isfinite(static_cast<double>(value)), "non-finite loss on finite in-domain inputs");
    if (finite_logits) {
      check(all_finite(grad) && all_finite(fused_grad), "non-finite gradient on finite logits");
      check(all_finite(hess), "non-finite Hessian diagonal on finite logits");
    } else if (finite_domain) {
      check(all_finite(grad) && all_finite(fused_grad), "non-finite gradient on finite in-domain inputs");
      check(all_finite(hess), "non-finite Hessian diagonal on finite in-domain inputs");
    }
    if (s.convex) check(none_negative(hess), "negative Hessian diagonal of a convex loss");
  } else {
    Plain terms, grad, hess;
    check_outcome(run([&] { terms = loss.forward(pred, target); }), errors, "forward (None)");
    Plain upstream(c.rows, c.cols);
    fill(in, upstream);
    note_array("upstream", upstream);
    check_outcome(run([&] { grad = loss.backward(pred, target, upstream); }), errors, "backward (None)");
    check_outcome(run([&] { hess = loss.hessian_diagonal(pred, target, upstream); }), errors,
                  "hessian_diagonal (None)");
    if (errors != 0) return;
    check(terms.rows() == c.rows && terms.cols() == c.cols && grad.rows() == c.rows && grad.cols() == c.cols &&
              hess.rows() == c.rows && hess.cols() == c.cols,
          "None: outputs of the wrong shape");
    if (in_domain(upstream)) {
      if ((finite_logits && s.terms_any_logit) || finite_domain)
        check(all_finite(terms), "None: non-finite per-term loss on finite in-domain inputs");
      if (finite_logits || finite_domain)
        check(all_finite(grad) && all_finite(hess), "None: non-finite gradient or Hessian on finite inputs");
    }
    if (s.convex && none_negative(upstream)) check(none_negative(hess), "None: negative Hessian of a convex loss");
  }
}

template <class Loss, class T, int Order, class Make>
void exercise(FuzzedDataProvider& in, const Loss& loss, const Make& make, const Case& c, const Spec& s) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using R = typename Loss::reduction;
  Operand<Plain> pred_in(in, c.rows, c.cols), target_in(in, c.target_rows, c.target_cols);
  // mostly projected into the domain (3 in 4), else left arbitrary
  const bool project_target = in.ConsumeIntegralInRange<int>(0, 3) != 0;
  const bool project_pred = s.pred_unit && in.ConsumeIntegralInRange<int>(0, 3) != 0;
  if (project_target) project_operand(target_in, s.target);
  if (project_pred) project_operand(pred_in, Domain::Unit);
  const auto pred = pred_in.view();
  const auto target = target_in.view();
  const bool shapes_match = c.rows == c.target_rows && c.cols == c.target_cols;
  const bool empty_mean = R::divides_by_count && c.rows * c.cols == 0;
  const bool range_ok = all_in_domain(target, s.target) && (!s.pred_unit || all_in_domain(pred, Domain::Unit));
  unsigned errors = s.call_errors;
  if (!shapes_match) errors |= kShape;
  if (!range_ok) errors |= kRange;
  if (empty_mean) errors |= kInvalid;
  // With matching shapes and a valid pos_weight, the range check runs before the
  // empty-input check, but an empty input has no entry out of range: exact.
  const bool valid = errors == 0;
  const bool finite_domain = valid && s.bounded_options && in_domain(pred);
  const bool finite_logits = valid && s.bounded_options && s.finite_any_logit && all_finite(pred);
  note("%s, expected errors %u, finite domain %d, finite logits %d, projected target %d pred %d\n", s.name, errors,
       int(finite_domain), int(finite_logits), int(project_target), int(project_pred));
  note_array("pred", pred);
  note_array("target", target);
  unweighted<Loss, T, Order>(in, loss, c, s, pred, target, errors, finite_domain, finite_logits);

  PredTarget pt;
  pt.errors = errors;
  pt.finite_domain = finite_domain;
  pt.per_entry = true;
  pt.convex = s.convex;
  pt.fused_exact = true;
  weighted_section<R, T, Order>(in, make, pred, target, pt, [](auto, const DrawnWeights<T>&) { return true; });
}

/// make(R{}) under the chosen reduction (0 Sum, 1 Mean, 2 None), checking that the
/// constructor accepts or refuses the options as the spec says.
template <class T, int Order, class Make>
void build(FuzzedDataProvider& in, const Case& c, const Spec& s, int reduction, const Make& make) {
  const auto with = [&](auto tag) {
    using Loss = decltype(make(tag));
    Loss* made = nullptr;
    const Outcome got = run([&] { made = new Loss(make(tag)); });
    check_outcome(got, s.accepts ? 0u : unsigned(kInvalid), "constructor");
    if (made != nullptr) {
      exercise<Loss, T, Order>(in, *made, make, c, s);
      delete made;
    }
  };
  if (reduction == 0) {
    with(lossfn::Sum{});
  } else if (reduction == 1) {
    with(lossfn::Mean{});
  } else {
    with(lossfn::None{});
  }
}

double pick_from(FuzzedDataProvider& in, std::initializer_list<double> table) {
  const int k = in.ConsumeIntegralInRange<int>(0, static_cast<int>(table.size()) - 1);
  return table.begin()[k];
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class T, int Order>
void with_type(FuzzedDataProvider& in, const Case& c, int loss, int reduction) {
  Spec s;
  if (loss == 0) {
    lossfn::BinaryCrossEntropyOptions o;
    const int form = in.ConsumeIntegralInRange<int>(0, 7);
    o.input = form < 4   ? lossfn::Input::Logits
              : form < 7 ? lossfn::Input::Probabilities
                         : lossfn::Input::LogProbabilities;
    o.label_smoothing = pick_from(in, {0, 0, 0.1, 0.5, 0.999, 1e-300, 1, -0.1, kNaN});
    const int pw = in.ConsumeIntegralInRange<int>(0, 3);  // 0, 1 none; 2 one per column; 3 one too many
    bool pw_ok = true, pw_bounded = true, pw_at_most_one = true;
    if (pw >= 2) {
      o.pos_weight.resize(c.cols + (pw == 3 ? 1 : 0));
      for (Eigen::Index k = 0; k < o.pos_weight.size(); ++k) {
        const double v = pick_from(in, {1, 0.5, 3, 0, 10, 1e30, -1, kNaN, kInf});
        o.pos_weight(k) = v;
        pw_ok = pw_ok && std::isfinite(v) && v >= 0;
        pw_bounded = pw_bounded && v <= kMaxWeight;
        pw_at_most_one = pw_at_most_one && v <= 1;
      }
    }
    const bool logits = o.input == lossfn::Input::Logits;
    s.name = logits ? "BinaryCrossEntropy (logits)" : "BinaryCrossEntropy (probabilities)";
    s.accepts = o.input != lossfn::Input::LogProbabilities && o.label_smoothing >= 0 && o.label_smoothing < 1 && pw_ok;
    s.pred_unit = !logits;
    s.call_errors = pw == 3 ? unsigned(kShape) : 0u;
    s.bounded_options = pw_bounded;
    s.finite_any_logit = logits;
    s.terms_any_logit = logits && pw_at_most_one;
    note("BCE: input %d, label_smoothing %g, pos_weight mode %d\n", form, o.label_smoothing, pw);
    if (o.pos_weight.size() > 0) note_array("pos_weight", o.pos_weight.transpose());
    build<T, Order>(in, c, s, reduction, [o](auto r) { return lossfn::BinaryCrossEntropy<decltype(r)>(o); });
  } else if (loss == 1) {
    lossfn::SigmoidFocalOptions o;
    const double alpha = pick_from(in, {-2, 0.25, 0, 1, 0.5, -0.1, 1.5, kNaN});  // -2: unset
    if (alpha != -2) o.alpha = alpha;
    o.gamma = pick_from(in, {2, 0, 0.5, 0.25, 1, 5, 1e-3, 1.5, -1, kNaN, kInf});
    s.name = "SigmoidFocal";
    s.accepts = std::isfinite(o.gamma) && o.gamma >= 0 && (!o.alpha || (*o.alpha >= 0 && *o.alpha <= 1));
    s.finite_any_logit = true;
    s.terms_any_logit = true;
    s.convex = false;
    note("SigmoidFocal: alpha %g (-2: unset), gamma %g\n", alpha, o.gamma);
    build<T, Order>(in, c, s, reduction, [o](auto r) { return lossfn::SigmoidFocal<decltype(r)>(o); });
  } else if (loss == 2 || loss == 3) {
    const lossfn::HingeOptions o{in.ConsumeBool()};
    s.target = o.zero_one_labels ? Domain::ZeroOne : Domain::PlusMinus;
    note("zero_one_labels %d\n", int(o.zero_one_labels));
    if (loss == 2) {
      s.name = "Hinge";
      s.finite_any_logit = true;
      s.terms_any_logit = true;
      build<T, Order>(in, c, s, reduction, [o](auto r) { return lossfn::Hinge<decltype(r)>(o); });
    } else {
      s.name = "SquaredHinge";
      build<T, Order>(in, c, s, reduction, [o](auto r) { return lossfn::SquaredHinge<decltype(r)>(o); });
    }
  } else {
    s.name = "SoftMargin";
    s.target = Domain::PlusMinus;
    s.finite_any_logit = true;
    s.terms_any_logit = true;
    build<T, Order>(in, c, s, reduction, [](auto r) { return lossfn::SoftMargin<decltype(r)>(); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  trace().clear();
  const int loss = in.ConsumeIntegralInRange<int>(0, 4);
  const int reduction = in.ConsumeIntegralInRange<int>(0, 2);
  const bool is_float = in.ConsumeBool();
  const bool row_major = in.ConsumeBool();
  Case c{};
  // now and then more coefficients than one block of the kernel (2048)
  const bool big = in.ConsumeIntegralInRange<int>(0, 15) == 0;
  c.rows = big ? in.ConsumeIntegralInRange<Eigen::Index>(64, 70) : in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  c.cols = big ? in.ConsumeIntegralInRange<Eigen::Index>(30, 33) : in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  const bool mismatch = in.ConsumeIntegralInRange<int>(0, 7) == 0;
  c.target_rows = mismatch ? in.ConsumeIntegralInRange<Eigen::Index>(0, 5) : c.rows;
  c.target_cols = mismatch ? in.ConsumeIntegralInRange<Eigen::Index>(0, 5) : c.cols;
  note("loss %d (BCE, SigmoidFocal, Hinge, SquaredHinge, SoftMargin) reduction %d (Sum, Mean, None), %s, %s\n", loss,
       reduction, is_float ? "float" : "double", row_major ? "row-major" : "column-major");
  if (is_float) {
    row_major ? with_type<float, Eigen::RowMajor>(in, c, loss, reduction)
              : with_type<float, Eigen::ColMajor>(in, c, loss, reduction);
  } else {
    row_major ? with_type<double, Eigen::RowMajor>(in, c, loss, reduction)
              : with_type<double, Eigen::ColMajor>(in, c, loss, reduction);
  }
  end_case();
  return 0;
}
