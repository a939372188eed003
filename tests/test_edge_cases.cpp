// The numerical edge battery: every loss over a fixed table of hard inputs, with
// the result each one must give. Expected values are worked out by hand in the
// comments (IEEE 754 round-to-nearest; no -ffast-math, denormals kept). Where
// the true value does not fit the type, the test pins what is returned, and the
// README's "reliability" section lists those cases.
#include <lossfn/lossfn.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"

namespace {

template <class T>
using Col = Eigen::Array<T, Eigen::Dynamic, 1>;

template <class T>
Col<T> col(std::initializer_list<T> values) {
  Col<T> x(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (T v : values) x(i++) = v;
  return x;
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kDenormD = std::numeric_limits<double>::denorm_min();  // 2^-1074 ~ 4.9e-324
constexpr float kDenormF = 1e-40f;                                      // a float denormal (< 2^-126 ~ 1.2e-38)

}  // namespace

// ---- regression ------------------------------------------------------------

TEST_CASE("edge: denormal errors") {
  SECTION("double: MSE's square underflows to 0, its gradient 2e is exact") {
    const auto pred = col<double>({kDenormD, -kDenormD}), target = col<double>({0.0, 0.0});
    // (2^-1074)^2 = 2^-2148 rounds to 0; 2 x 2^-1074 = 2^-1073 is a denormal, exact
    CHECK(lossfn::MSE<lossfn::Sum>{}.forward(pred, target) == 0.0);
    Col<double> grad(2);
    lossfn::MSE<lossfn::Sum>{}.forward_backward(pred, target, grad);
    CHECK(grad(0) == 2 * kDenormD);
    CHECK(grad(1) == -2 * kDenormD);
  }
  SECTION("float: squares are summed in double, then rounded to float") {
    const auto pred = col<float>({kDenormF}), target = col<float>({0.0f});
    // 1e-40^2 = 1e-80 in double rounds to 0 in float; the gradient 2e-40 is a float denormal
    CHECK(lossfn::MSE<lossfn::Sum>{}.forward(pred, target) == 0.0f);
    CHECK(lossfn::MSE<lossfn::Sum>{}.backward(pred, target)(0) == 2 * kDenormF);
    // MAE: |e| and sign(e) are exact
    CHECK(lossfn::MAE<lossfn::Sum>{}.forward(pred, target) == kDenormF);
    CHECK(lossfn::MAE<lossfn::Sum>{}.backward(pred, target)(0) == 1.0f);
    // Huber (delta 1): 1/2 e^2 = 5e-81 rounds to 0 in float; slope e
    CHECK(lossfn::Huber<lossfn::Sum>{}.forward(pred, target) == 0.0f);
    CHECK(lossfn::Huber<lossfn::Sum>{}.backward(pred, target)(0) == kDenormF);
  }
  SECTION("float RMSE: L = |e| and dL/de = 1 for a single denormal error (regression: was +inf)") {
    // sum of squares in double: (double)e^2 exact (24-bit mantissa squared fits 53 bits),
    // so L = sqrt(e^2) = |e| exactly, and e / L = 1. scale / L = 1e40 does not fit a float:
    // before the fix the float factor was +inf and the gradient +inf.
    const auto pred = col<float>({kDenormF}), target = col<float>({0.0f});
    const lossfn::RMSE<> rmse;
    CHECK(rmse.forward(pred, target) == kDenormF);
    CHECK(rmse.backward(pred, target)(0) == 1.0f);
    Col<float> grad(1);
    CHECK(rmse.forward_backward(pred, target, grad) == kDenormF);
    CHECK(grad(0) == 1.0f);
    // two errors -e and e: L = e, gradients -1/2 and 1/2 (Mean: scale 1/2, e_i / L = -+1)
    const auto pred2 = col<float>({-kDenormF, kDenormF}), target2 = col<float>({0.0f, 0.0f});
    const Col<float> grad2 = rmse.backward(pred2, target2);
    CHECK(grad2(0) == Approx(-0.5).epsilon(1e-6));
    CHECK(grad2(1) == Approx(0.5).epsilon(1e-6));
  }
  SECTION("double RMSE: squares below the denormal range give L = 0 and the zero subgradient") {
    // documented limit: (4.9e-324)^2 = 0 in double, so L = 0 and the gradient is the
    // subgradient 0 of an exact prediction (the true dL/de is 1).
    const auto pred = col<double>({kDenormD}), target = col<double>({0.0});
    CHECK(lossfn::RMSE<>{}.forward(pred, target) == 0.0);
    CHECK(lossfn::RMSE<>{}.backward(pred, target)(0) == 0.0);
  }
}

TEST_CASE("edge: errors of 1e19, squared in float") {
  // (float)1e19 squared is ~1e38 < FLT_MAX ~ 3.4e38; four of them sum to 4e38 > FLT_MAX
  const auto one = col<float>({1e19f}), one_zero = col<float>({0.0f});
  const Col<float> four = Col<float>::Constant(4, 1e19f), four_zero = Col<float>::Zero(4);
  const double e = static_cast<double>(1e19f);
  CHECK(static_cast<double>(lossfn::MSE<lossfn::Sum>{}.forward(one, one_zero)) == Approx(e * e).epsilon(1e-7));
  CHECK(static_cast<double>(lossfn::MSE<>{}.forward(four, four_zero)) == Approx(e * e).epsilon(1e-7));
  // documented: the true Sum 4e38 overflows float, the returned value is +inf
  CHECK(lossfn::MSE<lossfn::Sum>{}.forward(four, four_zero) == kInfF);
  // the gradient 2e = 2e19 fits
  CHECK(static_cast<double>(lossfn::MSE<lossfn::Sum>{}.backward(four, four_zero)(0)) == Approx(2 * e).epsilon(1e-7));
  // RMSE's root is taken in double: sqrt(4e38 / 4) = 1e19 fits, gradient e / (n L) = 1/4
  CHECK(static_cast<double>(lossfn::RMSE<>{}.forward(four, four_zero)) == Approx(e).epsilon(1e-7));
  CHECK(lossfn::RMSE<lossfn::Sum>{}.forward(four, four_zero) == Approx(2e19f).epsilon(1e-6));  // sqrt(4 e^2)
  CHECK(lossfn::RMSE<>{}.backward(four, four_zero)(0) == Approx(0.25f).epsilon(1e-6));
  // Huber (delta 1): 1 x (1e19 - 1/2) in double, fits
  CHECK(static_cast<double>(lossfn::Huber<lossfn::Sum>{}.forward(four, four_zero)) == Approx(4 * e).epsilon(1e-7));
  CHECK(lossfn::Huber<lossfn::Sum>{}.backward(four, four_zero)(0) == 1.0f);
}

TEST_CASE("edge: values of +-1e30 and overflow of the true value") {
  SECTION("float: an error of 2e30 squares to 4e60; MSE returns +inf, the others are finite") {
    const auto pred = col<float>({1e30f}), target = col<float>({-1e30f});
    const double e = 2.0 * static_cast<double>(1e30f);
    CHECK(lossfn::MSE<>{}.forward(pred, target) == kInfF);  // documented: the true 4e60 does not fit
    CHECK(static_cast<double>(lossfn::MSE<>{}.backward(pred, target)(0)) == Approx(2 * e).epsilon(1e-7));
    CHECK(static_cast<double>(lossfn::MAE<>{}.forward(pred, target)) == Approx(e).epsilon(1e-7));
    CHECK(static_cast<double>(lossfn::RMSE<>{}.forward(pred, target)) == Approx(e).epsilon(1e-7));
    CHECK(lossfn::RMSE<>{}.backward(pred, target)(0) == Approx(1.0f).epsilon(1e-6));
    CHECK(static_cast<double>(lossfn::Huber<>{}.forward(pred, target)) == Approx(e - 0.5).epsilon(1e-7));
  }
  SECTION("double: an error of 1e200 squares past DBL_MAX") {
    const auto pred = col<double>({1e200}), target = col<double>({0.0});
    CHECK(lossfn::MSE<>{}.forward(pred, target) == kInf);  // documented: +inf
    CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == 2e200);
    // documented limit: RMSE squares in double too, so L = +inf and the factor
    // scale / L = 0 gives a zero gradient (true L = 1e200, dL/de = 1).
    CHECK(lossfn::RMSE<>{}.forward(pred, target) == kInf);
    CHECK(lossfn::RMSE<>{}.backward(pred, target)(0) == 0.0);
    CHECK(lossfn::Huber<>{}.forward(pred, target) == Approx(1e200));  // 1 x (1e200 - 1/2)
  }
  SECTION("infinite errors") {
    const auto pred = col<double>({kInf}), target = col<double>({0.0});
    CHECK(lossfn::MSE<>{}.forward(pred, target) == kInf);
    CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == kInf);
    CHECK(lossfn::MAE<>{}.forward(pred, target) == kInf);
    CHECK(lossfn::MAE<>{}.backward(pred, target)(0) == 1.0);
    CHECK(lossfn::Huber<>{}.forward(pred, target) == kInf);     // delta (inf - delta/2)
    CHECK(lossfn::Huber<>{}.backward(pred, target)(0) == 1.0);  // clamp(inf, -1, 1)
    CHECK(lossfn::RMSE<>{}.forward(pred, target) == kInf);
    CHECK(std::isnan(lossfn::RMSE<>{}.backward(pred, target)(0)));  // inf x (1 / inf) = inf x 0
  }
}

TEST_CASE("edge: Huber exactly at +-delta") {
  // e = +-delta: 1/2 delta^2 and delta (delta - delta/2) agree, the slope is +-delta
  for (const double delta : {0.5, 1.0, 3.0}) {
    CAPTURE(delta);
    const auto pred = col<double>({delta, -delta, 0.0}), target = col<double>({0.0, 0.0, 0.0});
    const lossfn::Huber<lossfn::None> none(delta);
    const Col<double> terms = none.forward(pred, target);
    CHECK(terms(0) == 0.5 * delta * delta);
    CHECK(terms(1) == 0.5 * delta * delta);
    CHECK(terms(2) == 0.0);
    const Col<double> grad = none.backward(pred, target, Col<double>::Ones(3));
    CHECK(grad(0) == delta);
    CHECK(grad(1) == -delta);
    CHECK(grad(2) == 0.0);
  }
  // the float path: delta 0.25 is exact in float, 1/2 x 0.25^2 = 0.03125
  const auto pred = col<float>({0.25f, -0.25f}), target = col<float>({0.0f, 0.0f});
  CHECK(lossfn::Huber<lossfn::Sum>{0.25}.forward(pred, target) == 0.0625f);
  CHECK(lossfn::Huber<lossfn::Sum>{0.25}.backward(pred, target)(1) == -0.25f);
}

TEST_CASE("edge: exact predictions") {
  const auto pred = col<double>({1.5, -2.0}), target = col<double>({1.5, -2.0});
  CHECK(lossfn::MAE<>{}.backward(pred, target)(0) == 0.0);  // subgradient 0 at e = 0
  CHECK(lossfn::RMSE<>{}.forward(pred, target) == 0.0);
  CHECK(lossfn::RMSE<>{}.backward(pred, target)(1) == 0.0);  // subgradient 0 at L = 0, not NaN
  CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == 0.0);
}

// ---- distributions -------------------------------------------------------------

namespace {

template <class T>
using Rows = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
Rows<T> rows2(std::initializer_list<T> first, std::initializer_list<T> second) {
  Rows<T> x(2, static_cast<Eigen::Index>(first.size()));
  Eigen::Index j = 0;
  for (T v : first) x(0, j++) = v;
  j = 0;
  for (T v : second) x(1, j++) = v;
  return x;
}

lossfn::CrossEntropyOptions ce_input(lossfn::Input form) {
  lossfn::CrossEntropyOptions o;
  o.input = form;
  return o;
}

}  // namespace

TEMPLATE_TEST_CASE("edge: CrossEntropy with logits at +-1e4", "", float, double) {
  using T = TestType;
  // row 0: z = (1e4, -1e4, 0), target 0; row 1: the same logits, target 1.
  // log-softmax with the max subtracted: (0, -2e4, -1e4) - log(1 + e^-2e4 + e^-1e4) = (0, -2e4, -1e4)
  // exactly (the exponentials underflow to 0), so loss_0 = 0 and loss_1 = 2e4, both exact in float.
  const Rows<T> z = rows2<T>({T(1e4), T(-1e4), T(0)}, {T(1e4), T(-1e4), T(0)});
  Eigen::ArrayXi target(2);
  target << 0, 1;
  const lossfn::CrossEntropy<lossfn::None> none;
  const Col<T> losses = none.forward(z, target);
  CHECK(losses(0) == T(0));
  CHECK(losses(1) == T(2e4));
  // gradient (Sum): softmax(z) - onehot = (1, 0, 0) - e_t
  Rows<T> grad(2, 3);
  const T total = lossfn::CrossEntropy<lossfn::Sum>{}.forward_backward(z, target, grad);
  CHECK(total == T(2e4));
  const Rows<T> expected = rows2<T>({T(0), T(0), T(0)}, {T(1), T(-1), T(0)});
  // Not bit-exact in double: Eigen 3.4's vectorised exp clamps its argument at about
  // -709.78, so e^-2e4 and e^-1e4 come out as ~5.6e-309 (a denormal) instead of 0.
  // Documented in the README; the absolute error is below 1e-300. (Float sums and
  // exponentiates in double here, and its results round to exactly 0.)
  CHECK((grad - expected).abs().maxCoeff() <= T(1e-300));
}

TEMPLATE_TEST_CASE("edge: CrossEntropy and KL with logits at +-88.7", "", float, double) {
  using T = TestType;
  // exp(88.7) ~ 3.3e38 is just below FLT_MAX; a naive softmax overflows just above.
  // z = (88.7, -88.7): log-softmax = (0, -177.4) - log(1 + e^-177.4); e^-177.4 ~ 8.6e-78
  // is 0 in float and negligible in double, so loss for target 1 = 2 x 88.7.
  const Rows<T> z = rows2<T>({T(88.7), T(-88.7)}, {T(-88.7), T(88.7)});
  Eigen::ArrayXi target(2);
  target << 1, 1;
  const lossfn::CrossEntropy<lossfn::None> none;
  const Col<T> losses = none.forward(z, target);
  CHECK(static_cast<double>(losses(0)) == Approx(2 * static_cast<double>(T(88.7))).epsilon(1e-6));
  CHECK(static_cast<double>(losses(1)) == Approx(0.0).margin(1e-6));
  const Rows<T> grad = lossfn::CrossEntropy<lossfn::Sum>{}.backward(z, target);
  CHECK(grad.allFinite());
  CHECK(static_cast<double>(grad(0, 0)) == Approx(1.0));
  CHECK(static_cast<double>(grad(0, 1)) == Approx(-1.0));
  // KL(P || softmax(z)) with P = (0, 1): the same value (the P log P term is 0)
  const Rows<T> p = rows2<T>({T(0), T(1)}, {T(0), T(1)});
  const Col<T> kl = lossfn::KLDivergence<lossfn::None>{}.forward(z, p);
  CHECK(static_cast<double>(kl(0)) == Approx(static_cast<double>(losses(0))).epsilon(1e-6));
  CHECK(lossfn::KLDivergence<lossfn::Sum>{}.backward(z, p).allFinite());
}

TEMPLATE_TEST_CASE("edge: a probability of 1e-38 on the target class", "", float, double) {
  using T = TestType;
  // one-hot rows; pred puts 1e-38 on the target class (a float denormal: FLT_MIN ~ 1.18e-38).
  // loss = -log(q) ~ 87.498; gradient w.r.t. probabilities -1/q ~ -1e38 (fits float).
  const T q = T(1e-38);
  const double qd = static_cast<double>(q);
  const Rows<T> pred = rows2<T>({q, T(1) - q}, {T(0.5), T(0.5)});
  Eigen::ArrayXi target(2);
  target << 0, 1;
  const lossfn::CrossEntropy<lossfn::Sum> ce(ce_input(lossfn::Input::Probabilities));
  Rows<T> grad(2, 2);
  const T total = ce.forward_backward(pred, target, grad);
  CHECK(static_cast<double>(total) == Approx(-std::log(qd) + std::log(2.0)).epsilon(1e-6));
  CHECK(static_cast<double>(grad(0, 0)) == Approx(-1.0 / qd).epsilon(1e-6));
  CHECK(grad(0, 1) == T(0));  // c = 0 there: exactly 0
  CHECK(static_cast<double>(grad(1, 1)) == Approx(-2.0));
  // the same with a dense one-hot target, and as KL(onehot || q)
  const Rows<T> onehot = rows2<T>({T(1), T(0)}, {T(0), T(1)});
  CHECK(static_cast<double>(ce.forward(pred, onehot)) == Approx(static_cast<double>(total)).epsilon(1e-6));
  lossfn::KLDivergenceOptions ko;
  ko.input = lossfn::Input::Probabilities;
  const lossfn::KLDivergence<lossfn::Sum> kl(ko);
  CHECK(static_cast<double>(kl.forward(pred, onehot)) == Approx(static_cast<double>(total)).epsilon(1e-6));
  const Rows<T> kl_grad = kl.backward(pred, onehot);
  CHECK(static_cast<double>(kl_grad(0, 0)) == Approx(-1.0 / qd).epsilon(1e-6));
  CHECK(kl_grad(0, 1) == T(0));  // P = 0: exactly 0
  // as log-probabilities: loss -log q, gradient -1
  const lossfn::CrossEntropy<lossfn::Sum> ce_log(ce_input(lossfn::Input::LogProbabilities));
  // std::log per element: Eigen 3.4's vectorised float log is not accurate for denormals
  const Rows<T> log_pred = pred.unaryExpr([](T v) { return std::log(v); });
  CHECK(static_cast<double>(ce_log.forward(log_pred, target)) == Approx(-std::log(qd) + std::log(2.0)).epsilon(1e-6));
  CHECK(ce_log.backward(log_pred, target)(0, 0) == T(-1));
}

TEST_CASE("edge: a probability of exactly 0 on the target class (documented: +inf, -inf)") {
  const Rows<double> pred = rows2<double>({0.0, 1.0}, {0.5, 0.5});
  Eigen::ArrayXi target(2);
  target << 0, 0;
  const lossfn::CrossEntropy<lossfn::Sum> ce(ce_input(lossfn::Input::Probabilities));
  CHECK(ce.forward(pred, target) == kInf);  // -log 0
  const Rows<double> grad = ce.backward(pred, target);
  CHECK(grad(0, 0) == -kInf);  // -1 / 0
  CHECK(grad(0, 1) == 0.0);
  CHECK(grad(1, 0) == -2.0);
}

// ---- metric learning ---------------------------------------------------------------

TEST_CASE("edge: contrastive pairs at distance exactly 0 and exactly M") {
  using lossfn::Distance;
  // x1 row 0 = x2 row 0 (D = 0); x1 row 1 = (0, 0), x2 row 1 = (3, 4): Euclidean D = 5 exactly
  const Rows<double> x1 = rows2<double>({1.0, 2.0}, {0.0, 0.0}), x2 = rows2<double>({1.0, 2.0}, {3.0, 4.0});
  Eigen::ArrayXd dissimilar(2), similar(2);
  dissimilar << 1, 1;
  similar << 0, 0;
  SECTION("Euclidean, M = 5") {
    const lossfn::Contrastive<lossfn::None> loss(5.0);
    // dissimilar: D = 0 gives M^2/2 = 12.5 and the subgradient 0; D = M gives 0 and gradient 0
    const Col<double> l = loss.forward(x1, x2, dissimilar);
    CHECK(l(0) == 12.5);
    CHECK(l(1) == 0.0);
    const auto g = loss.backward(x1, x2, dissimilar, Col<double>::Ones(2));
    CHECK((g.dx1.array() == 0.0).all());
    CHECK((g.dx2.array() == 0.0).all());
    // similar: D = 0 gives 0 and gradient 0; D = 5 gives 12.5 and dl/dx1 = x1 - x2 = (-3, -4)
    const Col<double> ls = loss.forward(x1, x2, similar);
    CHECK(ls(0) == 0.0);
    CHECK(ls(1) == 12.5);
    const auto gs = loss.backward(x1, x2, similar, Col<double>::Ones(2));
    CHECK(gs.dx1(1, 0) == -3.0);
    CHECK(gs.dx1(1, 1) == -4.0);
    CHECK(gs.dx2(1, 1) == 4.0);
    CHECK(gs.dx1(0, 0) == 0.0);
  }
  SECTION("SquaredEuclidean, M = 25 (D = 25 exactly)") {
    const lossfn::Contrastive<lossfn::Sum> loss(25.0, Distance::SquaredEuclidean);
    CHECK(loss.forward(x1, x2, dissimilar) == 25.0 * 25.0 / 2);  // row 0 at D = 0; row 1 at D = M: 0
    const auto g = loss.backward(x1, x2, dissimilar);
    CHECK((g.dx1.array() == 0.0).all());  // row 0: a - b = 0; row 1: hinge 0
  }
  SECTION("Cosine: identical directions (D = 0) and orthogonal ones (D = 1 = M)") {
    const Rows<double> a = rows2<double>({1.0, 0.0}, {1.0, 0.0}), b = rows2<double>({2.0, 0.0}, {0.0, 3.0});
    const lossfn::Contrastive<lossfn::None> loss(1.0, Distance::Cosine);
    const Col<double> l = loss.forward(a, b, dissimilar);
    CHECK(l(0) == 0.5);  // D = 0: 1/2 M^2
    CHECK(l(1) == 0.0);  // D = M
    const auto g = loss.backward(a, b, dissimilar, Col<double>::Ones(2));
    // row 0: dD/da = -(b/(|a||b|) - cos a/|a|^2) = -((1, 0) - (1, 0)) = 0; row 1: hinge 0
    CHECK((g.dx1.array() == 0.0).all());
    CHECK((g.dx2.array() == 0.0).all());
  }
  SECTION("float: the same distances") {
    const Rows<float> f1 = x1.cast<float>(), f2 = x2.cast<float>();
    const lossfn::Contrastive<lossfn::None> loss(5.0);
    const Col<float> l = loss.forward(f1, f2, dissimilar.cast<float>());
    CHECK(l(0) == 12.5f);
    CHECK(l(1) == 0.0f);
  }
}
