// CrossEntropy: extreme inputs, numerical edges (formerly in test_edge_cases.cpp)
// and error messages.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "cross_entropy_input.hpp"
#include "cross_entropy_reference.hpp"
#include "edge_values.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::CrossEntropy;
using lossfn::CrossEntropyOptions;
using lossfn::Input;
using lossfn_test::ContainsSubstring;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, the reference

TEST_CASE("CrossEntropy: extreme inputs give finite, exact results") {
  SECTION("logits +-1e4: exact values, finite gradients, in double and float") {
    RowsCM z(2, 2);
    z << 1e4, -1e4, 1e4, -1e4;
    const Classes t = (Classes(2) << 1, 0).finished();
    // row 0: -log softmax_1 = 2e4 + log(1 + e^-2e4) = 2e4; row 1: log(1 + e^-2e4) = 0
    const Eigen::ArrayXd terms = CrossEntropy<lossfn::None>{}.forward(z, t);
    CHECK(terms(0) == 2e4);
    CHECK(terms(1) == 0.0);
    const RowsCM g = CrossEntropy<lossfn::Sum>{}.backward(z, t);
    CHECK(g.allFinite());
    // softmax of a logit 2e4 below the max is e^-2e4 = 0; Eigen's vectorised double
    // exp clamps its argument near -709 and returns ~5.6e-309 instead: not exactly 0
    CHECK(std::abs(g(0, 0) - 1) < 1e-300);
    CHECK(std::abs(g(0, 1) + 1) < 1e-300);
    CHECK(std::abs(g(1, 0)) < 1e-300);
    const Eigen::ArrayXXf zf = z.cast<float>();
    Eigen::ArrayXXf gf(2, 2);
    CHECK(CrossEntropy<lossfn::Sum>{}.forward_backward(zf, t, gf) == 2e4f);
    CHECK(gf.allFinite());
    CHECK(std::abs(gf(0, 1) + 1) < 1e-30f);
    const RowsRM z_rm = z;
    CHECK(CrossEntropy<lossfn::Sum>{}.forward(z_rm, t) == 2e4);
  }
  SECTION("a row of equal logits: log K, gradient 1/K - y") {
    const RowsCM z = RowsCM::Constant(3, 4, 123.0);
    const Classes t = (Classes(3) << 0, 3, 2).finished();
    CHECK(CrossEntropy<>{}.forward(z, t) == Approx(std::log(4.0)).epsilon(1e-15));
    const RowsCM expected = (0.25 - lossfn_test::one_hot<RowsCM>(t, 4)) / 3.0;
    CHECK(max_error(CrossEntropy<>{}.backward(z, t), expected) < 1e-16);
  }
  SECTION("K = 1e4 classes") {
    const Eigen::Index classes = 10000;
    const RowsCM z = lossfn_test::random_array<RowsCM>(3, classes, 51, -20, 20);
    const Classes t = (Classes(3) << 0, 4999, 9999).finished();
    const LD log_q = lossfn_test::reference_softmax(z).log();
    const double expected = static_cast<double>(-(log_q(0, 0) + log_q(1, 4999) + log_q(2, 9999)) / 3);
    const RowsRM z_rm = z;
    CHECK(scalar_error(CrossEntropy<>{}.forward(z, t), expected) < 1e-13);
    CHECK(scalar_error(CrossEntropy<>{}.forward(z_rm, t), expected) < 1e-13);
    const RowsCM g = CrossEntropy<>{}.backward(z, t);
    CHECK(g.allFinite());
    CHECK(std::abs(g.sum()) < 1e-14);  // each row of p - y sums to 0
    const RowsCM equal = RowsCM::Zero(1, classes);
    CHECK(CrossEntropy<>{}.forward(equal, Classes::Constant(1, 17)) == Approx(std::log(1e4)).epsilon(1e-15));
    const Eigen::ArrayXXf zf = z.cast<float>();
    CHECK(scalar_error(CrossEntropy<>{}.forward(zf, t), expected) < 1e-5);
  }
  SECTION("probabilities of 1e-30 and exact zeros") {
    CrossEntropyOptions o;
    o.input = Input::Probabilities;
    RowsCM p(2, 3);
    p << 1e-30, 0.0, 1.0, 0.5, 0.5, 0.0;
    const Classes t = (Classes(2) << 0, 1).finished();
    // row 0: -log 1e-30 = 69.0775527898...; row 1: -log 0.5; zeros off the target cost nothing
    const Eigen::ArrayXd terms = CrossEntropy<lossfn::None>(o).forward(p, t);
    CHECK(terms(0) == Approx(30 * std::log(10.0)).epsilon(1e-15));
    CHECK(terms(1) == Approx(std::log(2.0)).epsilon(1e-15));
    const RowsCM g = CrossEntropy<lossfn::Sum>(o).backward(p, t);
    CHECK(g.allFinite());
    CHECK(g(0, 0) == Approx(-1e30).epsilon(1e-15));
    CHECK(g(0, 1) == 0.0);  // zero probability, zero target: 0, not -0/0 = NaN
    CHECK(g(1, 2) == 0.0);
    const Eigen::ArrayXXf pf = p.cast<float>();
    const Eigen::ArrayXXf gf = CrossEntropy<lossfn::Sum>(o).backward(pf, t);
    CHECK(gf.allFinite());
    CHECK(static_cast<double>(CrossEntropy<lossfn::Sum>(o).forward(pf, t)) ==
          Approx(30 * std::log(10.0) + std::log(2.0)).epsilon(1e-6));
    // soft targets with zeros where p is 0 (and log-probabilities of -inf there)
    RowsCM y(2, 3);
    y << 1, 0, 0, 0.5, 0.5, 0;
    CHECK(std::isfinite(CrossEntropy<>(o).forward(p, y)));
    CHECK(CrossEntropy<>(o).backward(p, y).allFinite());
    o.input = Input::LogProbabilities;
    const RowsCM log_p = p.log();
    CHECK(std::isfinite(CrossEntropy<>(o).forward(log_p, y)));
    CHECK(CrossEntropy<>(o).backward(log_p, y).allFinite());
  }
  SECTION("zero probability on the target class: loss +inf, gradient -inf there (documented)") {
    CrossEntropyOptions o;
    o.input = Input::Probabilities;
    RowsCM p(1, 2);
    p << 0.0, 1.0;
    const Classes t = Classes::Constant(1, 0);
    CHECK(CrossEntropy<>(o).forward(p, t) == std::numeric_limits<double>::infinity());
    const RowsCM g = CrossEntropy<>(o).backward(p, t);
    CHECK(g(0, 0) == -std::numeric_limits<double>::infinity());
    CHECK(g(0, 1) == 0.0);
  }
  SECTION("a logit of -inf on a class without target weight costs nothing") {
    RowsCM z(1, 3);
    z << -std::numeric_limits<double>::infinity(), 0.0, 1.0;
    RowsCM y(1, 3);
    y << 0, 0.5, 0.5;
    CHECK(CrossEntropy<>{}.forward(z, y) == Approx(std::log(1 + std::exp(1.0)) - 0.5).epsilon(1e-15));
    CHECK(CrossEntropy<>{}.backward(z, y).allFinite());
  }
  SECTION("probabilities, soft targets: zero-weight classes get exactly 0 even for an upstream of inf or NaN") {
    const Eigen::Index m = 2, classes = 32;
    const RowsRM q = lossfn_test::random_distributions<RowsRM>(m, classes, 131);
    RowsRM y = RowsRM::Zero(m, classes);
    y(0, 3) = 1.0;
    y(1, 30) = 1.0;
    const double inf = std::numeric_limits<double>::infinity();
    const Eigen::ArrayXd upstream = (Eigen::ArrayXd(2) << inf, std::numeric_limits<double>::quiet_NaN()).finished();
    CrossEntropyOptions o;
    o.input = Input::Probabilities;
    const CrossEntropy<lossfn::None> ce(o);
    for (const bool row_major : {true, false}) {
      CAPTURE(row_major);
      const RowsCM g = row_major ? RowsCM(ce.backward(q, y, upstream)) : ce.backward(RowsCM(q), RowsCM(y), upstream);
      CHECK(g(0, 0) == 0.0);
      CHECK(g(1, 0) == 0.0);
      CHECK(g(0, 3) == -inf);
      CHECK(std::isnan(g(1, 30)));
    }
  }
}

TEST_CASE("CrossEntropy: errors name the loss, the function, the shapes, rows and values") {
  const RowsCM z = lossfn_test::random_array<RowsCM>(4, 3, 61);
  const Classes t = (Classes(4) << 0, 2, 1, 2).finished();
  const CrossEntropy<> ce;
  RowsCM out = RowsCM::Constant(4, 3, 42.0);

  SECTION("shapes") {
    CHECK_THROWS_AS(ce.forward(z, Classes::Zero(3)), lossfn::shape_error);
    CHECK_THROWS_WITH(ce.forward(z, Classes::Zero(3)),
                      "lossfn::CrossEntropy::forward: pred is 4x3 but target is 3x1 (expected 4x1)");
    CHECK_THROWS_WITH(ce.forward(z, Eigen::ArrayXXi::Zero(4, 3)),
                      "lossfn::CrossEntropy::forward: pred is 4x3 but target is 4x3 (expected 4x1)");
    CHECK_THROWS_WITH(ce.backward(z, RowsCM::Zero(3, 4)),
                      "lossfn::CrossEntropy::backward: pred is 4x3 but target is 3x4");
    CHECK_THROWS_AS(ce.forward_backward(z, t, out.block(0, 0, 4, 2)), lossfn::shape_error);
    CHECK_THROWS_WITH(ce.forward(RowsCM(2, 0), Classes::Zero(2)),
                      "lossfn::CrossEntropy::forward: pred is 2x0: it needs at least one class (column)");
    CrossEntropyOptions o;
    o.class_weights = Eigen::ArrayXd::Ones(4);
    CHECK_THROWS_AS(CrossEntropy<>(o).forward(z, t), lossfn::shape_error);
    CHECK_THROWS_WITH(
        CrossEntropy<>(o).forward_backward(z, t, out),
        "lossfn::CrossEntropy::forward_backward: class_weights has 4 entries but pred is 4x3 (3 classes)");
    const lossfn::CrossEntropy<lossfn::None> none;
    CHECK_THROWS_WITH(none.backward(z, t, Eigen::ArrayXd::Ones(3)),
                      "lossfn::CrossEntropy::backward: pred is 4x3 but upstream is 3x1 (expected 4x1)");
  }
  SECTION("class index out of range, naming row and value") {
    Classes bad = t;
    bad(2) = 3;
    CHECK_THROWS_AS(ce.forward(z, bad), std::out_of_range);
    CHECK_THROWS_WITH(ce.forward(z, bad),
                      "lossfn::CrossEntropy::forward: target at row 2 is 3, not a class index in [0, 3)");
    bad(2) = -1;
    CHECK_THROWS_WITH(ce.forward_backward(z, bad, out),
                      "lossfn::CrossEntropy::forward_backward: target at row 2 is -1, not a class index in [0, 3)");
    CrossEntropyOptions o;
    o.ignore_index = -100;
    CHECK_THROWS_WITH(CrossEntropy<>(o).backward(z, bad),
                      "lossfn::CrossEntropy::backward: target at row 2 is -1, not a class index in [0, 3) nor "
                      "ignore_index");
    const Eigen::Array<std::uint64_t, Eigen::Dynamic, 1> huge =
        Eigen::Array<std::uint64_t, Eigen::Dynamic, 1>::Constant(4, 18446744073709551615ull);
    CHECK_THROWS_WITH(ce.forward(z, huge), ContainsSubstring("target at row 0 is 18446744073709551615,"));
    o.ignore_index = 2;
    bad(2) = 2;
    CHECK_NOTHROW(CrossEntropy<>(o).forward(z, bad));
  }
  SECTION("bad options at construction; ignore_index with soft targets at the call") {
    CrossEntropyOptions o;
    o.label_smoothing = 1.0;
    CHECK_THROWS_AS(CrossEntropy<>(o), std::invalid_argument);
    CHECK_THROWS_WITH(CrossEntropy<>(o), "lossfn::CrossEntropy::constructor: label_smoothing must be in [0, 1), got 1");
    o.label_smoothing = -0.1;
    CHECK_THROWS_AS(CrossEntropy<>(o), std::invalid_argument);
    o.label_smoothing = std::nan("");
    CHECK_THROWS_AS(CrossEntropy<>(o), std::invalid_argument);
    o = {};
    o.class_weights = (Eigen::ArrayXd(3) << 1.0, -0.5, 1.0).finished();
    CHECK_THROWS_WITH(CrossEntropy<lossfn::Sum>(o),
                      "lossfn::CrossEntropy::constructor: class_weights must be finite and >= 0, got -0.5 for class 1");
    o.class_weights(1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(CrossEntropy<>(o), std::invalid_argument);
    o = {};
    o.input = static_cast<Input>(7);
    CHECK_THROWS_WITH(CrossEntropy<>(o), "lossfn::CrossEntropy::constructor: input is not a lossfn::Input value");
    o = {};
    o.ignore_index = 1;
    CHECK_THROWS_WITH(CrossEntropy<>(o).forward(z, lossfn_test::one_hot<RowsCM>(t, 3)),
                      "lossfn::CrossEntropy::forward: ignore_index applies to class-index targets only, and these "
                      "targets are probabilities");
  }
  SECTION("empty input: Sum gives 0, Mean is an error") {
    const RowsCM empty(0, 3);
    CHECK(CrossEntropy<lossfn::Sum>{}.forward(empty, Classes(0)) == 0.0);
    CHECK(CrossEntropy<lossfn::Sum>{}.backward(empty, RowsCM(0, 3)).size() == 0);
    CHECK_THROWS_WITH(ce.forward(empty, Classes(0)), ContainsSubstring("lossfn::CrossEntropy::forward: empty input"));
    RowsCM g;
    CHECK_THROWS_AS(ce.forward_backward(empty, Classes(0), g), std::invalid_argument);
  }
  // a failed call wrote nothing
  CHECK((out == 42.0).all());
}

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

using lossfn_test::ce_input;  // support/cross_entropy_input.hpp

TEMPLATE_TEST_CASE("edge: CrossEntropy with logits at +-1e4", "", float, double) {
  using namespace lossfn_test::edge;
  using T = TestType;
  // row 0: z = (1e4, -1e4, 0), target 0; row 1: the same logits, target 1.
  // log-softmax with the max subtracted: (0, -2e4, -1e4) - log(1 + e^-2e4 + e^-1e4) = (0, -2e4, -1e4)
  // exactly (the exponentials underflow to 0), so loss_0 = 0 and loss_1 = 2e4, both exact in float.
  const Rows<T> z = rows2<T>({T(1e4), T(-1e4), T(0)}, {T(1e4), T(-1e4), T(0)});
  Eigen::ArrayXi target(2);
  target << 0, 1;
  const lossfn::CrossEntropy<lossfn::None> none;
  const Col<T> losses = none.forward(z, target);
  CHECK(losses(0) == T(0));
  CHECK(losses(1) == T(2e4));
  // gradient (Sum): softmax(z) - onehot = (1, 0, 0) - e_t
  Rows<T> grad(2, 3);
  const T total = lossfn::CrossEntropy<lossfn::Sum>{}.forward_backward(z, target, grad);
  CHECK(total == T(2e4));
  const Rows<T> expected = rows2<T>({T(0), T(0), T(0)}, {T(1), T(-1), T(0)});
  // Not bit-exact in double: Eigen 3.4's vectorised exp clamps its argument at about
  // -709.78, so e^-2e4 and e^-1e4 come out as ~5.6e-309 (a denormal) instead of 0.
  // Documented in the README; the absolute error is below 1e-300. (Float sums and
  // exponentiates in double here, and its results round to exactly 0.)
  CHECK((grad - expected).abs().maxCoeff() <= T(1e-300));
}

TEST_CASE("edge: a probability of exactly 0 on the target class (documented: +inf, -inf)") {
  using namespace lossfn_test::edge;
  const Rows<double> pred = rows2<double>({0.0, 1.0}, {0.5, 0.5});
  Eigen::ArrayXi target(2);
  target << 0, 0;
  const lossfn::CrossEntropy<lossfn::Sum> ce(ce_input(lossfn::Input::Probabilities));
  CHECK(ce.forward(pred, target) == kInf);  // -log 0
  const Rows<double> grad = ce.backward(pred, target);
  CHECK(grad(0, 0) == -kInf);  // -1 / 0
  CHECK(grad(0, 1) == 0.0);
  CHECK(grad(1, 0) == -2.0);
}
