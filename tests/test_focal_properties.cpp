// Focal (softmax): gamma = 0 is CrossEntropy bit for bit, alpha and Mean's
// denominator, hand-computed values, and the errors. The finite-difference matrix is
// in test_focal.cpp, saturated logits in test_focal_extremes.cpp.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "catch.hpp"
#include "cross_entropy_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::CrossEntropy;
using lossfn::Focal;
using lossfn::FocalOptions;
using lossfn::Input;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using namespace lossfn_test::cross_entropy;  // Classes, form_name, random_pred

TEST_CASE("Focal: gamma = 0 without alpha is CrossEntropy exactly (every form, target, option, reduction)") {
  const Classes t = lossfn_test::random_classes(40, 6, 6);
  const RowsCM soft = lossfn_test::random_distributions<RowsCM>(40, 6, 7);
  for (int variant = 0; variant < 3; ++variant) {
    FocalOptions o;
    o.gamma = 0;
    if (variant == 1) o.label_smoothing = 0.2;
    if (variant == 2) o.ignore_index = 2;
    for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
      o.input = form;
      CAPTURE(variant, form_name(form));
      const RowsCM pred = random_pred<RowsCM>(form, 40, 6, 9);
      const lossfn::CrossEntropyOptions& ce = o;
      RowsCM g1(40, 6), g2(40, 6), h1(40, 6), h2(40, 6);
      CHECK(Focal<>(o).forward_backward_hessian(pred, t, g1, h1) ==
            CrossEntropy<>(ce).forward_backward_hessian(pred, t, g2, h2));
      CHECK((g1 == g2).all());
      CHECK((h1 == h2).all());
      CHECK((Focal<lossfn::None>(o).forward(pred, t) == CrossEntropy<lossfn::None>(ce).forward(pred, t)).all());
      if (!o.ignore_index) {
        CHECK(Focal<lossfn::Sum>(o).forward_backward(pred, soft, g1) ==
              CrossEntropy<lossfn::Sum>(ce).forward_backward(pred, soft, g2));
        CHECK((g1 == g2).all());
      }
    }
  }
}

TEST_CASE("Focal: alpha multiplies the terms but enters no denominator") {
  const RowsCM z = lossfn_test::random_array<RowsCM>(5, 3, 3, -2, 2);
  Classes t(5);
  t << 0, 1, 2, 1, 0;
  FocalOptions o;
  o.class_weights = Eigen::ArrayXd::LinSpaced(3, 0.5, 2.5);
  o.ignore_index = 2;
  const double sum = Focal<lossfn::Sum>(o).forward(z, t);
  CHECK(Focal<>(o).denominator(z, t) == 4.0);  // rows not ignored
  CHECK(Focal<>(o).forward(z, t) == Approx(sum / 4).epsilon(1e-15));
  CHECK(CrossEntropy<>(o).denominator(z, t) == Approx(0.5 + 1.5 + 1.5 + 0.5).epsilon(1e-15));  // unlike this
  const Eigen::ArrayXd w = (Eigen::ArrayXd(5) << 1, 2, 3, 0.5, 1).finished();
  CHECK(Focal<lossfn::WeightedMean>(o).denominator(z, t, lossfn::weights(w)) == 4.5);
  CHECK(Focal<lossfn::WeightedMean>(o).forward(z, t, lossfn::weights(w)) ==
        Approx(Focal<lossfn::Sum>(o).forward(z, t, lossfn::weights(w)) / 4.5).epsilon(1e-15));
  // per row: alpha_t x the unweighted focal term
  FocalOptions plain;
  const Eigen::ArrayXd with_alpha = Focal<lossfn::None>(o).forward(z, t);
  const Eigen::ArrayXd without = Focal<lossfn::None>(plain).forward(z, t);
  for (Eigen::Index i = 0; i < 5; ++i) {
    if (t(i) == 2) {
      CHECK(with_alpha(i) == 0.0);
    } else {
      CHECK(with_alpha(i) == Approx(o.class_weights(t(i)) * without(i)).epsilon(1e-15));
    }
  }
}

TEST_CASE("Focal: hand-computed value and gradient") {
  // logits (1, 2, 3), class 2: p = 1 / T, T = 1 + e^-1 + e^-2
  RowsCM z(1, 3);
  z << 1, 2, 3;
  const Classes t = Classes::Constant(1, 2);
  const double total = 1 + std::exp(-1.0) + std::exp(-2.0);
  const double p = 1 / total;
  const double loss = -std::pow(1 - p, 2) * std::log(p);
  CHECK(Focal<>{}.forward(z, t) == Approx(loss).epsilon(1e-15));
  // grad = psi (q - y), psi = (1 - p)^g - g p (1 - p)^(g - 1) log p
  const double psi = std::pow(1 - p, 2) - 2 * p * (1 - p) * std::log(p);
  RowsCM q(1, 3);
  q << std::exp(-2.0) / total, std::exp(-1.0) / total, p;
  RowsCM y(1, 3);
  y << 0, 0, 1;
  CHECK(max_error(Focal<>{}.backward(z, t), psi * (q - y)) < 1e-15);
  // probabilities: -(1 - p)^g log p at the target
  RowsCM probs(1, 3);
  probs << 0.2, 0.3, 0.5;
  FocalOptions o;
  o.input = Input::Probabilities;
  o.gamma = 0.5;
  CHECK(Focal<>(o).forward(probs, t) == Approx(-std::sqrt(0.5) * std::log(0.5)).epsilon(1e-15));
}

TEST_CASE("Focal: bad options and inputs") {
  CHECK_THROWS_AS(Focal<>(-0.5), std::invalid_argument);
  CHECK_THROWS_AS(Focal<>(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  CHECK_THROWS_AS(Focal<>(std::numeric_limits<double>::infinity()), std::invalid_argument);
  FocalOptions o;
  o.label_smoothing = -0.1;
  CHECK_THROWS_AS(Focal<>(o), std::invalid_argument);
  o = {};
  o.class_weights = Eigen::ArrayXd::Ones(4);
  const RowsCM z = lossfn_test::random_array<RowsCM>(3, 3, 1, -1, 1);
  Classes t(3);
  t << 0, 1, 2;
  RowsCM g = RowsCM::Constant(3, 3, 7.0);
  CHECK_THROWS_AS(Focal<>(o).forward_backward(z, t, g), lossfn::shape_error);
  CHECK((g == 7.0).all());  // nothing written
  t(1) = -1;
  CHECK_THROWS_AS(Focal<>{}.forward_backward(z, t, g), std::out_of_range);
  CHECK((g == 7.0).all());
  o = {};
  o.ignore_index = 0;
  CHECK_THROWS_AS(Focal<>(o).forward(z, z), std::invalid_argument);
}
