#include <lossfn/mse.hpp>

#include <utility>
#include <vector>

#include "catch.hpp"
#include "elementwise_battery.hpp"

using lossfn_test::ArrayCM;

namespace {
const auto make_mse = [](auto reduction) { return lossfn::MSE<decltype(reduction)>{}; };
const auto smooth_everywhere = [](double) { return false; };
}  // namespace

TEST_CASE("MSE: hand-computed values and gradients") {
  // errors e = pred - target = {1, -2, 0.5, 3}
  ArrayCM pred(2, 2), target(2, 2);
  pred << 1.0, 0.5, -1.0, 4.0;
  target << 0.0, 0.0, 1.0, 1.0;
  CHECK(lossfn::MSE<lossfn::Sum>{}.forward(pred, target) == Approx(1.0 + 4.0 + 0.25 + 9.0));
  CHECK(lossfn::MSE<>{}.forward(pred, target) == Approx(14.25 / 4));
  CHECK(lossfn::MSE<>{}(pred, target) == Approx(14.25 / 4));
  ArrayCM expected(2, 2);
  expected << 2.0 / 4, 1.0 / 4, -4.0 / 4, 6.0 / 4;  // 2e / n, the notes' 2/m (yhat - y)
  CHECK(lossfn_test::max_error(lossfn::MSE<>{}.backward(pred, target), expected) < 1e-15);
  const ArrayCM terms = lossfn::MSE<lossfn::None>{}.forward(pred, target);
  ArrayCM squares(2, 2);
  squares << 1.0, 0.25, 4.0, 9.0;
  CHECK((terms == squares).all());
}

TEST_CASE("MSE: conformance battery") {
  lossfn_test::run_elementwise_battery<lossfn_test::Terms::Additive>("MSE", make_mse, smooth_everywhere);
}

TEST_CASE("MSE: NaN and infinity propagate") {
  ArrayCM pred(1, 3), target = ArrayCM::Zero(1, 3);
  pred << std::nan(""), std::numeric_limits<double>::infinity(), 1.0;
  const ArrayCM grad = lossfn::MSE<lossfn::Sum>{}.backward(pred, target);
  CHECK(std::isnan(grad(0, 0)));
  CHECK(std::isinf(grad(0, 1)));
  CHECK(grad(0, 2) == 2.0);
  CHECK(std::isnan(lossfn::MSE<>{}.forward(pred, target)));
}

TEST_CASE("MSE: float errors whose squares overflow float are summed without overflow") {
  // (1e19)^2 = 1e38 fits a float, but two of them do not: the sum is kept in double.
  const Eigen::ArrayXf pred = Eigen::ArrayXf::Constant(4, 1e19f), target = Eigen::ArrayXf::Zero(4);
  const float mean = lossfn::MSE<>{}.forward(pred, target);
  CHECK(std::isfinite(mean));
  CHECK(static_cast<double>(mean) == Approx(static_cast<double>(1e19f) * static_cast<double>(1e19f)).epsilon(1e-6));
  CHECK(std::isinf(lossfn::MSE<lossfn::Sum>{}.forward(pred, target)));  // 4e38 does not fit a float
}

namespace {
// g++ 12 at -O2 once reported a false -Wuse-after-free inside Eigen for this shape
// of caller (None results of column vectors copied into std::vectors); the suite
// builds with -Werror, so compiling this is the test.
std::vector<double> to_vector(const Eigen::ArrayXd& a) { return std::vector<double>(a.data(), a.data() + a.size()); }
template <class Loss>
std::pair<std::vector<double>, std::vector<double>> curve(const Loss& loss, const std::vector<double>& errors) {
  const Eigen::ArrayXd pred = Eigen::Map<const Eigen::ArrayXd>(errors.data(), static_cast<Eigen::Index>(errors.size()));
  const Eigen::ArrayXd target = Eigen::ArrayXd::Zero(pred.size());
  const Eigen::ArrayXd ones = Eigen::ArrayXd::Ones(pred.size());
  return {to_vector(loss.forward(pred, target)), to_vector(loss.backward(pred, target, ones))};
}
}  // namespace

TEST_CASE("MSE: None results of column vectors copy out cleanly") {
  const auto [values, slopes] = curve(lossfn::MSE<lossfn::None>{}, {1.0, -2.0, 3.0});
  CHECK(values == std::vector<double>{1.0, 4.0, 9.0});
  CHECK(slopes == std::vector<double>{2.0, -4.0, 6.0});
}
