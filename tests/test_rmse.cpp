#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>

#include <cmath>

#include "catch.hpp"
#include "elementwise_battery.hpp"

using lossfn_test::ArrayCM;

namespace {
const auto make_rmse = [](auto reduction) { return lossfn::RMSE<decltype(reduction)>{}; };
const auto smooth_everywhere = [](double) { return false; };
}  // namespace

TEST_CASE("RMSE: hand-computed values and gradients") {
  // errors e = {3, -4}: Sum of squares 25, Mean 12.5
  Eigen::ArrayXd pred(2), target(2);
  pred << 3.0, -1.0;
  target << 0.0, 3.0;
  CHECK(lossfn::RMSE<lossfn::Sum>{}.forward(pred, target) == Approx(5.0));
  CHECK(lossfn::RMSE<>{}(pred, target) == Approx(std::sqrt(12.5)));
  // Mean: dL/dyhat_i = e_i / (n L), the notes' 1/(m L) (yhat - y)
  const Eigen::ArrayXd grad = lossfn::RMSE<>{}.backward(pred, target);
  CHECK(grad(0) == Approx(3.0 / (2 * std::sqrt(12.5))));
  CHECK(grad(1) == Approx(-4.0 / (2 * std::sqrt(12.5))));
  const Eigen::ArrayXd grad_sum = lossfn::RMSE<lossfn::Sum>{}.backward(pred, target);
  CHECK(grad_sum(0) == Approx(3.0 / 5.0));
  CHECK(grad_sum(1) == Approx(-4.0 / 5.0));
}

TEST_CASE("RMSE: conformance battery") {
  // no None: its root is taken after the reduction (a compile-time error, tested in compile_fail)
  lossfn_test::run_elementwise_battery<lossfn_test::Terms::RootOfSum>("RMSE", make_rmse, smooth_everywhere);
}

TEST_CASE("RMSE: RMSE^2 = MSE for both reductions") {
  const auto pred = lossfn_test::random_array<ArrayCM>(7, 3, 1), target = lossfn_test::random_array<ArrayCM>(7, 3, 2);
  const double rmse = lossfn::RMSE<>{}.forward(pred, target);
  CHECK(rmse * rmse == Approx(lossfn::MSE<>{}.forward(pred, target)).epsilon(1e-14));
  const double rmse_sum = lossfn::RMSE<lossfn::Sum>{}.forward(pred, target);
  CHECK(rmse_sum * rmse_sum == Approx(lossfn::MSE<lossfn::Sum>{}.forward(pred, target)).epsilon(1e-14));
  // chain rule: d(RMSE^2) = 2 RMSE dRMSE = dMSE
  const ArrayCM chained = 2 * rmse * lossfn::RMSE<>{}.backward(pred, target);
  CHECK(lossfn_test::max_error(chained, lossfn::MSE<>{}.backward(pred, target)) < 1e-14);
}

TEST_CASE("RMSE: a perfect prediction has loss 0 and gradient 0, not NaN") {
  const auto pred = lossfn_test::random_array<ArrayCM>(4, 3, 5);
  CHECK(lossfn::RMSE<>{}.forward(pred, pred) == 0.0);
  const ArrayCM grad = lossfn::RMSE<>{}.backward(pred, pred);
  CHECK((grad == 0.0).all());
  ArrayCM fused = ArrayCM::Constant(4, 3, 9.0);
  CHECK(lossfn::RMSE<lossfn::Sum>{}.forward_backward(pred, pred, fused) == 0.0);
  CHECK((fused == 0.0).all());
}

TEST_CASE("RMSE: NaN in the input gives a NaN loss and NaN gradient") {
  Eigen::ArrayXd pred(3), target = Eigen::ArrayXd::Zero(3);
  pred << 1.0, std::nan(""), 2.0;
  CHECK(std::isnan(lossfn::RMSE<>{}.forward(pred, target)));
  CHECK(lossfn::RMSE<>{}.backward(pred, target).isNaN().all());
}
