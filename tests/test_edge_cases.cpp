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
constexpr float kDenormF = 1e-40f;                                       // a float denormal (< 2^-126 ~ 1.2e-38)

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
    CHECK(lossfn::Huber<>{}.forward(pred, target) == kInf);      // delta (inf - delta/2)
    CHECK(lossfn::Huber<>{}.backward(pred, target)(0) == 1.0);   // clamp(inf, -1, 1)
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
  CHECK(lossfn::MAE<>{}.backward(pred, target)(0) == 0.0);   // subgradient 0 at e = 0
  CHECK(lossfn::RMSE<>{}.forward(pred, target) == 0.0);
  CHECK(lossfn::RMSE<>{}.backward(pred, target)(1) == 0.0);  // subgradient 0 at L = 0, not NaN
  CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == 0.0);
}
