#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "elementwise_battery.hpp"

using lossfn_test::ArrayCM;

namespace {
constexpr double kDelta = 0.7;
const auto make_huber = [](auto reduction) { return lossfn::Huber<decltype(reduction)>{kDelta}; };
// the second derivative jumps at |e| = delta: keep finite differences away from it
const auto near_delta = [](double e) { return std::abs(std::abs(e) - kDelta) < 0.05; };
}  // namespace

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

TEST_CASE("Huber: conformance battery") {
  lossfn_test::run_elementwise_battery<lossfn_test::Terms::Additive>("Huber", make_huber, near_delta);
}

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
