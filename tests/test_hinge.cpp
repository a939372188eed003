// Hinge: the conformance batteries, hand values, the subgradient at the hinge, the
// 0/1 label convention (every call equal to the mapped -1/1 call) and its labels.
#include <lossfn/hinge.hpp>
#include <lossfn/weights.hpp>

#include <cmath>

#include "binary_entries.hpp"
#include "catch.hpp"
#include "conformance.hpp"

using lossfn_test::ArrayCM;
using lossfn_test::max_error;
using lossfn_test::binary::HingeEntry;

LOSSFN_CONFORMANCE_TEST_CASES(HingeEntry)

TEST_CASE("Hinge: conformance battery") { lossfn_test::check_gradients<HingeEntry>(); }

TEST_CASE("Hinge: hand values, and the subgradient 0 at y f = 1") {
  Eigen::ArrayXXd f(1, 5), y(1, 5);
  f << 0.5, -2, 1, -1, 3;
  y << 1, 1, 1, -1, -1;
  // max(0, 1 - y f): 0.5, 3, 0 (at the hinge), 0 (at the hinge), 4
  const Eigen::ArrayXXd terms = lossfn::Hinge<lossfn::None>{}.forward(f, y);
  CHECK(terms(0) == 0.5);
  CHECK(terms(1) == 3);
  CHECK(terms(2) == 0);
  CHECK(terms(3) == 0);
  CHECK(terms(4) == 4);
  const Eigen::ArrayXXd g = lossfn::Hinge<lossfn::Sum>{}.backward(f, y);
  CHECK(g(0) == -1);
  CHECK(g(1) == -1);
  CHECK(g(2) == 0);
  CHECK(g(3) == 0);
  CHECK(g(4) == 1);
  CHECK((lossfn::Hinge<lossfn::Sum>{}.hessian_diagonal(f, y) == 0).all());
  CHECK(lossfn::Hinge<>{}.forward(f, y) == Approx(7.5 / 5));
}

TEST_CASE("Hinge: 0/1 labels give every call of the mapped -1/1 labels") {
  const auto [f, y01] = lossfn_test::binary::away_from_hinge<ArrayCM>(7, 3, 5, true);
  const ArrayCM y = 2 * y01 - 1;
  const lossfn::HingeOptions zero_one{true};
  const ArrayCM w = lossfn_test::random_array<ArrayCM>(7, 1, 6, 0.5, 2);
  ArrayCM g(7, 3), h(7, 3), g1(7, 3), h1(7, 3);
  CHECK(lossfn::Hinge<>(zero_one).forward_backward_hessian(f, y01, g, h) ==
        lossfn::Hinge<>{}.forward_backward_hessian(f, y, g1, h1));
  CHECK((g == g1).all());
  CHECK((h == h1).all());
  CHECK(lossfn::Hinge<lossfn::WeightedMean>(zero_one).forward(f, y01, lossfn::weights(w)) ==
        lossfn::Hinge<lossfn::WeightedMean>{}.forward(f, y, lossfn::weights(w)));
  CHECK((lossfn::Hinge<lossfn::None>(zero_one).forward(f, y01) == lossfn::Hinge<lossfn::None>{}.forward(f, y)).all());
}

TEST_CASE("Hinge: labels outside the convention are out of range") {
  const ArrayCM f = ArrayCM::Zero(2, 2);
  ArrayCM y = ArrayCM::Ones(2, 2);
  y(0, 1) = 0;
  CHECK_THROWS_WITH(lossfn::Hinge<>{}.forward(f, y),
                    "lossfn::Hinge::forward: label at row 0, column 1 is 0: labels must be -1 or 1");
  lossfn_test::expect_untouched<std::out_of_range>(
      [&](auto&& g) { return lossfn::Hinge<lossfn::Sum>{}.forward_backward(f, y, g); }, 2, 2);
  CHECK(lossfn::Hinge<>(lossfn::HingeOptions{true}).forward(f, y) == 1);  // 0 and 1 are fine there: f = 0, every term 1
  y(0, 1) = -1;
  CHECK_THROWS_WITH(lossfn::Hinge<>(lossfn::HingeOptions{true}).forward(f, y),
                    lossfn_test::ContainsSubstring("is -1: labels must be 0 or 1 (zero_one_labels)"));
  y(0, 1) = std::nan("");
  CHECK_THROWS_AS(lossfn::Hinge<>{}.forward(f, y), std::out_of_range);
}
