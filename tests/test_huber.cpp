#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "conformance.hpp"
#include "edge_values.hpp"
#include "elementwise_entries.hpp"

using lossfn_test::ArrayCM;

using lossfn_test::HuberEntry;  // support/elementwise_entries.hpp

LOSSFN_CONFORMANCE_TEST_CASES(HuberEntry)

TEST_CASE("Huber: hand-computed values and gradients") {
  // delta = 1, errors e = {0.5, -2, 1, -3}
  Eigen::ArrayXd pred(4), target = Eigen::ArrayXd::Zero(4);
  pred << 0.5, -2.0, 1.0, -3.0;
  // 1/2 0.25 = 0.125; 1 (2 - 0.5) = 1.5; at |e| = delta both pieces give 0.5; 1 (3 - 0.5) = 2.5
  const Eigen::ArrayXd terms = lossfn::Huber<lossfn::None>{}.forward(pred, target);
  CHECK(terms(0) == Approx(0.125));
  CHECK(terms(1) == Approx(1.5));
  CHECK(terms(2) == Approx(0.5));
  CHECK(terms(3) == Approx(2.5));
  CHECK(lossfn::Huber<>{}(pred, target) == Approx((0.125 + 1.5 + 0.5 + 2.5) / 4));
  // gradient clamp(e, -delta, delta), the notes' e inside and delta sign(e) outside
  const Eigen::ArrayXd grad = lossfn::Huber<lossfn::Sum>{}.backward(pred, target);
  CHECK(grad(0) == 0.5);
  CHECK(grad(1) == -1.0);
  CHECK(grad(2) == 1.0);
  CHECK(grad(3) == -1.0);
}

TEST_CASE("Huber: conformance battery") { lossfn_test::check_gradients<HuberEntry>(); }

TEST_CASE("Huber: value and slope are continuous at |e| = delta") {
  const double delta = 0.25;
  const lossfn::Huber<lossfn::None> huber(delta);
  Eigen::ArrayXd at(2), below(2), above(2), zero = Eigen::ArrayXd::Zero(2);
  at << delta, -delta;
  below = at * (1 - 1e-12);
  above = at * (1 + 1e-12);
  const Eigen::ArrayXd ones = Eigen::ArrayXd::Ones(2);
  for (const Eigen::ArrayXd* e : {&below, &at, &above}) {
    CHECK(huber.forward(*e, zero)(0) == Approx(delta * delta / 2).epsilon(1e-10));
    CHECK(std::abs(huber.backward(*e, zero, ones)(0) - delta) < 1e-10);
    CHECK(std::abs(huber.backward(*e, zero, ones)(1) + delta) < 1e-10);
  }
}

TEST_CASE("Huber: a large delta gives MSE/2, a tiny delta gives delta (MAE - delta/2)") {
  const auto pred = lossfn_test::random_array<ArrayCM>(8, 5, 3, -3, 3);
  const auto target = lossfn_test::random_array<ArrayCM>(8, 5, 4, -3, 3);
  const lossfn::Huber<> wide(1e6);
  CHECK(wide.forward(pred, target) == Approx(lossfn::MSE<>{}.forward(pred, target) / 2).epsilon(1e-14));
  CHECK(lossfn_test::max_error(wide.backward(pred, target), lossfn::MSE<>{}.backward(pred, target) / 2) < 1e-15);
  const double tiny = 1e-9;  // smaller than every |e| here
  REQUIRE(((pred - target).abs() > 10 * tiny).all());
  const lossfn::Huber<> narrow(tiny);
  CHECK(narrow.forward(pred, target) ==
        Approx(tiny * (lossfn::MAE<>{}.forward(pred, target) - tiny / 2)).epsilon(1e-12));
  CHECK(lossfn_test::max_error(narrow.backward(pred, target) / tiny, lossfn::MAE<>{}.backward(pred, target)) < 1e-12);
}

TEST_CASE("Huber: delta must be finite and positive") {
  for (const double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(lossfn::Huber<>(bad), std::invalid_argument);
    CHECK_THROWS_WITH(lossfn::Huber<>(bad), lossfn_test::ContainsSubstring("lossfn::Huber::constructor: delta"));
    CHECK_THROWS_AS(lossfn::Huber<>(lossfn::HuberOptions{bad}), std::invalid_argument);
  }
  CHECK(lossfn::Huber<>{}.delta() == 1.0);
  CHECK(lossfn::Huber<lossfn::Sum>{lossfn::HuberOptions{2.5}}.options().delta == 2.5);
}

TEST_CASE("Huber: NaN propagates through the clamp") {
  Eigen::ArrayXd pred(2), target = Eigen::ArrayXd::Zero(2);
  pred << std::nan(""), 5.0;
  const Eigen::ArrayXd grad = lossfn::Huber<lossfn::Sum>{}.backward(pred, target);
  CHECK(std::isnan(grad(0)));
  CHECK(grad(1) == 1.0);
  CHECK(std::isnan(lossfn::Huber<>{}.forward(pred, target)));
}

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

TEST_CASE("edge: Huber, denormal errors") {
  using namespace lossfn_test::edge;
  const auto pred = col<float>({kDenormF}), target = col<float>({0.0f});
  // Huber (delta 1): 1/2 e^2 = 5e-81 rounds to 0 in float; slope e
  CHECK(lossfn::Huber<lossfn::Sum>{}.forward(pred, target) == 0.0f);
  CHECK(lossfn::Huber<lossfn::Sum>{}.backward(pred, target)(0) == kDenormF);
}

TEST_CASE("edge: Huber, errors of 1e19 in float") {
  using namespace lossfn_test::edge;
  const Col<float> four = Col<float>::Constant(4, 1e19f), four_zero = Col<float>::Zero(4);
  const double e = static_cast<double>(1e19f);
  // Huber (delta 1): 1 x (1e19 - 1/2) in double, fits
  CHECK(static_cast<double>(lossfn::Huber<lossfn::Sum>{}.forward(four, four_zero)) == Approx(4 * e).epsilon(1e-7));
  CHECK(lossfn::Huber<lossfn::Sum>{}.backward(four, four_zero)(0) == 1.0f);
}

TEST_CASE("edge: Huber, values of +-1e30, 1e200 and infinity") {
  using namespace lossfn_test::edge;
  SECTION("float: an error of 2e30 is finite") {
    const auto pred = col<float>({1e30f}), target = col<float>({-1e30f});
    const double e = 2.0 * static_cast<double>(1e30f);
    CHECK(static_cast<double>(lossfn::Huber<>{}.forward(pred, target)) == Approx(e - 0.5).epsilon(1e-7));
  }
  SECTION("double: an error of 1e200") {
    const auto pred = col<double>({1e200}), target = col<double>({0.0});
    CHECK(lossfn::Huber<>{}.forward(pred, target) == Approx(1e200));  // 1 x (1e200 - 1/2)
  }
  SECTION("infinite errors") {
    const auto pred = col<double>({kInf}), target = col<double>({0.0});
    CHECK(lossfn::Huber<>{}.forward(pred, target) == kInf);     // delta (inf - delta/2)
    CHECK(lossfn::Huber<>{}.backward(pred, target)(0) == 1.0);  // clamp(inf, -1, 1)
  }
}

TEST_CASE("edge: Huber exactly at +-delta") {
  using namespace lossfn_test::edge;
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

TEST_CASE("Huber: Hessian diagonal is scale on the quadratic piece (|e| <= delta, the kink included), else 0") {
  ArrayCM pred(1, 6), target = ArrayCM::Zero(1, 6);
  pred << 0.25, -0.5, 0.5, 0.5000001, -7.0, std::nan("");
  const ArrayCM h = lossfn::Huber<lossfn::Sum>{0.5}.hessian_diagonal(pred, target);
  CHECK(h(0, 0) == 1.0);
  CHECK(h(0, 1) == 1.0);  // |e| = delta: the quadratic piece, as FAMILIES.md documents
  CHECK(h(0, 2) == 1.0);
  CHECK(h(0, 3) == 0.0);
  CHECK(h(0, 4) == 0.0);
  CHECK(std::isnan(h(0, 5)));
  // float: |e| = delta exactly, and just above it
  Eigen::ArrayXf pf(3), tf = Eigen::ArrayXf::Zero(3);
  pf << 0.5f, std::nextafter(0.5f, 1.0f), -std::numeric_limits<float>::denorm_min();
  const Eigen::ArrayXf hf = lossfn::Huber<lossfn::Mean>{0.5}.hessian_diagonal(pf, tf);
  CHECK(hf(0) == 1.0f / 3);
  CHECK(hf(1) == 0.0f);
  CHECK(hf(2) == 1.0f / 3);
}
