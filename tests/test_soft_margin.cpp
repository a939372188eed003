// SoftMargin: the conformance batteries, its identity with BinaryCrossEntropy, its
// extremes and its labels.
#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/soft_margin.hpp>

#include <cmath>

#include "binary_entries.hpp"
#include "catch.hpp"
#include "conformance.hpp"

using lossfn_test::ArrayCM;
using lossfn_test::max_error;
using lossfn_test::binary::SoftMarginEntry;

LOSSFN_CONFORMANCE_TEST_CASES(SoftMarginEntry)

TEST_CASE("SoftMargin: conformance battery") { lossfn_test::check_gradients<SoftMarginEntry>(); }

TEST_CASE("SoftMargin(x, y) equals BinaryCrossEntropy from logits of (y x, 1)") {
  const ArrayCM x = lossfn_test::random_array<ArrayCM>(12, 3, 3, -6, 6);
  const ArrayCM y = lossfn_test::binary::labels<ArrayCM>(12, 3, 4, false);
  const ArrayCM ones = ArrayCM::Ones(12, 3);
  const ArrayCM yx = y * x;
  CHECK(max_error(lossfn::SoftMargin<lossfn::None>{}.forward(x, y),
                  lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(yx, ones)) < 1e-15);
  CHECK(lossfn::SoftMargin<>{}.forward(x, y) ==
        Approx(lossfn::BinaryCrossEntropy<>{}.forward(yx, ones)).epsilon(1e-15));
  // the chain rule through y x: dL/dx = y dBCE/d(yx); d2L/dx2 = d2BCE/d(yx)2
  const ArrayCM g_bce = lossfn::BinaryCrossEntropy<lossfn::Sum>{}.backward(yx, ones);
  CHECK(max_error(lossfn::SoftMargin<lossfn::Sum>{}.backward(x, y), y * g_bce) < 1e-15);
  CHECK(max_error(lossfn::SoftMargin<lossfn::Sum>{}.hessian_diagonal(x, y),
                  lossfn::BinaryCrossEntropy<lossfn::Sum>{}.hessian_diagonal(yx, ones)) < 1e-15);
  // as torch.nn.SoftMarginLoss: log(1 + exp(-y x)), mean over every element
  CHECK(lossfn::SoftMargin<>{}.forward(x, y) == Approx((1 + (-y * x).exp()).log().mean()).epsilon(1e-13));
}

TEST_CASE("SoftMargin: finite and exact at x = +-1e4 in float and double") {
  auto check_scalar = [](auto zero) {
    using T = decltype(zero);
    using A = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>;
    A x4(1, 4), y4(1, 4);
    x4 << T(1e4), T(-1e4), T(1e4), T(-1e4);
    y4 << 1, -1, -1, 1;
    // 5 copies: 20 entries, through the vectorised lanes and the scalar tail
    const A x = x4.replicate(1, 5), y = y4.replicate(1, 5);
    A g(1, 20), h(1, 20);
    const A terms = lossfn::SoftMargin<lossfn::None>{}.forward(x, y);
    A want_terms(1, 4), want_grad(1, 4);
    want_terms << 0, 0, T(1e4), T(1e4);
    want_grad << 0, 0, 1, -1;
    CHECK((terms == want_terms.replicate(1, 5)).all());
    lossfn::SoftMargin<lossfn::Sum>{}.forward_backward_hessian(x, y, g, h);
    CHECK((g == want_grad.replicate(1, 5)).all());
    CHECK((h == 0).all());
  };
  check_scalar(0.0f);
  check_scalar(0.0);
}

TEST_CASE("SoftMargin: labels other than -1 and 1 are out of range") {
  const ArrayCM x = ArrayCM::Zero(2, 2);
  ArrayCM y = ArrayCM::Ones(2, 2);
  for (const double bad : {0.0, 2.0, 0.5, std::nan("")}) {
    y(1, 0) = bad;
    CHECK_THROWS_AS(lossfn::SoftMargin<>{}.forward(x, y), std::out_of_range);
    lossfn_test::expect_untouched<std::out_of_range>(
        [&](auto&& g) { return lossfn::SoftMargin<lossfn::Sum>{}.forward_backward(x, y, g); }, 2, 2);
  }
  y(1, 0) = 0;
  CHECK_THROWS_WITH(lossfn::SoftMargin<>{}.forward(x, y),
                    "lossfn::SoftMargin::forward: label at row 1, column 0 is 0: labels must be -1 or 1");
}
