#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/smooth_l1.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "conformance.hpp"
#include "edge_values.hpp"
#include "elementwise_battery.hpp"
#include "elementwise_entries.hpp"

using lossfn_test::ArrayCM;

using lossfn_test::SmoothL1Entry;  // support/elementwise_entries.hpp

LOSSFN_CONFORMANCE_TEST_CASES(SmoothL1Entry)

TEST_CASE("SmoothL1: hand-computed values and gradients") {
  // beta = 1, errors e = {0.5, -2, 1, -3, 0}
  Eigen::ArrayXd pred(5), target = Eigen::ArrayXd::Zero(5);
  pred << 0.5, -2.0, 1.0, -3.0, 0.0;
  // 1/2 0.25 / 1 = 0.125; 2 - 0.5 = 1.5; at |e| = beta both pieces give 0.5; 3 - 0.5 = 2.5; 0
  const Eigen::ArrayXd terms = lossfn::SmoothL1<lossfn::None>{}.forward(pred, target);
  CHECK(terms(0) == Approx(0.125));
  CHECK(terms(1) == Approx(1.5));
  CHECK(terms(2) == Approx(0.5));
  CHECK(terms(3) == Approx(2.5));
  CHECK(terms(4) == 0.0);
  CHECK(lossfn::SmoothL1<>{}(pred, target) == Approx((0.125 + 1.5 + 0.5 + 2.5) / 5));
  // gradient e / beta inside, sign(e) outside (PyTorch's |e| < beta test: +-1 at |e| = beta)
  const Eigen::ArrayXd grad = lossfn::SmoothL1<lossfn::Sum>{}.backward(pred, target);
  CHECK(grad(0) == 0.5);
  CHECK(grad(1) == -1.0);
  CHECK(grad(2) == 1.0);
  CHECK(grad(3) == -1.0);
  CHECK(grad(4) == 0.0);
  // beta = 2: 1/2 0.25 / 2, 1/2 4 / 2 at the edge, 3 - 1
  const lossfn::SmoothL1<lossfn::None> two(2.0);
  const Eigen::ArrayXd terms2 = two.forward(pred, target);
  CHECK(terms2(0) == Approx(0.0625));
  CHECK(terms2(1) == Approx(1.0));
  CHECK(terms2(3) == Approx(2.0));
  const Eigen::ArrayXd grad2 = two.backward(pred, target, Eigen::ArrayXd::Ones(5));
  CHECK(grad2(0) == 0.25);
  CHECK(grad2(1) == -1.0);
  CHECK(grad2(2) == 0.5);
}

TEST_CASE("SmoothL1: conformance battery") { lossfn_test::check_gradients<SmoothL1Entry>(); }

TEST_CASE("SmoothL1: finite differences for several betas, away from the kinks") {
  for (const double beta : {0.05, 0.5, 3.0}) {
    CAPTURE(beta);
    const auto near = [beta](double e) { return std::abs(std::abs(e) - beta) < 0.02 || std::abs(e) < 0.02; };
    const auto make = [beta](auto reduction) { return lossfn::SmoothL1<decltype(reduction)>{beta}; };
    const auto pairs = [&near](auto tag, Eigen::Index rows, Eigen::Index cols, unsigned seed) {
      return lossfn_test::smooth_pair<typename decltype(tag)::type>(rows, cols, seed, near);
    };
    lossfn_test::check_gradients<lossfn_test::Terms::Additive, lossfn_test::ArrayCM>("SmoothL1", make, pairs, 6, 5, 21);
    lossfn_test::check_gradients<lossfn_test::Terms::Additive, lossfn_test::ArrayRM>("SmoothL1", make, pairs, 4, 9, 22);
  }
}

TEST_CASE("SmoothL1: Huber(delta) = delta x SmoothL1(beta = delta), in value and gradient") {
  const auto pred = lossfn_test::random_array<ArrayCM>(9, 4, 31, -3, 3);
  const auto target = lossfn_test::random_array<ArrayCM>(9, 4, 32, -3, 3);
  for (const double delta : {0.1, 0.7, 1.0, 2.5, 100.0}) {
    CAPTURE(delta);
    const lossfn::Huber<> huber(delta);
    const lossfn::SmoothL1<> smooth(delta);
    CHECK(huber.forward(pred, target) == Approx(delta * smooth.forward(pred, target)).epsilon(1e-14));
    CHECK(lossfn_test::max_error(huber.backward(pred, target), delta * smooth.backward(pred, target)) < 1e-15);
    const lossfn::Huber<lossfn::None> huber_none(delta);
    const lossfn::SmoothL1<lossfn::None> smooth_none(delta);
    CHECK(lossfn_test::max_error(huber_none.forward(pred, target), delta * smooth_none.forward(pred, target)) < 1e-13);
  }
}

TEST_CASE("SmoothL1: beta = 0 is the L1 loss, MAE") {
  const auto pred = lossfn_test::random_array<ArrayCM>(7, 6, 41, -3, 3);
  ArrayCM target = lossfn_test::random_array<ArrayCM>(7, 6, 42, -3, 3);
  target(2, 3) = pred(2, 3);  // an exact prediction: gradient 0, as MAE
  const lossfn::SmoothL1<> l1(0.0);
  CHECK(l1.forward(pred, target) == lossfn::MAE<>{}.forward(pred, target));
  CHECK(lossfn_test::max_error(l1.backward(pred, target), lossfn::MAE<>{}.backward(pred, target)) == 0.0);
  CHECK(l1.backward(pred, target)(2, 3) == 0.0);
  const ArrayCM terms = lossfn::SmoothL1<lossfn::None>(0.0).forward(pred, target);
  CHECK(lossfn_test::max_error(terms, lossfn::MAE<lossfn::None>{}.forward(pred, target)) == 0.0);
  // tiny errors, down to the smallest denormal, still get sign(e)
  Eigen::ArrayXd tiny(3), zero = Eigen::ArrayXd::Zero(3);
  tiny << std::numeric_limits<double>::denorm_min(), -1e-300, 0.0;
  const Eigen::ArrayXd g = lossfn::SmoothL1<lossfn::Sum>(0.0).backward(tiny, zero);
  CHECK(g(0) == 1.0);
  CHECK(g(1) == -1.0);
  CHECK(g(2) == 0.0);
  // and an infinite error has an infinite loss, not NaN
  Eigen::ArrayXd inf(1);
  inf << std::numeric_limits<double>::infinity();
  CHECK(std::isinf(lossfn::SmoothL1<lossfn::Sum>(0.0).forward(inf, Eigen::ArrayXd::Zero(1))));
  CHECK(std::isinf(lossfn::SmoothL1<lossfn::Sum>(1.0).forward(inf, Eigen::ArrayXd::Zero(1))));
}

TEST_CASE("SmoothL1: beta must be finite and >= 0") {
  for (const double bad : {-1.0, -1e-300, std::nan(""), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(lossfn::SmoothL1<>(bad), std::invalid_argument);
    CHECK_THROWS_WITH(lossfn::SmoothL1<>(bad), lossfn_test::ContainsSubstring("lossfn::SmoothL1::constructor: beta"));
    CHECK_THROWS_WITH(lossfn::SmoothL1<>(bad), lossfn_test::ContainsSubstring(lossfn::detail::number_string(bad)));
    CHECK_THROWS_AS(lossfn::SmoothL1<>(lossfn::SmoothL1Options{bad}), std::invalid_argument);
  }
  CHECK(lossfn::SmoothL1<>{}.beta() == 1.0);
  CHECK(lossfn::SmoothL1<>(0.0).beta() == 0.0);
  CHECK(lossfn::SmoothL1<lossfn::Sum>{lossfn::SmoothL1Options{2.5}}.options().beta == 2.5);
}

TEST_CASE("SmoothL1: float agrees with double, also at beta = 0 and for a beta that underflows in float") {
  const auto pred = lossfn_test::random_array<ArrayCM>(50, 3, 51, -3, 3);
  const auto target = lossfn_test::random_array<ArrayCM>(50, 3, 52, -3, 3);
  const Eigen::ArrayXXf pred_f = pred.cast<float>(), target_f = target.cast<float>();
  const ArrayCM pred_d = pred_f.cast<double>(), target_d = target_f.cast<double>();
  for (const double beta : {0.0, 1e-60, 0.3, 1.0}) {
    CAPTURE(beta);
    const lossfn::SmoothL1<> loss(beta);
    Eigen::ArrayXXf grad_f(50, 3);
    const float value_f = loss.forward_backward(pred_f, target_f, grad_f);
    CHECK(static_cast<double>(value_f) ==
          Approx(loss.forward(pred_d, target_d)).epsilon(lossfn_test::Tolerance<float>::rel));
    CHECK(lossfn_test::max_error(grad_f, loss.backward(pred_d, target_d)) < lossfn_test::Tolerance<float>::rel);
  }
}

TEST_CASE("SmoothL1: NaN propagates") {
  Eigen::ArrayXd pred(2), target = Eigen::ArrayXd::Zero(2);
  pred << std::nan(""), 5.0;
  for (const double beta : {0.0, 1.0}) {
    const Eigen::ArrayXd grad = lossfn::SmoothL1<lossfn::Sum>(beta).backward(pred, target);
    CHECK(std::isnan(grad(0)));
    CHECK(grad(1) == 1.0);
    CHECK(std::isnan(lossfn::SmoothL1<>(beta).forward(pred, target)));
  }
}

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

TEST_CASE("edge: SmoothL1, denormal, huge and infinite errors") {
  using namespace lossfn_test::edge;
  SECTION("float: a denormal error is inside beta: 1/2 e^2 / beta rounds to 0, the slope e / beta") {
    const auto pred = col<float>({kDenormF}), target = col<float>({0.0f});
    CHECK(lossfn::SmoothL1<lossfn::Sum>{}.forward(pred, target) == 0.0f);
    CHECK(lossfn::SmoothL1<lossfn::Sum>{}.backward(pred, target)(0) == kDenormF);
  }
  SECTION("float: errors of 1e19 are linear: |e| - 1/2, summed in double") {
    const Col<float> four = Col<float>::Constant(4, 1e19f), four_zero = Col<float>::Zero(4);
    const double e = static_cast<double>(1e19f);
    CHECK(static_cast<double>(lossfn::SmoothL1<lossfn::Sum>{}.forward(four, four_zero)) == Approx(4 * e).epsilon(1e-7));
    CHECK(lossfn::SmoothL1<lossfn::Sum>{}.backward(four, four_zero)(0) == 1.0f);
  }
  SECTION("double: an error of 1e200, and infinity") {
    CHECK(lossfn::SmoothL1<>{}.forward(col<double>({1e200}), col<double>({0.0})) == Approx(1e200));
    const auto pred = col<double>({kInf, -kInf}), target = col<double>({0.0, 0.0});
    CHECK(lossfn::SmoothL1<>{}.forward(pred, target) == kInf);
    const Col<double> g = lossfn::SmoothL1<lossfn::Sum>{}.backward(pred, target);
    CHECK(g(0) == 1.0);
    CHECK(g(1) == -1.0);
  }
  SECTION("beta = 0: |e| and sign(e), 0 at e = 0, in float and double") {
    const auto pred = col<double>({0.0, 2.5, -1e-300}), target = col<double>({0.0, 0.0, 0.0});
    const lossfn::SmoothL1<lossfn::None> l1(0.0);
    const Col<double> terms = l1.forward(pred, target);
    CHECK(terms(0) == 0.0);
    CHECK(terms(1) == 2.5);
    CHECK(terms(2) == 1e-300);
    const Col<double> g = l1.backward(pred, target, Col<double>::Ones(3));
    CHECK(g(0) == 0.0);
    CHECK(g(1) == 1.0);
    CHECK(g(2) == -1.0);
    const auto pf = col<float>({0.0f, -kDenormF}), tf = col<float>({0.0f, 0.0f});
    const Col<float> gf = lossfn::SmoothL1<lossfn::None>(0.0).backward(pf, tf, Col<float>::Ones(2));
    CHECK(gf(0) == 0.0f);
    CHECK(gf(1) == -1.0f);
  }
}

TEST_CASE("SmoothL1: Hessian diagonal is scale / beta for |e| < beta, 0 at the kink (linear piece) and beyond") {
  ArrayCM pred(1, 5), target = ArrayCM::Zero(1, 5);
  pred << 0.25, -0.5, 0.5, -3.0, std::nan("");
  const ArrayCM h = lossfn::SmoothL1<lossfn::Sum>{0.5}.hessian_diagonal(pred, target);
  CHECK(h(0, 0) == 2.0);
  CHECK(h(0, 1) == 0.0);  // |e| = beta: the linear piece, as PyTorch's |e| < beta test
  CHECK(h(0, 2) == 0.0);
  CHECK(h(0, 3) == 0.0);
  CHECK(std::isnan(h(0, 4)));
  // beta = 0 is the L1 loss: 0 everywhere, e = 0 included
  ArrayCM l1_pred(1, 3);
  l1_pred << 0.0, 1.0, -1.0;
  CHECK((lossfn::SmoothL1<lossfn::Sum>{0.0}.hessian_diagonal(l1_pred, ArrayCM::Zero(1, 3)) == 0.0).all());
  // a float beta whose inverse overflows a float: the largest float inside, 0 outside
  Eigen::ArrayXf pf(2), tf = Eigen::ArrayXf::Zero(2);
  pf << 0.0f, 1.0f;
  const Eigen::ArrayXf hf = lossfn::SmoothL1<lossfn::Sum>{1e-39}.hessian_diagonal(pf, tf);
  CHECK(hf(0) == std::numeric_limits<float>::max());
  CHECK(hf(1) == 0.0f);
}
