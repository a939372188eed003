// Focal (softmax): gamma = 0 is CrossEntropy bit for bit, alpha and Mean's
// denominator, hand-computed values, saturated logits (+-1e4, float and double) for
// every gamma, and the errors. The finite-difference matrix is in test_focal.cpp.
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

namespace {

/// forward_backward_hessian at saturated logits: finite everywhere, and the value
/// (Sum) returned.
template <class Plain>
double saturated(double gamma, const Plain& z, const Classes& t, Plain& g, Plain& h) {
  using S = typename Plain::Scalar;
  FocalOptions o;
  o.gamma = gamma;
  const S loss = Focal<lossfn::Sum>(o).forward_backward_hessian(z, t, g, h);
  CHECK(std::isfinite(loss));
  CHECK(g.allFinite());
  CHECK(h.allFinite());
  // forward and backward alone agree with the fused call
  CHECK(Focal<lossfn::Sum>(o).forward(z, t) == loss);
  CHECK((Focal<lossfn::Sum>(o).backward(z, t) == g).all());
  CHECK((Focal<lossfn::Sum>(o).hessian_diagonal(z, t) == h).all());
  return static_cast<double>(loss);
}

template <class Plain>
void saturated_table() {
  using S = typename Plain::Scalar;
  // rows: the target at +1e4 (q_t = 1), at -1e4 (q_t = 0), two at +1e4 with the target
  // one of them (q_t = 1/2), and 1e4 vs 1e4 - 10 (q_t = 1 - 4.5e-5)
  Plain z(4, 3);
  z << S(1e4), S(-1e4), S(0), S(-1e4), S(1e4), S(0), S(1e4), S(1e4), S(-1e4), S(1e4), S(1e4 - 10), S(-1e4);
  Classes t(4);
  t << 0, 0, 1, 0;
  for (double gamma : {0.0, 0.5, 1.0, 2.0, 5.0}) {
    CAPTURE(gamma, sizeof(S));
    Plain g(4, 3), h(4, 3);
    const double loss = saturated(gamma, z, t, g, h);
    // row 0: loss 0, gradient 0 (CE's gradient is 0 too); row 1: (1 - 0)^g x 2e4;
    // row 2: (1/2)^g log 2; row 3: x^g log1p(e^-10 ...) ~ 4.54e-5^(g + 1)
    const double e10 = std::exp(-10.0);
    const double row3 = std::pow(e10 / (1 + e10), gamma) * std::log1p(e10);
    CHECK(loss == Approx(2e4 + std::pow(0.5, gamma) * std::log(2.0) + row3).epsilon(1e-6));
    // 0 (CrossEntropy's path, gamma = 0: Eigen's vectorised exp floor, below the
    // smallest normal number, where exp(-1e4) is 0)
    CHECK((g.row(0).abs() <= std::numeric_limits<S>::min()).all());
    if (gamma > 0) CHECK((g.row(0) == S(0)).all());
    CHECK(g(1, 0) == Approx(-1.0).epsilon(1e-6));  // psi = 1 at q = 0: CE's -1
    CHECK(g(1, 1) == Approx(1.0).epsilon(1e-6));
    // the target at q = 1/2: grad_t = -psi / 2, psi = 2^-g (1 + g log 2)
    const double psi = std::pow(0.5, gamma) * (1 + gamma * std::log(2.0));
    CHECK(g(2, 1) == Approx(-psi / 2).epsilon(1e-5));
    // row 3's gradient at the target, -psi x with x = 4.54e-5, relative accuracy
    const double x = e10 / (1 + e10);
    const double psi3 = std::pow(x, gamma) * (1 - gamma * (1 - x) * std::log1p(-x) / x);
    // (gamma = 0 is CrossEntropy's path: its q - 1 from a float norm is good to 1e-3 here)
    const double tolerance = gamma == 0 && sizeof(S) == 4 ? 3e-3 : 1e-5;
    CHECK(g(3, 0) == Approx(-psi3 * x).epsilon(tolerance));
    CHECK(h(3, 0) >= 0);
  }
}

}  // namespace

TEST_CASE("Focal: saturated logits (+-1e4) give finite values, gradients and Hessians for every gamma") {
  saturated_table<RowsCM>();
  saturated_table<RowsRM>();
  saturated_table<Eigen::ArrayXXf>();
  saturated_table<Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>();
}

TEST_CASE("Focal: saturated logits with smoothing and soft targets (the dense path) stay finite") {
  RowsCM z(3, 3);
  z << 1e4, -1e4, 0, -1e4, 1e4, 0, 1e4, 1e4, -1e4;
  const Classes t = (Classes(3) << 0, 0, 1).finished();
  const RowsCM soft = (RowsCM(3, 3) << 1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5).finished();
  for (double gamma : {0.5, 1.0, 2.0, 5.0}) {
    FocalOptions o;
    o.gamma = gamma;
    o.label_smoothing = 0.1;
    CAPTURE(gamma);
    RowsCM g(3, 3), h(3, 3);
    CHECK(std::isfinite(Focal<lossfn::Sum>(o).forward_backward_hessian(z, t, g, h)));
    CHECK(g.allFinite());
    CHECK(h.allFinite());
    o.label_smoothing = 0;
    CHECK(std::isfinite(Focal<lossfn::Sum>(o).forward_backward_hessian(z, soft, g, h)));
    CHECK(g.allFinite());
    CHECK(h.allFinite());
    // one-hot soft targets: the index-target path's values
    RowsCM gi(3, 3), hi(3, 3);
    const RowsCM onehot = lossfn_test::one_hot<RowsCM>(t, 3);
    const double a = Focal<lossfn::Sum>(o).forward_backward_hessian(z, onehot, g, h);
    const double b = Focal<lossfn::Sum>(o).forward_backward_hessian(z, t, gi, hi);
    CHECK(a == Approx(b).epsilon(1e-14));
    CHECK(max_error(g, gi) < 1e-14);
    CHECK(max_error(h, hi) < 1e-14);
  }
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
