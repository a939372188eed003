// BinaryCrossEntropy (conformance batteries: test_binary_cross_entropy_conformance.cpp): finite differences at every
// option, PyTorch's stable form and clamps, the identities with CrossEntropy and
// XGBoost's binary:logistic derivatives, and its errors.
#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/cross_entropy.hpp>

#include <cmath>
#include <limits>

#include "binary_entries.hpp"
#include "catch.hpp"
#include "conformance.hpp"

using lossfn_test::ArrayCM;
using lossfn_test::max_error;
using lossfn_test::binary::BinaryCrossEntropyEntry;
using BceOptions = lossfn::BinaryCrossEntropyOptions;

TEST_CASE("BinaryCrossEntropy: conformance battery") { lossfn_test::check_gradients<BinaryCrossEntropyEntry>(); }

TEST_CASE("BinaryCrossEntropy: finite differences at every option (logits, probabilities, pos_weight, smoothing)") {
  lossfn_test::check_gradients_every_variant<BinaryCrossEntropyEntry>();
}

namespace {

/// PyTorch's binary_cross_entropy_with_logits, term by term, in long double:
/// (1 - y) z + l (log(exp(-m) + exp(-z - m)) + m), m = max(-z, 0), l = 1 + (c - 1) y.
long double torch_stable(long double z, long double y, long double c = 1) {
  const long double m = std::max(-z, 0.0L), l = 1 + (c - 1) * y;
  return (1 - y) * z + l * (std::log(std::exp(-m) + std::exp(-z - m)) + m);
}

}  // namespace

TEST_CASE(
    "BinaryCrossEntropy: from logits equals PyTorch's stable form (long double), pos_weight and smoothing "
    "included") {
  const Eigen::Index m = 40, d = 3;
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(m, d, 7, -30, 30);
  const ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(m, d, 8);
  BceOptions options;
  options.pos_weight = Eigen::ArrayXd(3);
  options.pos_weight << 0.5, 1.0, 4.0;
  options.label_smoothing = 0.1;
  const ArrayCM terms = lossfn::BinaryCrossEntropy<lossfn::None>(options).forward(z, y);
  for (Eigen::Index j = 0; j < d; ++j) {
    for (Eigen::Index i = 0; i < m; ++i) {
      const long double ys = static_cast<long double>(y(i, j)) * 0.9L + 0.05L;
      const long double want = torch_stable(z(i, j), ys, options.pos_weight(j));
      // both forms round (1 - y) z and the log term the same way: a few ulps of |z| + 1
      CHECK(std::abs(static_cast<long double>(terms(i, j)) - want) <= 4 * 0x1p-52L * (std::abs(z(i, j)) + 1));
    }
  }
}

TEST_CASE("BinaryCrossEntropy: logits of +-1e4 are exact and finite in float and double") {
  // z = 1e4 with y = 1 and z = -1e4 with y = 0: loss 0, gradient 0; the wrong way
  // round: loss 1e4, gradient +-1 (sigmoid(z) - y); Hessian 0 (sigmoid(z) sigmoid(-z) underflows)
  auto check_scalar = [](auto zero) {
    using T = decltype(zero);
    using A = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>;
    A z4(1, 4), y4(1, 4);
    z4 << T(1e4), T(-1e4), T(1e4), T(-1e4);
    y4 << 1, 0, 0, 1;
    // 5 copies: 20 entries, through the vectorised lanes and the scalar tail
    const A z = z4.replicate(1, 5), y = y4.replicate(1, 5);
    A g(1, 20), h(1, 20);
    const A terms = lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, y);
    A want_terms(1, 4), want_grad(1, 4);
    want_terms << 0, 0, T(1e4), T(1e4);
    want_grad << 0, 0, 1, -1;
    CHECK((terms == want_terms.replicate(1, 5)).all());
    const T total = lossfn::BinaryCrossEntropy<lossfn::Sum>{}.forward_backward_hessian(z, y, g, h);
    CHECK(total == T(1e5));
    CHECK((g == want_grad.replicate(1, 5)).all());
    CHECK((h == 0).all());
  };
  check_scalar(0.0f);
  check_scalar(0.0);
}

TEST_CASE("BinaryCrossEntropy with Sum gives XGBoost's binary:logistic gradient and Hessian") {
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(200, 1, 3, -8, 8);
  const ArrayCM y = lossfn_test::binary::labels<ArrayCM>(200, 1, 4, true);
  ArrayCM g(200, 1), h(200, 1);
  lossfn::BinaryCrossEntropy<lossfn::Sum>{}.forward_backward_hessian(z, y, g, h);
  const ArrayCM p = 1 / (1 + (-z).exp());
  CHECK(max_error(g, p - y) < 1e-15);
  CHECK(max_error(h, p * (1 - p)) < 1e-15);
}

TEST_CASE("BinaryCrossEntropy from logits equals CrossEntropy over the two logits [0, z]") {
  const Eigen::Index m = 30;
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(m, 1, 11, -5, 5);
  const ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(m, 1, 12);
  ArrayCM two(m, 2), soft(m, 2);
  two << ArrayCM::Zero(m, 1), z;
  soft << 1 - y, y;
  const double bce = lossfn::BinaryCrossEntropy<>{}.forward(z, y);
  CHECK(bce == Approx(lossfn::CrossEntropy<>{}.forward(two, soft)).epsilon(1e-14));
  const ArrayCM g = lossfn::BinaryCrossEntropy<>{}.backward(z, y);
  const ArrayCM g2 = lossfn::CrossEntropy<>{}.backward(two, soft);
  CHECK(max_error(g, g2.col(1)) < 1e-15);
}

TEST_CASE("BinaryCrossEntropy: label smoothing equals the smoothed targets, pos_weight scales the positive term") {
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(9, 2, 21, -3, 3);
  const ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(9, 2, 22);
  BceOptions smooth;
  smooth.label_smoothing = 0.3;
  const ArrayCM ys = y * 0.7 + 0.15;
  CHECK(max_error(lossfn::BinaryCrossEntropy<lossfn::None>(smooth).forward(z, y),
                  lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, ys)) < 1e-15);
  CHECK(max_error(lossfn::BinaryCrossEntropy<lossfn::Sum>(smooth).backward(z, y),
                  lossfn::BinaryCrossEntropy<lossfn::Sum>{}.backward(z, ys)) < 1e-15);
  // pos_weight 1 is no pos_weight; pos_weight c on y = 1 multiplies the term
  BceOptions ones;
  ones.pos_weight = Eigen::ArrayXd::Ones(2);
  CHECK(max_error(lossfn::BinaryCrossEntropy<lossfn::None>(ones).forward(z, y),
                  lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, y)) < 1e-15);
  BceOptions three;
  three.pos_weight = Eigen::ArrayXd::Constant(2, 3.0);
  const ArrayCM positive = ArrayCM::Ones(9, 2);
  CHECK(max_error(lossfn::BinaryCrossEntropy<lossfn::None>(three).forward(z, positive),
                  3 * lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, positive)) < 1e-14);
}

TEST_CASE("BinaryCrossEntropy from probabilities: PyTorch's -100 clamp and 1e-12 gradient floor") {
  BceOptions options;
  options.input = lossfn::Input::Probabilities;
  const lossfn::BinaryCrossEntropy<lossfn::None> bce(options);
  Eigen::ArrayXXd p(1, 4), y(1, 4), ones = Eigen::ArrayXXd::Ones(1, 4);
  p << 0, 1, 0, 0.25;
  y << 0, 1, 1, 1;
  const Eigen::ArrayXXd terms = bce.forward(p, y);
  CHECK(terms(0) == 0);
  CHECK(terms(1) == 0);
  CHECK(terms(2) == 100);  // -max(log 0, -100)
  CHECK(terms(3) == Approx(-std::log(0.25)).epsilon(1e-15));
  const Eigen::ArrayXXd g = bce.backward(p, y, ones);
  CHECK(g(0) == 0);
  CHECK(g(2) == -1e12);  // (p - y) / max(p (1 - p), 1e-12): not the clamped value's slope (0)
  CHECK(g(3) == Approx((0.25 - 1) / (0.25 * 0.75)).epsilon(1e-15));
  // matches the logits form where both are exact
  const Eigen::ArrayXXd z = lossfn_test::random_array<Eigen::ArrayXXd>(5, 3, 31, -4, 4);
  const Eigen::ArrayXXd q = 1 / (1 + (-z).exp());
  const Eigen::ArrayXXd yy = lossfn_test::binary::unit_targets<Eigen::ArrayXXd>(5, 3, 32);
  CHECK(max_error(bce.forward(q, yy), lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, yy)) < 1e-13);
}

TEST_CASE("BinaryCrossEntropy: bad targets, probabilities and options") {
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(3, 2, 41, -1, 1);
  ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(3, 2, 42);
  ArrayCM bad = y;
  bad(2, 1) = 1.5;
  const lossfn::BinaryCrossEntropy<> bce;
  CHECK_THROWS_AS(bce.forward(z, bad), std::out_of_range);
  CHECK_THROWS_WITH(bce.forward(z, bad),
                    "lossfn::BinaryCrossEntropy::forward: target at row 2, column 1 is 1.5: "
                    "must be in [0, 1]");
  bad(2, 1) = std::nan("");
  CHECK_THROWS_AS(bce.forward(z, bad), std::out_of_range);
  bad(2, 1) = -0.25;
  lossfn_test::expect_untouched<std::out_of_range>([&](auto&& g) { return bce.forward_backward(z, bad, g); }, 3, 2);
  BceOptions probabilities;
  probabilities.input = lossfn::Input::Probabilities;
  const lossfn::BinaryCrossEntropy<lossfn::Sum> from_p(probabilities);
  ArrayCM p = (z + 1) / 2;
  p(1, 0) = 1.25;
  CHECK_THROWS_WITH(from_p.forward(p, y), lossfn_test::ContainsSubstring("pred at row 1, column 0 is 1.25"));
  lossfn_test::expect_untouched<std::out_of_range>([&](auto&& g) { return from_p.forward_backward(p, y, g); }, 3, 2);
  // pos_weight of the wrong length: a shape error at the call
  BceOptions three;
  three.pos_weight = Eigen::ArrayXd::Ones(3);
  const lossfn::BinaryCrossEntropy<> wrong(three);
  CHECK_THROWS_AS(wrong.forward(z, y), lossfn::shape_error);
  CHECK_THROWS_WITH(wrong.forward(z, y), lossfn_test::ContainsSubstring("pos_weight has 3 entries but pred has 2"));
  lossfn_test::expect_untouched<lossfn::shape_error>([&](auto&& g) { return wrong.forward_backward(z, y, g); }, 3, 2);
  // options: at construction
  BceOptions o;
  o.pos_weight = Eigen::ArrayXd::Constant(2, -1.0);
  CHECK_THROWS_AS(lossfn::BinaryCrossEntropy<>(o), std::invalid_argument);
  o.pos_weight = Eigen::ArrayXd::Constant(2, std::numeric_limits<double>::infinity());
  CHECK_THROWS_AS(lossfn::BinaryCrossEntropy<>(o), std::invalid_argument);
  for (const double eps : {-0.1, 1.0, std::nan("")}) {
    BceOptions s;
    s.label_smoothing = eps;
    CHECK_THROWS_WITH(lossfn::BinaryCrossEntropy<>(s),
                      lossfn_test::ContainsSubstring("lossfn::BinaryCrossEntropy::constructor: label_smoothing"));
  }
  BceOptions logp;
  logp.input = lossfn::Input::LogProbabilities;
  CHECK_THROWS_AS(lossfn::BinaryCrossEntropy<>(logp), std::invalid_argument);
}

TEST_CASE("BinaryCrossEntropy: a NaN logit gives NaN, not an error") {
  ArrayCM z = ArrayCM::Zero(2, 2), y = ArrayCM::Ones(2, 2);
  z(1, 1) = std::nan("");
  const ArrayCM terms = lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, y);
  CHECK(std::isnan(terms(1, 1)));
  CHECK(terms(0, 0) == Approx(std::log(2.0)).epsilon(1e-15));
  const ArrayCM g = lossfn::BinaryCrossEntropy<lossfn::Sum>{}.backward(z, y);
  CHECK(std::isnan(g(1, 1)));
  CHECK(std::isnan(lossfn::BinaryCrossEntropy<lossfn::Sum>{}.hessian_diagonal(z, y)(1, 1)));
}
