#include <lossfn/mae.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "conformance.hpp"
#include "edge_values.hpp"
#include "elementwise_entries.hpp"

using lossfn_test::ArrayCM;

using lossfn_test::MaeEntry;  // support/elementwise_entries.hpp

LOSSFN_CONFORMANCE_TEST_CASES(MaeEntry)

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

TEST_CASE("MAE: conformance battery") { lossfn_test::check_gradients<MaeEntry>(); }

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

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

TEST_CASE("edge: MAE, denormal errors") {
  using namespace lossfn_test::edge;
  const auto pred = col<float>({kDenormF}), target = col<float>({0.0f});
  // MAE: |e| and sign(e) are exact
  CHECK(lossfn::MAE<lossfn::Sum>{}.forward(pred, target) == kDenormF);
  CHECK(lossfn::MAE<lossfn::Sum>{}.backward(pred, target)(0) == 1.0f);
}

TEST_CASE("edge: MAE, values of +-1e30 and infinity") {
  using namespace lossfn_test::edge;
  SECTION("float: an error of 2e30 (whose square would overflow) is finite") {
    const auto pred = col<float>({1e30f}), target = col<float>({-1e30f});
    const double e = 2.0 * static_cast<double>(1e30f);
    CHECK(static_cast<double>(lossfn::MAE<>{}.forward(pred, target)) == Approx(e).epsilon(1e-7));
  }
  SECTION("infinite errors") {
    const auto pred = col<double>({kInf}), target = col<double>({0.0});
    CHECK(lossfn::MAE<>{}.forward(pred, target) == kInf);
    CHECK(lossfn::MAE<>{}.backward(pred, target)(0) == 1.0);
  }
}

TEST_CASE("edge: MAE, exact predictions") {
  using namespace lossfn_test::edge;
  const auto pred = col<double>({1.5, -2.0}), target = col<double>({1.5, -2.0});
  CHECK(lossfn::MAE<>{}.backward(pred, target)(0) == 0.0);  // subgradient 0 at e = 0
}

TEST_CASE("MAE: Hessian diagonal is 0, at the kink e = 0 too, NaN where the error is NaN") {
  ArrayCM pred(1, 4), target = ArrayCM::Zero(1, 4);
  pred << 1.0, 0.0, -std::numeric_limits<double>::infinity(), std::nan("");
  ArrayCM grad, hess;
  lossfn::MAE<lossfn::Sum>{}.forward_backward_hessian(pred, target, grad, hess);
  CHECK(hess(0, 0) == 0.0);
  CHECK(hess(0, 1) == 0.0);
  CHECK(grad(0, 1) == 0.0);  // the subgradient the Hessian goes with
  CHECK(hess(0, 2) == 0.0);
  CHECK(std::isnan(hess(0, 3)));
}
