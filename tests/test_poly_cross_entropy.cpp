// PolyCrossEntropy (Poly-1): the reference and finite differences over every input
// form x target form x option x reduction x storage order, its properties (epsilon =
// 0 is CrossEntropy bit for bit), hand-computed values, errors, and the conformance
// batteries in test_poly_cross_entropy_conformance.cpp.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/poly_cross_entropy.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "class_term_matrix.hpp"
#include "class_term_reference.hpp"
#include "cross_entropy_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::CrossEntropy;
using lossfn::Input;
using lossfn::PolyCrossEntropy;
using lossfn::PolyCrossEntropyOptions;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, reference_c

namespace {

std::vector<std::pair<std::string, PolyCrossEntropyOptions>> option_sets(Eigen::Index classes, bool index_targets) {
  PolyCrossEntropyOptions base;
  return lossfn_test::class_term::option_sets(classes, index_targets, base);
}

}  // namespace

TEST_CASE(
    "PolyCrossEntropy: every input form x target form x option x reduction, column-major, against finite "
    "differences") {
  for (double epsilon : {2.0, -0.7, 5.0}) {
    PolyCrossEntropyOptions base;
    base.epsilon = epsilon;
    CAPTURE(epsilon);
    lossfn_test::class_term::for_shapes(300, [&](Eigen::Index m, Eigen::Index k, unsigned seed) {
      lossfn_test::class_term::run_matrix<PolyCrossEntropy, RowsCM>("PolyCrossEntropy", m, k, seed, base,
                                                                    lossfn_test::class_term::PolyReference{},
                                                                    lossfn_test::class_term::PolyDivisor{});
    });
  }
}

TEST_CASE("PolyCrossEntropy: hand-computed value and gradient, and Optax's definition") {
  // logits (1, 2, 3), class 2: CE = log(1 + e^-1 + e^-2), p_t = 1 / (1 + e^-1 + e^-2)
  RowsCM z(1, 3);
  z << 1, 2, 3;
  const Classes t = Classes::Constant(1, 2);
  const double total = 1 + std::exp(-1.0) + std::exp(-2.0);
  const double pt = 1 / total;
  CHECK(PolyCrossEntropy<>{}.forward(z, t) == Approx(std::log(total) + 2.0 * (1 - pt)).epsilon(1e-15));
  // the gradient: (p - y)(1 + epsilon p_t)
  RowsCM p(1, 3);
  p << std::exp(-2.0) / total, std::exp(-1.0) / total, pt;
  RowsCM y(1, 3);
  y << 0, 0, 1;
  CHECK(max_error(PolyCrossEntropy<>(0.5).backward(z, t), (p - y) * (1 + 0.5 * pt)) < 1e-15);
  // one-hot targets: the same as the index targets
  CHECK(PolyCrossEntropy<>(0.5).forward(z, y) == Approx(PolyCrossEntropy<>(0.5).forward(z, t)).epsilon(1e-15));
}

TEST_CASE("PolyCrossEntropy: epsilon = 0 is CrossEntropy exactly, for every form, target and option") {
  const RowsCM logits = lossfn_test::random_array<RowsCM>(40, 6, 5, -4, 4);
  const Classes t = lossfn_test::random_classes(40, 6, 6);
  const RowsCM soft = lossfn_test::random_distributions<RowsCM>(40, 6, 7);
  for (const auto& named : option_sets(6, true)) {
    PolyCrossEntropyOptions o = named.second;
    o.epsilon = 0;
    for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
      o.input = form;
      CAPTURE(named.first, form_name(form));
      const RowsCM pred = random_pred<RowsCM>(form, 40, 6, 9);
      const lossfn::CrossEntropyOptions& ce = o;
      RowsCM g1(40, 6), g2(40, 6), h1(40, 6), h2(40, 6);
      CHECK(PolyCrossEntropy<>(o).forward_backward_hessian(pred, t, g1, h1) ==
            CrossEntropy<>(ce).forward_backward_hessian(pred, t, g2, h2));
      CHECK((g1 == g2).all());
      CHECK((h1 == h2).all());
      if (!o.ignore_index) {
        CHECK(PolyCrossEntropy<lossfn::Sum>(o).forward_backward(pred, soft, g1) ==
              CrossEntropy<lossfn::Sum>(ce).forward_backward(pred, soft, g2));
        CHECK((g1 == g2).all());
      }
    }
  }
}

TEST_CASE("PolyCrossEntropy: float, and saturated logits give finite values") {
  Eigen::ArrayXXf z(3, 3);
  z << 1e4f, -1e4f, 0, -1e4f, 1e4f, -1e4f, 0, 0, 0;
  Eigen::ArrayXi t(3);
  t << 0, 0, 2;
  Eigen::ArrayXXf g(3, 3), h(3, 3);
  const float loss = PolyCrossEntropy<lossfn::Sum>{}.forward_backward_hessian(z, t, g, h);
  CHECK(std::isfinite(loss));
  CHECK(g.allFinite());
  CHECK(h.allFinite());
  // row 0: p_t = 1, loss 0, gradient 0; row 1: CE = 2e4, p_t = 0, poly term 2
  CHECK(loss == Approx(2e4 + 2 + std::log(3.0) + 2 * (2.0 / 3)).epsilon(1e-6));
  CHECK((g.row(0) == 0.0f).all());
  const Eigen::ArrayXXd zd = z.cast<double>();
  Eigen::ArrayXXd gd(3, 3);
  PolyCrossEntropy<lossfn::Sum>{}.forward_backward(zd, t, gd);
  CHECK(max_error(g.cast<double>(), gd) < 1e-6);
}

TEST_CASE("PolyCrossEntropy: bad options and inputs") {
  PolyCrossEntropyOptions o;
  o.epsilon = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(PolyCrossEntropy<>(o), std::invalid_argument);
  o = {};
  o.label_smoothing = 1;
  CHECK_THROWS_AS(PolyCrossEntropy<>(o), std::invalid_argument);
  o = {};
  o.class_weights = Eigen::ArrayXd::Ones(4);
  const RowsCM z = lossfn_test::random_array<RowsCM>(3, 3, 1, -1, 1);
  Classes t(3);
  t << 0, 1, 2;
  RowsCM g = RowsCM::Constant(3, 3, 7.0);
  CHECK_THROWS_AS(PolyCrossEntropy<>(o).forward_backward(z, t, g), lossfn::shape_error);
  CHECK((g == 7.0).all());  // nothing written
  t(1) = 3;
  CHECK_THROWS_AS(PolyCrossEntropy<>{}.forward_backward(z, t, g), std::out_of_range);
  CHECK((g == 7.0).all());
  o = {};
  o.ignore_index = 0;
  CHECK_THROWS_AS(PolyCrossEntropy<>(o).forward(z, z), std::invalid_argument);
}
