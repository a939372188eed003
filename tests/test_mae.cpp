#include <lossfn/mae.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "elementwise_battery.hpp"

using lossfn_test::ArrayCM;

namespace {
const auto make_mae = [](auto reduction) { return lossfn::MAE<decltype(reduction)>{}; };
// |e| has its kink at e = 0: keep finite differences away from it
const auto near_zero = [](double e) { return std::abs(e) < 0.05; };
}  // namespace

TEST_CASE("MAE: hand-computed values and gradients") {
  // errors e = pred - target = {1, -2, 0.5, 3}
  ArrayCM pred(2, 2), target(2, 2);
  pred << 1.0, 0.5, -1.0, 4.0;
  target << 0.0, 0.0, 1.0, 1.0;
  CHECK(lossfn::MAE<lossfn::Sum>{}.forward(pred, target) == Approx(1.0 + 2.0 + 0.5 + 3.0));
  CHECK(lossfn::MAE<>{}(pred, target) == Approx(6.5 / 4));
  ArrayCM expected(2, 2);
  expected << 0.25, 0.25, -0.25, 0.25;  // sign(e) / n, the notes' (1/m) sign(yhat - y)
  CHECK(lossfn_test::max_error(lossfn::MAE<>{}.backward(pred, target), expected) < 1e-15);
}

TEST_CASE("MAE: conformance battery") {
  lossfn_test::run_elementwise_battery<lossfn_test::Terms::Additive>("MAE", make_mae, near_zero);
}

TEST_CASE("MAE: the subgradient at e = 0 is 0, NaN stays NaN, infinity keeps its sign") {
  Eigen::ArrayXd pred(4), target(4);
  pred << 1.0, std::nan(""), std::numeric_limits<double>::infinity(), -2.0;
  target << 1.0, 0.0, 0.0, 0.0;
  const Eigen::ArrayXd grad = lossfn::MAE<lossfn::Sum>{}.backward(pred, target);
  CHECK(grad(0) == 0.0);
  CHECK(std::isnan(grad(1)));
  CHECK(grad(2) == 1.0);
  CHECK(grad(3) == -1.0);
  // the same through the blocked, vectorised path
  const Eigen::ArrayXf big = Eigen::ArrayXf::Constant(10000, std::nanf(""));
  Eigen::ArrayXf g(10000);
  CHECK(std::isnan(lossfn::MAE<>{}.forward_backward(big, Eigen::ArrayXf::Zero(10000), g)));
  CHECK(g.isNaN().all());
}
