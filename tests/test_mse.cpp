#include <lossfn/mse.hpp>

#include <utility>
#include <vector>

#include "catch.hpp"
#include "conformance.hpp"
#include "edge_values.hpp"
#include "elementwise_entries.hpp"

using lossfn_test::ArrayCM;

using lossfn_test::MseEntry;  // support/elementwise_entries.hpp

LOSSFN_CONFORMANCE_TEST_CASES(MseEntry)

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

TEST_CASE("MSE: conformance battery") { lossfn_test::check_gradients<MseEntry>(); }

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

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

TEST_CASE("edge: MSE, denormal errors") {
  using namespace lossfn_test::edge;
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
  }
}

TEST_CASE("edge: MSE, errors of 1e19 squared in float") {
  using namespace lossfn_test::edge;
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
}

TEST_CASE("edge: MSE, values of +-1e30, 1e200 and infinity") {
  using namespace lossfn_test::edge;
  SECTION("float: an error of 2e30 squares to 4e60; MSE returns +inf") {
    const auto pred = col<float>({1e30f}), target = col<float>({-1e30f});
    const double e = 2.0 * static_cast<double>(1e30f);
    CHECK(lossfn::MSE<>{}.forward(pred, target) == kInfF);  // documented: the true 4e60 does not fit
    CHECK(static_cast<double>(lossfn::MSE<>{}.backward(pred, target)(0)) == Approx(2 * e).epsilon(1e-7));
  }
  SECTION("double: an error of 1e200 squares past DBL_MAX") {
    const auto pred = col<double>({1e200}), target = col<double>({0.0});
    CHECK(lossfn::MSE<>{}.forward(pred, target) == kInf);  // documented: +inf
    CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == 2e200);
  }
  SECTION("infinite errors") {
    const auto pred = col<double>({kInf}), target = col<double>({0.0});
    CHECK(lossfn::MSE<>{}.forward(pred, target) == kInf);
    CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == kInf);
  }
}

TEST_CASE("edge: MSE, exact predictions") {
  using namespace lossfn_test::edge;
  const auto pred = col<double>({1.5, -2.0}), target = col<double>({1.5, -2.0});
  CHECK(lossfn::MSE<>{}.backward(pred, target)(0) == 0.0);
}

TEST_CASE("MSE: Hessian diagonal is 2 x scale, NaN where the error is NaN") {
  ArrayCM pred(1, 4), target = ArrayCM::Zero(1, 4);
  pred << 1.0, -3.0, std::numeric_limits<double>::infinity(), std::nan("");
  const ArrayCM h = lossfn::MSE<>{}.hessian_diagonal(pred, target);
  CHECK(h(0, 0) == 0.5);  // 2 / n, n = 4
  CHECK(h(0, 1) == 0.5);
  CHECK(h(0, 2) == 0.5);  // the second derivative of e^2 is 2 for every e
  CHECK(std::isnan(h(0, 3)));
  const ArrayCM upstream = ArrayCM::Constant(1, 4, 3.0);
  const ArrayCM h_none = lossfn::MSE<lossfn::None>{}.hessian_diagonal(pred, target, upstream);
  CHECK(h_none(0, 0) == 6.0);
  CHECK(std::isnan(h_none(0, 3)));
}
