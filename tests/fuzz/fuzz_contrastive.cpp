// libFuzzer target: the metric-learning family (Contrastive).
// Bytes choose the reduction, float or double, the storage order, the shapes (0
// and 1 pairs/dimensions included, x2 or the labels sometimes of another shape),
// the margin and distance (valid and invalid), the labels (integer or floating,
// sometimes not 0/1), the two gradient outputs and hard values.
// Checks: see fuzz_common.hpp.
#include <lossfn/contrastive.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_common.hpp"
#include "fuzz_weights.hpp"

namespace {

using namespace lossfn_fuzz;

/// The unweighted calls (their bytes come first: the seeds keep their meaning).
template <class Loss, class T, int Order, class X, class Y>
void unweighted(FuzzedDataProvider& in, const Loss& loss, const X& x1, const X& x2, const Y& y, unsigned errors,
                bool finite_domain) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using R = typename Loss::reduction;
  const Eigen::Index m = x1.rows(), d = x1.cols();
  note("labels %s, expected errors %u, finite domain %d\n",
       std::is_integral<typename Y::Scalar>::value ? "int" : "float", errors, int(finite_domain));
  note_array("x1", x1);
  note_array("x2", x2);
  note_array("y", y);
  if constexpr (R::reduces) {
    T value{};
    lossfn::ContrastiveGradients<Plain> g;
    check_outcome(run([&] { value = loss.forward(x1, x2, y); }), errors, "forward");
    check_outcome(run([&] { g = loss.backward(x1, x2, y); }), errors, "backward");
    GradBuffer<T, Order> b1, b2;
    const int wrong = in.ConsumeIntegralInRange<int>(0, 5);  // 1: g1 of a wrong shape, 2: g2
    const Eigen::Index gap = in.ConsumeIntegralInRange<Eigen::Index>(0, 2);
    T fused{};
    const Outcome got = run([&] {
      fused = loss.forward_backward(x1, x2, y, b1.view(m, d + (wrong == 1 ? 1 : 0), gap),
                                    b2.view(m + (wrong == 2 ? 1 : 0), d, gap));
    });
    check_outcome(got, errors | (wrong == 1 || wrong == 2 ? unsigned(kShape) : 0u), "forward_backward (Map)");
    if (got != kOk) {
      check(b1.untouched() && b2.untouched(), "a failed forward_backward wrote into the caller's buffers");
      return;
    }
    Plain r1 = Plain::Constant(1, 3, T(-1)), r2;
    T fused2{};
    check_outcome(run([&] { fused2 = loss.forward_backward(x1, x2, y, r1, r2); }), 0, "forward_backward (Array)");
    const auto g1 = b1.view(m, d, gap);
    const auto g2 = b2.view(m, d, gap);
    check(close(fused, value, kRel<T>) && close(fused2, value, kRel<T>), "forward_backward's loss != forward's");
    check(all_close(g1, g.dx1, kRel<T>) && all_close(g2, g.dx2, kRel<T>) && all_close(r1, g.dx1, kRel<T>) &&
              all_close(r2, g.dx2, kRel<T>),
          "forward_backward's gradients != backward's");
    if (finite_domain) {
      check(std::isfinite(static_cast<double>(value)), "non-finite loss on finite in-domain inputs");
      check(all_finite(g.dx1) && all_finite(g.dx2) && all_finite(g1) && all_finite(g2),
            "non-finite gradient on finite in-domain inputs");
    }
  } else {
    Eigen::Array<T, Eigen::Dynamic, 1> terms, upstream(m);
    fill(in, upstream);
    note_array("upstream", upstream);
    lossfn::ContrastiveGradients<Plain> g;
    check_outcome(run([&] { terms = loss.forward(x1, x2, y); }), errors, "forward (None)");
    check_outcome(run([&] { g = loss.backward(x1, x2, y, upstream); }), errors, "backward (None)");
    if (errors != 0) return;
    check(terms.rows() == m && g.dx1.rows() == m && g.dx2.cols() == d, "None: outputs of the wrong shape");
    if (finite_domain && in_domain(upstream)) {
      check(all_finite(terms) && all_finite(g.dx1) && all_finite(g.dx2),
            "None: non-finite output on finite in-domain inputs");
    }
  }
}

/// The weighted calls of make(R{}) (fuzz_weights.hpp: weights m x 1, else a
/// shape_error; the same checks as the (pred, target) losses', without Hessians).
template <class R, class T, int Order, class Make, class X, class Y>
void weighted_calls(FuzzedDataProvider& in, const Make& make, const X& x1, const X& x2, const Y& y,
                    unsigned call_errors, bool finite_domain) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  const auto loss = make(R{});
  const Eigen::Index m = x1.rows(), d = x1.cols();
  const DrawnWeights<T> w = draw_weights<T>(in, m, d, false);
  const unsigned errors = call_errors | w.errors;
  // weights <= 10 (x None's upstream <= 1e4) keep the finite domain's losses
  // (<= (2 x 1e4 x sqrt 5 + margin)^2) and gradients (cosine: <= 1e30) finite in float,
  // WeightedMean with tiny weights included (detail::weight_multiplier)
  const bool finite = finite_domain && w.bounded;
  note("weighted section: reduction %s, weights %s, expected errors %u, finite %d\n",
       std::is_same<R, lossfn::WeightedMean>::value ? "WeightedMean"
       : R::reduces                                 ? "Sum/Mean"
                                                    : "None",
       w.given ? "given" : "none", errors, int(finite));
  if (w.given) note_array("weights", w.view());
  if constexpr (R::reduces) {
    T value{};
    lossfn::ContrastiveGradients<Plain> g;
    check_outcome(run([&] { value = weighted(w, [&](const auto&... v) { return loss.forward(x1, x2, y, v...); }); }),
                  errors, "forward (weights)");
    check_outcome(run([&] { g = weighted(w, [&](const auto&... v) { return loss.backward(x1, x2, y, v...); }); }),
                  errors, "backward (weights)");
    GradBuffer<T, Order> b1, b2;
    const int wrong = in.ConsumeIntegralInRange<int>(0, 5);  // 1: g1 of a wrong shape, 2: g2
    const Eigen::Index gap = in.ConsumeIntegralInRange<Eigen::Index>(0, 2);
    T fused{};
    const Outcome got = run([&] {
      fused = weighted(w, [&](const auto&... v) {
        return loss.forward_backward(x1, x2, y, v..., b1.view(m, d + (wrong == 1 ? 1 : 0), gap),
                                     b2.view(m + (wrong == 2 ? 1 : 0), d, gap));
      });
    });
    check_outcome(got, errors | (wrong == 1 || wrong == 2 ? unsigned(kShape) : 0u), "forward_backward (weights, Maps)");
    if (got != kOk) {
      check(b1.untouched() && b2.untouched(), "a failed forward_backward (weights) wrote into the caller's buffers");
      return;
    }
    const auto g1 = b1.view(m, d, gap);
    const auto g2 = b2.view(m, d, gap);
    check(close(fused, value, kRel<T>), "forward_backward's loss != forward's (weights)");
    check(all_close(g1, g.dx1, kRel<T>) && all_close(g2, g.dx2, kRel<T>),
          "forward_backward's gradients != backward's (weights)");
    if (finite) {
      check(std::isfinite(static_cast<double>(value)), "non-finite loss on finite in-domain inputs and weights");
      check(all_finite(g.dx1) && all_finite(g.dx2) && all_finite(g1) && all_finite(g2),
            "non-finite gradient on finite in-domain inputs and weights");
    }
    if constexpr (std::is_same<R, lossfn::WeightedMean>::value) {
      if (w.all_zero && finite) {
        check(value == 0 && all_zero(g.dx1) && all_zero(g.dx2), "WeightedMean, every weight 0: loss or gradient != 0");
      }
      if ((!w.given || w.equal_pow2) && finite) {
        // as in fuzz_weights.hpp: a power-of-2 weight scales every product and sum
        // exactly, so only the order of the sum may differ, which kRel covers
        const auto mean = make(lossfn::Mean{});
        const auto mg = mean.backward(x1, x2, y);
        check(close(value, mean.forward(x1, x2, y), kRel<T>), "WeightedMean with equal weights: loss != Mean's");
        check(all_close(g.dx1, mg.dx1, kRel<T>) && all_close(g.dx2, mg.dx2, kRel<T>),
              "WeightedMean with equal weights: gradients != Mean's");
      }
    }
  } else {
    Eigen::Array<T, Eigen::Dynamic, 1> terms, upstream(m);
    fill(in, upstream);
    note_array("upstream", upstream);
    lossfn::ContrastiveGradients<Plain> g;
    check_outcome(run([&] { terms = weighted(w, [&](const auto&... v) { return loss.forward(x1, x2, y, v...); }); }),
                  errors, "forward (None, weights)");
    check_outcome(
        run([&] { g = weighted(w, [&](const auto&... v) { return loss.backward(x1, x2, y, v..., upstream); }); }),
        errors, "backward (None, weights)");
    if (errors != 0) return;
    check(terms.rows() == m && g.dx1.rows() == m && g.dx2.cols() == d, "None: outputs of the wrong shape (weights)");
    if (finite && in_domain(upstream)) {
      check(all_finite(terms) && all_finite(g.dx1) && all_finite(g.dx2),
            "None: non-finite output on finite in-domain inputs and weights");
    }
  }
}

/// Every call of one loss: the unweighted ones, then the weighted ones under the
/// loss's reduction (under Mean, a bool picks WeightedMean instead).
template <class R, class T, int Order, class Make, class X, class Y>
void exercise(FuzzedDataProvider& in, const lossfn::Contrastive<R>& loss, const Make& make, const X& x1, const X& x2,
              const Y& y, unsigned errors, bool finite_domain) {
  unweighted<lossfn::Contrastive<R>, T, Order>(in, loss, x1, x2, y, errors, finite_domain);
  if constexpr (std::is_same<R, lossfn::Mean>::value) {
    if (in.ConsumeBool()) {
      weighted_calls<lossfn::WeightedMean, T, Order>(in, make, x1, x2, y, errors, finite_domain);
      return;
    }
  }
  weighted_calls<R, T, Order>(in, make, x1, x2, y, errors, finite_domain);
}

template <class T, int Order, class R>
void contrastive(FuzzedDataProvider& in, Eigen::Index m, Eigen::Index d) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  const double margins[] = {1.0,
                            0.0,
                            2.5,
                            1e-30,
                            1e4,
                            -1.0,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity()};
  const double margin = margins[in.ConsumeIntegralInRange<int>(0, 7)];
  const lossfn::Distance distances[] = {lossfn::Distance::Euclidean, lossfn::Distance::SquaredEuclidean,
                                        lossfn::Distance::Cosine, static_cast<lossfn::Distance>(9)};
  const lossfn::Distance distance = distances[in.ConsumeIntegralInRange<int>(0, 3)];
  const bool options_ok = std::isfinite(margin) && margin >= 0 && static_cast<int>(distance) < 3;
  note("Contrastive margin %g distance %d\n", margin, static_cast<int>(distance));
  std::unique_ptr<lossfn::Contrastive<R>> loss;
  check_outcome(run([&] { loss = std::make_unique<lossfn::Contrastive<R>>(margin, distance); }),
                options_ok ? 0u : unsigned(kInvalid), "Contrastive constructor");
  if (!loss) return;

  const bool x2_mismatch = in.ConsumeIntegralInRange<int>(0, 9) == 0;
  const Operand<Plain> x1(in, m, d), x2(in, m, x2_mismatch ? d + 1 : d);
  const int label_shape = in.ConsumeIntegralInRange<int>(0, 9);  // 0: m+1 rows, 1: two columns
  unsigned errors = 0;
  if (x2_mismatch || label_shape <= 1) errors |= kShape;
  if (R::divides_by_count && m == 0) errors |= kInvalid;
  // Cosine: |dD/dx1_i| ~ 1/|x1_i|, so a nonzero row norm below 1e-30 makes the true
  // gradient overflow float (and, below ~1e-154, the squared norm underflows double).
  // (The float kernel once rounded the factors t cos / |a|^2 to float, which overflowed
  // below |a| ~ 1e-19; they are formed in double now, see test_contrastive's "cosine
  // gradients of tiny float rows", so float is checked down to the same norm.)
  const double min_norm = 1e-30;
  const auto norms_ok = [&](const Operand<Plain>& x) {
    if (distance != lossfn::Distance::Cosine || x.cols == 0) return true;
    for (Eigen::Index i = 0; i < x.rows; ++i) {
      const double norm = x.view().row(i).template cast<double>().matrix().norm();
      if (norm != 0 && norm < min_norm) return false;
    }
    return true;
  };
  const bool finite_domain = in_domain(x1.view()) && in_domain(x2.view()) && norms_ok(x1) && norms_ok(x2);
  const auto draw = [&](auto tag) {
    using I = decltype(tag);
    Eigen::Array<I, Eigen::Dynamic, Eigen::Dynamic> y(label_shape == 0 ? m + 1 : m, label_shape == 1 ? 2 : 1);
    bool labels_ok = true;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      const double candidates[] = {0.0, 1.0, 0.0, 1.0, 2.0, -1.0, 0.5, std::numeric_limits<double>::quiet_NaN()};
      const double v = candidates[in.ConsumeIntegralInRange<int>(0, std::is_integral<I>::value ? 5 : 7)];
      y(i) = static_cast<I>(v);
      labels_ok = labels_ok && (v == 0.0 || v == 1.0);
    }
    const auto make = [&](auto other) { return lossfn::Contrastive<decltype(other)>(margin, distance); };
    exercise<R, T, Order>(in, *loss, make, x1.view(), x2.view(), y, errors | (labels_ok ? 0u : unsigned(kRange)),
                          finite_domain);
  };
  if (in.ConsumeBool()) {
    draw(T{});
  } else {
    draw(int{});
  }
}

template <class T, int Order>
void with_type(FuzzedDataProvider& in, int reduction, Eigen::Index m, Eigen::Index d) {
  if (reduction == 0)
    contrastive<T, Order, lossfn::Sum>(in, m, d);
  else if (reduction == 1)
    contrastive<T, Order, lossfn::Mean>(in, m, d);
  else
    contrastive<T, Order, lossfn::None>(in, m, d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  trace().clear();
  const int reduction = in.ConsumeIntegralInRange<int>(0, 2);
  const bool is_float = in.ConsumeBool();
  const bool row_major = in.ConsumeBool();
  // now and then more pairs than one block of the kernel (64 rows)
  const bool big = in.ConsumeIntegralInRange<int>(0, 15) == 0;
  const Eigen::Index m =
      big ? in.ConsumeIntegralInRange<Eigen::Index>(64, 70) : in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  const Eigen::Index d = in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  note("reduction %d (Sum, Mean, None), %s, %s\n", reduction, is_float ? "float" : "double",
       row_major ? "row-major" : "column-major");
  if (is_float) {
    row_major ? with_type<float, Eigen::RowMajor>(in, reduction, m, d)
              : with_type<float, Eigen::ColMajor>(in, reduction, m, d);
  } else {
    row_major ? with_type<double, Eigen::RowMajor>(in, reduction, m, d)
              : with_type<double, Eigen::ColMajor>(in, reduction, m, d);
  }
  end_case();
  return 0;
}
