// The one-pass Hessian diagonal of CrossEntropy and KLDivergence (detail::rowwise_block
// writes it beside the gradient) against the separate scalar pass it replaced
// (support/rowwise_hessian_reference.hpp, in double), over random and extreme inputs:
// -inf logits, huge spreads, a dominant logit (q near 1), probabilities near 0 and
// subnormal beside zero target weights, zero probabilities under positive weights
// (+inf), zero and huge class weights (the exact-exp path), ignore_index, label
// smoothing, soft targets, KL's three input forms and log_target; Sum, Mean and None
// with an upstream of both signs and zeros; both storage orders, float and double;
// row counts that cross the column-major blocks and rows that cross the row pieces.
// Also: forward_backward_hessian's loss and gradient are forward_backward's, bit for
// bit (same gradient buffer), and its Hessian is hessian_diagonal's.
#include <lossfn/cross_entropy.hpp>
#include <lossfn/kl_divergence.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "catch.hpp"
#include "gradient_check.hpp"
#include "rowwise_hessian_reference.hpp"

namespace {

namespace ref = lossfn_test::rowwise_hessian;
using lossfn::Input;
using lossfn_test::random_array;

// in units of the scalar's epsilon times the entry's scale (ref::hessian_excess), plus
// K when the row sums (C_i, the softmax's normaliser) are taken in the scalar itself
// (double): the bound (K - 1) epsilon of a sum of K terms (float sums in double)
template <class S>
double allowed_ulps(Eigen::Index classes) {
  return 16 + (std::is_same<S, lossfn::detail::accumulator_t<S>>::value ? static_cast<double>(classes) : 0.0);
}

template <class S, int Order>
using Plain = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Order>;
using Labels = Eigen::Array<int, Eigen::Dynamic, 1>;

/// The multiplier u_i of each row: the reduction's scale rounded to S (what the row
/// sink holds), or None's upstream.
template <class S>
Eigen::ArrayXd scale_of(Eigen::Index rows, double scale) {
  return Eigen::ArrayXd::Constant(rows, static_cast<double>(static_cast<S>(scale)));
}

/// Every Hessian call of one loss at one point, against the old pass: hessian_diagonal
/// under Sum, Mean and None (upstream), forward_backward_hessian under Sum and Mean;
/// forward_backward_hessian's loss and gradient against forward_backward's.
template <class Make, class P, class T>
void check_point(const std::string& label, const Make& make, Input form, const P& pred, const T& target,
                 const ref::Weights& weights) {
  using S = typename P::Scalar;
  CAPTURE(label, pred.rows(), pred.cols(), P::IsRowMajor, sizeof(S));
  const auto sum = make(lossfn::Sum{});
  const auto mean = make(lossfn::Mean{});
  const auto none = make(lossfn::None{});
  const Eigen::Index m = pred.rows();
  const double allowed = allowed_ulps<S>(pred.cols());
  const double den = static_cast<double>(mean.denominator(pred, target));
  const Eigen::ArrayXd u_sum = scale_of<S>(m, 1.0), u_mean = scale_of<S>(m, den > 0 ? 1 / den : 0.0);
  Eigen::Array<S, Eigen::Dynamic, 1> upstream = random_array<Eigen::Array<S, Eigen::Dynamic, 1>>(m, 1, 7, -2, 2);
  upstream(0) = 0;
  const Eigen::ArrayXd u_none = upstream.template cast<double>();

  const P h_sum = sum.hessian_diagonal(pred, target);
  const P h_mean = mean.hessian_diagonal(pred, target);
  const P h_none = none.hessian_diagonal(pred, target, upstream);
  CHECK(ref::hessian_excess<S>(form, pred, weights, u_sum, h_sum) < allowed);
  CHECK(ref::hessian_excess<S>(form, pred, weights, u_mean, h_mean) < allowed);
  CHECK(ref::hessian_excess<S>(form, pred, weights, u_none, h_none) < allowed);

  P grad(m, pred.cols()), hess(m, pred.cols());
  for (const bool use_mean : {false, true}) {
    CAPTURE(use_mean);
    const S fb = use_mean ? mean.forward_backward(pred, target, grad) : sum.forward_backward(pred, target, grad);
    const P fb_grad = grad;
    grad.setConstant(S(-7));
    const S fbh = use_mean ? mean.forward_backward_hessian(pred, target, grad, hess)
                           : sum.forward_backward_hessian(pred, target, grad, hess);
    // bit for bit (NaN where forward_backward has NaN)
    CHECK(((fbh == fb) || (std::isnan(fbh) && std::isnan(fb))));
    CHECK(((grad == fb_grad) || (grad.isNaN() && fb_grad.isNaN())).all());
    CHECK(ref::hessian_excess<S>(form, pred, weights, use_mean ? u_mean : u_sum, hess) < allowed);
    // hessian_diagonal: the same up to the row sums' rounding (row-major pieces follow
    // the alignment of the buffer that keeps the numerators; see docs/hessian.md)
    CHECK(ref::excess_over<S>(form, pred, weights, use_mean ? u_mean : u_sum, hess, use_mean ? h_mean : h_sum) <
          allowed);
  }
}

/// Random logits in [-4, 4] with extremes in some rows: -inf entries (row 1), a spread
/// of +-1e4 (row 2), a dominant logit (row 3: q near 1).
template <class P>
P logits(Eigen::Index m, Eigen::Index k, unsigned seed, bool extremes) {
  using S = typename P::Scalar;
  P z = random_array<P>(m, k, seed, -4, 4);
  if (extremes && m > 3) {
    for (Eigen::Index j = 0; j < k; j += 2) z(1, j) = -std::numeric_limits<S>::infinity();
    for (Eigen::Index j = 0; j < k; ++j) z(2, j) = S(j % 3 == 0 ? 1e4 : -1e4) + S(j);
    z(3, k / 2) = S(30);
  }
  return z;
}

/// Rows of probabilities (a softmax of random logits).
template <class P>
P probabilities(Eigen::Index m, Eigen::Index k, unsigned seed) {
  P p = random_array<P>(m, k, seed, -2, 2).exp();
  for (Eigen::Index i = 0; i < m; ++i) p.row(i) /= p.row(i).sum();
  return p;
}

template <class S, int Order>
void cross_entropy_cases(Eigen::Index m, Eigen::Index k) {
  using P = Plain<S, Order>;
  const Labels labels = (random_array<Eigen::ArrayXd>(m, 1, 3, 0, static_cast<double>(k) - 1e-9)).floor().cast<int>();
  P soft = probabilities<P>(m, k, 4);
  if (m > 2) soft.row(1).head(k / 2).setZero();  // zero target weights beside the extremes of pred
  Eigen::ArrayXd weights = random_array<Eigen::ArrayXd>(k, 1, 5, 0.2, 2);
  weights(0) = 0;
  for (const Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    P pred;
    if (form == Input::Logits) {
      pred = logits<P>(m, k, 6, true);
    } else {
      pred = probabilities<P>(m, k, 6);
      if (m > 2) {
        using Sc = typename P::Scalar;
        for (Eigen::Index j = 0; j < k / 2; ++j)
          pred(1, j) = j % 3 == 0 ? Sc(1e-30) : j % 3 == 1 ? std::numeric_limits<Sc>::min() / 2 : Sc(0);
        pred(2, static_cast<Eigen::Index>(labels(2))) = 0;  // +inf where the target has weight
      }
      if (form == Input::LogProbabilities) pred = random_array<P>(m, k, 6, -8, 0);
    }
    for (int variant = 0; variant < 5; ++variant) {
      lossfn::CrossEntropyOptions o;
      o.input = form;
      if (variant == 1 || variant == 3) o.label_smoothing = 0.1;
      if (variant >= 2) o.class_weights = weights;
      if (variant == 3) o.ignore_index = labels(0);
      if (variant == 4) o.class_weights = Eigen::ArrayXd::Constant(k, 1e8);  // the exact-exp path
      const std::string label =
          "CrossEntropy form " + std::to_string(static_cast<int>(form)) + " variant " + std::to_string(variant);
      const auto make = [&o](auto r) { return lossfn::CrossEntropy<decltype(r)>(o); };
      check_point(label + " index", make, form, pred, labels,
                  ref::cross_entropy_index(labels, k, o.label_smoothing, o.class_weights, o.ignore_index));
      if (variant != 3) {
        check_point(label + " soft", make, form, pred, soft,
                    ref::cross_entropy_soft(soft, o.label_smoothing, o.class_weights));
      }
    }
  }
}

template <class S, int Order>
void kl_cases(Eigen::Index m, Eigen::Index k) {
  using P = Plain<S, Order>;
  P target = probabilities<P>(m, k, 8);
  if (m > 2) target.row(1).head(k / 2).setZero();
  for (const Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    P pred = form == Input::Logits ? logits<P>(m, k, 9, true) : probabilities<P>(m, k, 9);
    if (form == Input::Probabilities && m > 2) {
      for (Eigen::Index j = 0; j < k / 2; ++j) pred(1, j) = j % 2 == 0 ? S(0) : std::numeric_limits<S>::min() / 2;
    }
    if (form == Input::LogProbabilities) pred = pred.log();
    for (const bool log_target : {false, true}) {
      lossfn::KLDivergenceOptions o;
      o.input = form;
      o.log_target = log_target;
      const P t = log_target ? P(target.log()) : target;
      const auto make = [&o](auto r) { return lossfn::KLDivergence<decltype(r)>(o); };
      check_point(
          "KLDivergence form " + std::to_string(static_cast<int>(form)) + " log_target " + std::to_string(log_target),
          make, form, pred, t, ref::kl_divergence(t, log_target));
    }
  }
}

template <class S, int Order>
void all_cases() {
  // 70 rows: more than a column-major block (64 float, 32 double rows) with a tail;
  // 300 classes: a row-major row in several pieces; 1 class: q = 1, Hessian 0
  for (const auto& shape : {std::pair<Eigen::Index, Eigen::Index>{70, 7}, {70, 300}, {5, 1}}) {
    CAPTURE(shape.first, shape.second);
    cross_entropy_cases<S, Order>(shape.first, shape.second);
    kl_cases<S, Order>(shape.first, shape.second);
  }
}

}  // namespace

TEST_CASE("row-wise Hessian: the one pass agrees with the old scalar pass (float, column-major)") {
  all_cases<float, Eigen::ColMajor>();
}
TEST_CASE("row-wise Hessian: the one pass agrees with the old scalar pass (float, row-major)") {
  all_cases<float, Eigen::RowMajor>();
}
TEST_CASE("row-wise Hessian: the one pass agrees with the old scalar pass (double, column-major)") {
  all_cases<double, Eigen::ColMajor>();
}
TEST_CASE("row-wise Hessian: the one pass agrees with the old scalar pass (double, row-major)") {
  all_cases<double, Eigen::RowMajor>();
}
