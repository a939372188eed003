#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>

#include <cmath>

#include "catch.hpp"
#include "conformance.hpp"
#include "edge_values.hpp"
#include "elementwise_entries.hpp"

using lossfn_test::ArrayCM;

using lossfn_test::RmseEntry;  // support/elementwise_entries.hpp

LOSSFN_CONFORMANCE_TEST_CASES(RmseEntry)

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

TEST_CASE("RMSE: conformance battery") { lossfn_test::check_gradients<RmseEntry>(); }

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

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

TEST_CASE("edge: RMSE, denormal errors") {
  using namespace lossfn_test::edge;
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

TEST_CASE("edge: RMSE, errors of 1e19 squared in float") {
  using namespace lossfn_test::edge;
  const Col<float> four = Col<float>::Constant(4, 1e19f), four_zero = Col<float>::Zero(4);
  const double e = static_cast<double>(1e19f);
  // RMSE's root is taken in double: sqrt(4e38 / 4) = 1e19 fits, gradient e / (n L) = 1/4
  CHECK(static_cast<double>(lossfn::RMSE<>{}.forward(four, four_zero)) == Approx(e).epsilon(1e-7));
  CHECK(lossfn::RMSE<lossfn::Sum>{}.forward(four, four_zero) == Approx(2e19f).epsilon(1e-6));  // sqrt(4 e^2)
  CHECK(lossfn::RMSE<>{}.backward(four, four_zero)(0) == Approx(0.25f).epsilon(1e-6));
}

TEST_CASE("edge: RMSE, values of +-1e30, 1e200 and infinity") {
  using namespace lossfn_test::edge;
  SECTION("float: an error of 2e30 squares to 4e60 in double; the root fits") {
    const auto pred = col<float>({1e30f}), target = col<float>({-1e30f});
    const double e = 2.0 * static_cast<double>(1e30f);
    CHECK(static_cast<double>(lossfn::RMSE<>{}.forward(pred, target)) == Approx(e).epsilon(1e-7));
    CHECK(lossfn::RMSE<>{}.backward(pred, target)(0) == Approx(1.0f).epsilon(1e-6));
  }
  SECTION("double: an error of 1e200 squares past DBL_MAX") {
    const auto pred = col<double>({1e200}), target = col<double>({0.0});
    // documented limit: RMSE squares in double too, so L = +inf and the factor
    // scale / L = 0 gives a zero gradient (true L = 1e200, dL/de = 1).
    CHECK(lossfn::RMSE<>{}.forward(pred, target) == kInf);
    CHECK(lossfn::RMSE<>{}.backward(pred, target)(0) == 0.0);
  }
  SECTION("infinite errors") {
    const auto pred = col<double>({kInf}), target = col<double>({0.0});
    CHECK(lossfn::RMSE<>{}.forward(pred, target) == kInf);
    CHECK(std::isnan(lossfn::RMSE<>{}.backward(pred, target)(0)));  // inf x (1 / inf) = inf x 0
  }
}

TEST_CASE("edge: RMSE, exact predictions") {
  using namespace lossfn_test::edge;
  const auto pred = col<double>({1.5, -2.0}), target = col<double>({1.5, -2.0});
  CHECK(lossfn::RMSE<>{}.forward(pred, target) == 0.0);
  CHECK(lossfn::RMSE<>{}.backward(pred, target)(1) == 0.0);  // subgradient 0 at L = 0, not NaN
}

TEST_CASE("RMSE: Hessian diagonal (scale / L)(1 - scale e_i^2 / L^2) by hand, and 0 at L = 0") {
  // e = {3, 4}: Sum's L = 5, scale 1: h = (1/5)(1 - e^2/25) = {16/125, 9/125}
  ArrayCM pred(2, 1), target = ArrayCM::Zero(2, 1);
  pred << 3.0, 4.0;
  const ArrayCM h = lossfn::RMSE<lossfn::Sum>{}.hessian_diagonal(pred, target);
  CHECK(h(0, 0) == Approx(16.0 / 125).epsilon(1e-15));
  CHECK(h(1, 0) == Approx(9.0 / 125).epsilon(1e-15));
  // every prediction exact: gradient and Hessian 0, not NaN (PyTorch's sqrt(mse) gives NaN)
  ArrayCM grad, hess;
  CHECK(lossfn::RMSE<>{}.forward_backward_hessian(pred, pred, grad, hess) == 0.0);
  CHECK((grad == 0.0).all());
  CHECK((hess == 0.0).all());
  // float errors whose squares underflow a float: computed in double, finite
  Eigen::ArrayXf pf(2), tf = Eigen::ArrayXf::Zero(2);
  pf << 3e-30f, 4e-30f;
  const Eigen::ArrayXf hf = lossfn::RMSE<lossfn::Sum>{}.hessian_diagonal(pf, tf);
  CHECK(static_cast<double>(hf(0)) == Approx(16.0 / 125 / 1e-30).epsilon(1e-6));
}
