// What the fuzz targets share for weights (lossfn::weights, FAMILIES.md §1.1), the
// WeightedMean reduction and the Hessian diagonals (§1.2, docs/hessian.md): the
// weights drawn from the input, and the weighted section of a (pred, target) loss
// (the elementwise losses, CrossEntropy, KLDivergence), run after a target's
// unweighted checks on the bytes left over (so an old seed, whose bytes end before
// it, draws "no weights" and keeps its meaning).
//
// Input format of the section (each value taken by FuzzedDataProvider from the end
// of the remaining bytes, in this order):
//   reduction   Mean only: a bool, WeightedMean instead of Mean
//   weights     shape 0..7: none, m x 1 (twice), pred's shape, 1 x d, (m+1) x 1,
//               m x (d+1), 1 x 1 (the loss's rule decides which are valid); a bool
//               and two offsets: a block of a larger array (strided); mode 0..3:
//               each weight its own value (twice), all one power of 2, all 0; values
//   reducing    Sum, Mean, WeightedMean: which output is of a wrong shape (0..5; 1
//               the gradient's, 2 the Hessian's), the gap of the Maps (0..2)
//   None        the upstream gradient's values
// Checks, on top of fuzz_common.hpp's: bad weights throw exactly shape_error or
// out_of_range and leave the caller's buffers untouched; forward_backward_hessian's
// loss and gradient are forward_backward's and its Hessian is hessian_diagonal's
// (value for value for MSE, MAE, Huber, SmoothL1; within kRel for RMSE, CrossEntropy
// and KLDivergence: PredTarget::fused_exact);
// forward_backward agrees with forward and backward (kRel, as unweighted); finite
// in-domain inputs and weights give finite loss, gradient and (where the loss's
// true diagonal fits the type) Hessian; the Hessian diagonal of a convex loss is
// >= 0; WeightedMean without weights, or with all weights one power of 2, equals
// Mean; WeightedMean with every weight 0 gives loss, gradient and Hessian 0.
#pragma once

#include <lossfn/reduction.hpp>
#include <lossfn/weights.hpp>

#include <type_traits>

#include "fuzz_common.hpp"

namespace lossfn_fuzz {

/// Weights at most this large keep the finiteness checks' claims (they multiply
/// losses and derivatives that kDomain keeps well inside float's range).
constexpr double kMaxWeight = 10;

/// Weights drawn from the input (or none), with what a call must make of them.
template <class T>
struct DrawnWeights {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>;
  bool given = false;
  Plain storage;
  Eigen::Index r0 = 0, c0 = 0, rows = 0, cols = 0;
  unsigned errors = 0;      ///< kShape (a shape the loss refuses), kRange (a bad value)
  bool bounded = true;      ///< every weight finite, >= 0 and <= kMaxWeight
  bool all_zero = false;    ///< given, and every weight 0
  bool equal_pow2 = false;  ///< given, and every weight the same power of 2
  /// some weight in (0, 1e-300) (float: (0, 1e-30)). WeightedMean's scale 1 / summed
  /// weights overflowed below 1 / DBL_MAX (and float's derivatives long before),
  /// although the weighted mean is finite: found here (corpus/*/finding-weightedmean-*),
  /// fixed by detail::weight_multiplier; such calls are now checked finite like any other
  bool tiny = false;
  auto view() const { return storage.block(r0, c0, rows, cols); }
  /// The weight of term (i, j) of an m x d loss (a valid shape: m x d, m x 1 or 1 x d).
  double at(Eigen::Index m, Eigen::Index d, Eigen::Index i, Eigen::Index j) const {
    if (!given) return 1.0;
    const auto w = view();
    if (rows == m && cols == d) return static_cast<double>(w(i, j));
    if (rows == m && cols == 1) return static_cast<double>(w(i, 0));
    return static_cast<double>(w(0, j));  // 1 x d
  }
};

/// A weight: mostly ordinary (in [0, 10]); now and then 0, -0, a denormal, a huge
/// value, or a bad one (negative, NaN, infinite).
template <class T>
T pick_weight(FuzzedDataProvider& in) {
  using L = std::numeric_limits<T>;
  const T table[] = {T(1),           T(0),          T(0.5),        T(2),     T(3),
                     -T(0),          T(1e-3),       T(10),         T(1e-30), L::denorm_min(),
                     T(1e4),         T(1e30),       L::max(),      T(-1),    -L::denorm_min(),
                     L::quiet_NaN(), L::infinity(), -L::infinity()};
  constexpr int n = static_cast<int>(sizeof table / sizeof table[0]);
  const int which = in.ConsumeIntegralInRange<int>(0, 2 * n);
  if (which < n) return table[which];
  return static_cast<T>(in.ConsumeFloatingPointInRange<double>(0.0, 10.0));
}

/// Weights for an m x d first argument; per_entry: an elementwise loss (weights may
/// also be of pred's shape or 1 x d), else one per row (m x 1 only).
template <class T>
DrawnWeights<T> draw_weights(FuzzedDataProvider& in, Eigen::Index m, Eigen::Index d, bool per_entry) {
  DrawnWeights<T> w;
  const int shape = in.ConsumeIntegralInRange<int>(0, 7);
  if (shape == 0) return w;
  w.given = true;
  const Eigen::Index shapes[8][2] = {{0, 0}, {m, 1}, {m, 1}, {m, d}, {1, d}, {m + 1, 1}, {m, d + 1}, {1, 1}};
  w.rows = shapes[shape][0];
  w.cols = shapes[shape][1];
  const bool valid =
      (w.rows == m && w.cols == 1) || (per_entry && ((w.rows == m && w.cols == d) || (w.rows == 1 && w.cols == d)));
  if (!valid) w.errors |= kShape;
  const bool block = in.ConsumeBool();
  w.r0 = block ? in.ConsumeIntegralInRange<Eigen::Index>(0, 1) : 0;
  w.c0 = block ? in.ConsumeIntegralInRange<Eigen::Index>(0, 1) : 0;
  w.storage.resize(w.rows + w.r0 + (block ? 1 : 0), w.cols + w.c0 + (block ? 1 : 0));
  w.storage.setConstant(T(-5));  // outside the block: a bad weight, if it were read
  const int mode = in.ConsumeIntegralInRange<int>(0, 3);
  const T powers[] = {T(1), T(0.5), T(2), T(0.25), T(4), T(1024)};
  const T common = mode == 2 ? powers[in.ConsumeIntegralInRange<int>(0, 5)] : T(0);
  auto part = w.storage.block(w.r0, w.c0, w.rows, w.cols);
  for (Eigen::Index j = 0; j < w.cols; ++j)
    for (Eigen::Index i = 0; i < w.rows; ++i) {
      const T v = mode >= 2 ? common : pick_weight<T>(in);
      part(i, j) = v;
      if (!(v >= T(0)) || !std::isfinite(static_cast<double>(v))) w.errors |= kRange;
      w.bounded = w.bounded && v >= T(0) && static_cast<double>(v) <= kMaxWeight;
      w.tiny = w.tiny || (v > T(0) && static_cast<double>(v) < (sizeof(T) < sizeof(double) ? 1e-30 : 1e-300));
    }
  w.all_zero = mode == 3;
  w.equal_pow2 = mode == 2;
  return w;
}

/// f(lossfn::weights(w)) when weights were drawn, else f().
template <class T, class F>
auto weighted(const DrawnWeights<T>& w, F&& f) {
  if (w.given) return f(lossfn::weights(w.view()));
  return f();
}

/// What a family's code worked out about a (pred, target) call.
struct PredTarget {
  unsigned errors = 0;         ///< the errors of the unweighted call
  bool finite_domain = false;  ///< finite loss and gradient (with bounded weights)
  bool convex = false;         ///< the Hessian diagonal is >= 0 (weights >= 0, upstream >= 0)
  bool per_entry = false;      ///< an elementwise loss: weights may be pred's shape or 1 x d
  /// forward_backward_hessian gives forward_backward's loss and gradient and
  /// hessian_diagonal's Hessian value for value (else within kRel x max(1, |a|, |b|),
  /// as forward_backward against forward and backward). Measured: value for value for
  /// the additive elementwise losses; not for RMSE (a 68 x 32 float Sum case) nor
  /// KLDivergence (logits, log_target, double: gradients of tiny magnitude differ in
  /// their last bits), so those two, and CrossEntropy (the same row kernels), use kRel.
  bool fused_exact = false;
};

/// The weighted calls and the Hessians of make(R{}) on pred and target.
/// hessian_bounded(R{}, weights): whether the true Hessian diagonal fits the type
/// (asked only on the finite domain, with bounded weights).
template <class R, class T, int Order, class Make, class P, class Tg, class HB>
void weighted_calls(FuzzedDataProvider& in, const Make& make, const P& pred, const Tg& target, const PredTarget& c,
                    const HB& hessian_bounded) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  const auto loss = make(R{});
  using Loss = std::decay_t<decltype(loss)>;
  const Eigen::Index m = pred.rows(), d = pred.cols();
  const DrawnWeights<T> w = draw_weights<T>(in, m, d, c.per_entry);
  const unsigned errors = c.errors | w.errors;
  // WeightedMean with tiny weights (tiny) is finite too since detail::weight_multiplier
  const bool finite = c.finite_domain && w.bounded;
  note("weighted section: %s, reduction %s, weights %s, expected errors %u, finite %d\n", Loss::name,
       std::is_same<R, lossfn::WeightedMean>::value ? "WeightedMean"
       : R::reduces                                 ? "Sum/Mean"
                                                    : "None",
       w.given ? "given" : "none", errors, int(finite));
  if (w.given) note_array("weights", w.view());

  if constexpr (R::reduces) {
    T value{};
    Plain grad, hess;
    check_outcome(run([&] { value = weighted(w, [&](const auto&... x) { return loss.forward(pred, target, x...); }); }),
                  errors, "forward (weights)");
    check_outcome(run([&] { grad = weighted(w, [&](const auto&... x) { return loss.backward(pred, target, x...); }); }),
                  errors, "backward (weights)");
    check_outcome(
        run([&] { hess = weighted(w, [&](const auto&... x) { return loss.hessian_diagonal(pred, target, x...); }); }),
        errors, "hessian_diagonal");

    GradBuffer<T, Order> gb, gh, hb;
    const int wrong = in.ConsumeIntegralInRange<int>(0, 5);  // 1: the gradient's Map of a wrong shape, 2: the Hessian's
    const Eigen::Index gap = in.ConsumeIntegralInRange<Eigen::Index>(0, 2);
    T fbh{}, fb{};
    const Outcome got_fbh = run([&] {
      fbh = weighted(w, [&](const auto&... x) {
        return loss.forward_backward_hessian(pred, target, x..., gh.view(m + (wrong == 1 ? 1 : 0), d, gap),
                                             hb.view(m, d + (wrong == 2 ? 1 : 0), gap));
      });
    });
    check_outcome(got_fbh, errors | (wrong == 1 || wrong == 2 ? unsigned(kShape) : 0u),
                  "forward_backward_hessian (Maps)");
    if (got_fbh != kOk) check(gh.untouched() && hb.untouched(), "a failed forward_backward_hessian wrote an output");
    const Outcome got_fb = run([&] {
      fb = weighted(w, [&](const auto&... x) { return loss.forward_backward(pred, target, x..., gb.view(m, d, gap)); });
    });
    check_outcome(got_fb, errors, "forward_backward (weights, Map)");
    if (got_fb != kOk) {
      check(gb.untouched(), "a failed forward_backward (weights) wrote into the caller's buffer");
      return;
    }
    const auto fb_grad = gb.view(m, d, gap);
    const bool overflowed = !finite;
    check(close(fb, value, kRel<T>, overflowed), "forward_backward's loss != forward's (weights)");
    check(all_close(fb_grad, grad, kRel<T>, overflowed), "forward_backward's gradient != backward's (weights)");
    if (got_fbh == kOk) {
      // resizable outputs of an unrelated shape are resized, and get the same values
      Plain rg = Plain::Constant(2, 3, T(-1)), rh;
      T fbh2{};
      check_outcome(run([&] {
                      fbh2 = weighted(w, [&](const auto&... x) {
                        return loss.forward_backward_hessian(pred, target, x..., rg, rh);
                      });
                    }),
                    0, "forward_backward_hessian (Arrays)");
      note("fused differences: loss %g, gradient %g, Hessian %g (relative)\n", max_rel_diff(fbh, fb),
           max_rel_diff(gh.view(m, d, gap), fb_grad), max_rel_diff(hb.view(m, d, gap), hess));
      if (c.fused_exact) {
        check(same(fbh, fb) && same(fbh2, fb), "forward_backward_hessian's loss != forward_backward's");
        check(all_same(gh.view(m, d, gap), fb_grad) && all_same(rg, fb_grad),
              "forward_backward_hessian's gradient != forward_backward's");
        check(all_same(hb.view(m, d, gap), hess) && all_same(rh, hess),
              "forward_backward_hessian's Hessian != hessian_diagonal's");
      } else {
        check(close(fbh, fb, kRel<T>, overflowed) && close(fbh2, fb, kRel<T>, overflowed),
              "forward_backward_hessian's loss != forward_backward's");
        check(
            all_close(gh.view(m, d, gap), fb_grad, kRel<T>, overflowed) && all_close(rg, fb_grad, kRel<T>, overflowed),
            "forward_backward_hessian's gradient != forward_backward's");
        check(all_close(hb.view(m, d, gap), hess, kRel<T>, overflowed) && all_close(rh, hess, kRel<T>, overflowed),
              "forward_backward_hessian's Hessian != hessian_diagonal's");
      }
    }
    if (finite) {
      check(std::isfinite(static_cast<double>(value)), "non-finite loss on finite in-domain inputs and weights");
      check(all_finite(grad) && all_finite(fb_grad), "non-finite gradient on finite in-domain inputs and weights");
      if (hessian_bounded(R{}, w)) check(all_finite(hess), "non-finite Hessian on finite in-domain inputs and weights");
    }
    if (c.convex) check(none_negative(hess), "negative Hessian diagonal of a convex loss");

    if constexpr (std::is_same<R, lossfn::WeightedMean>::value) {
      if (w.all_zero && finite) {
        check(value == 0 && all_zero(grad) && all_zero(hess), "WeightedMean, every weight 0: loss or derivative != 0");
      }
      if ((!w.given || w.equal_pow2) && finite) {
        // Equal weights c cancel: sum(c l) / (c N) = sum(l) / N. With c a power of 2 the
        // products, sums and the divisor scale exactly (away from the denormals, where
        // kRel x max(1, |a|, |b|) is an absolute allowance far above a lost bit), so the
        // only difference left is the order of the sum, which kRel covers as in the
        // forward_backward == forward check; on the finite domain nothing overflows.
        const auto mean = make(lossfn::Mean{});
        const T mean_value = mean.forward(pred, target);
        check(close(value, mean_value, kRel<T>), "WeightedMean with equal weights: loss != Mean's");
        check(all_close(grad, mean.backward(pred, target), kRel<T>),
              "WeightedMean with equal weights: gradient != Mean's");
        check(all_close(hess, mean.hessian_diagonal(pred, target), kRel<T>),
              "WeightedMean with equal weights: Hessian != Mean's");
      }
    }
  } else {
    using Terms = decltype(loss.forward(pred, target));
    Terms terms, upstream(m, c.per_entry ? d : 1);
    fill(in, upstream);
    note_array("upstream", upstream);
    Plain grad, hess;
    check_outcome(run([&] { terms = weighted(w, [&](const auto&... x) { return loss.forward(pred, target, x...); }); }),
                  errors, "forward (None, weights)");
    check_outcome(
        run([&] { grad = weighted(w, [&](const auto&... x) { return loss.backward(pred, target, x..., upstream); }); }),
        errors, "backward (None, weights)");
    check_outcome(run([&] {
                    hess = weighted(
                        w, [&](const auto&... x) { return loss.hessian_diagonal(pred, target, x..., upstream); });
                  }),
                  errors, "hessian_diagonal (None)");
    if (errors != 0) return;
    check(hess.rows() == m && hess.cols() == d, "None: Hessian diagonal of the wrong shape");
    if (finite && in_domain(upstream)) {
      check(all_finite(terms) && all_finite(grad), "None: non-finite output on finite in-domain inputs and weights");
      if (hessian_bounded(R{}, w)) check(all_finite(hess), "None: non-finite Hessian on finite in-domain inputs");
    }
    if (c.convex && none_negative(upstream)) check(none_negative(hess), "None: negative Hessian of a convex loss");
  }
}

/// The weighted section under the loss's reduction R; under Mean a bool picks
/// WeightedMean instead.
template <class R, class T, int Order, class Make, class P, class Tg, class HB>
void weighted_section(FuzzedDataProvider& in, const Make& make, const P& pred, const Tg& target, const PredTarget& c,
                      const HB& hessian_bounded) {
  if constexpr (std::is_same<R, lossfn::Mean>::value) {
    if (in.ConsumeBool()) {
      weighted_calls<lossfn::WeightedMean, T, Order>(in, make, pred, target, c, hessian_bounded);
      return;
    }
  }
  weighted_calls<R, T, Order>(in, make, pred, target, c, hessian_bounded);
}

}  // namespace lossfn_fuzz
