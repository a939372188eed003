// MultiMargin: the conformance batteries, values against PyTorch's definition
// (torch.nn.MultiMarginLoss, written out naively in long double and by hand),
// finite differences of the gradient and Hessian diagonal over p, margin, class
// weights, reductions and storage orders (away from the hinges), views and
// expressions, float, and the errors only it raises.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/multi_margin.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"
#include "conformance.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::MultiMargin;
using lossfn::MultiMarginOptions;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using LD = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;

namespace {

MultiMarginOptions options(int p, double margin, Eigen::ArrayXd class_weights = {}) {
  MultiMarginOptions o;
  o.p = p;
  o.margin = margin;
  o.class_weights = std::move(class_weights);
  return o;
}

/// Scores on a grid of step 0.3 plus noise in [-0.03, 0.03]: every difference
/// x_y - x_j is 0.06 or more away from the margins used here (0.5, 1, 2), so
/// finite differences (steps of 3e-6 at most) never cross a hinge.
template <class Plain>
Plain away_from_hinges(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_int_distribution<int> grid(-10, 10);
  std::uniform_real_distribution<double> noise(-0.03, 0.03);
  Plain x(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      x(i, j) = static_cast<typename Plain::Scalar>(0.3 * grid(engine) + noise(engine));
  return x;
}

}  // namespace

/// MultiMargin in the conformance registry (support/conformance.hpp).
struct MultiMarginEntry {
  static constexpr const char* name = "MultiMargin";
  static constexpr lossfn_test::CallShape shape = lossfn_test::CallShape::Rowwise;
  static constexpr bool index_targets = true;
  static constexpr bool dense_targets = false;  // class indices only
  using Options = MultiMarginOptions;
  static std::vector<lossfn_test::Variant<Options>> variants(Eigen::Index classes) {
    using lossfn_test::TargetForm;
    return {{"p = 1", {}, TargetForm::Index},
            {"p = 2, margin 0.5, class weights", options(2, 0.5, Eigen::ArrayXd::LinSpaced(classes, 0.5, 2.0)),
             TargetForm::Index}};
  }
  template <class R>
  static MultiMargin<R> make(R, const Options& o) {
    return MultiMargin<R>(o);
  }
  template <class Plain>
  static lossfn_test::Operands<Plain> operands(Eigen::Index rows, Eigen::Index classes, unsigned seed,
                                               lossfn_test::TargetForm form) {
    lossfn_test::Operands<Plain> ops = lossfn_test::rowwise_operands<Plain>(rows, classes, seed, form);
    ops.a = away_from_hinges<Plain>(rows, classes, seed);
    return ops;
  }
};

LOSSFN_CONFORMANCE_TEST_CASES(MultiMarginEntry)

namespace {

/// PyTorch's definition, naively, in long double: per row
/// sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C.
template <class Plain, class Targets>
LD reference(const Plain& x, const Targets& t, const MultiMarginOptions& o) {
  const Eigen::Index classes = x.cols();
  LD out(x.rows(), 1);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const auto y = static_cast<Eigen::Index>(t(i));
    const long double w = o.class_weights.size() ? static_cast<long double>(o.class_weights(y)) : 1.0L;
    long double total = 0;
    for (Eigen::Index j = 0; j < classes; ++j) {
      if (j == y) continue;
      const long double h =
          static_cast<long double>(o.margin) - static_cast<long double>(x(i, y)) + static_cast<long double>(x(i, j));
      if (h > 0) total += o.p == 2 ? h * h : h;
    }
    out(i, 0) = w * total / static_cast<long double>(classes);
  }
  return out;
}

std::vector<MultiMarginOptions> option_sets(Eigen::Index classes) {
  const Eigen::ArrayXd w = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 7, 0.2, 3.0);
  return {options(1, 1), options(2, 1), options(1, 0.5, w), options(2, 2.0, w), options(2, 0.5)};
}

template <class Plain>
void run_matrix(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  const Plain x = away_from_hinges<Plain>(m, classes, seed);
  const Eigen::ArrayXi t = lossfn_test::random_classes(m, classes, seed + 1);
  for (const MultiMarginOptions& o : option_sets(classes)) {
    CAPTURE(o.p, o.margin, o.class_weights.size());
    const LD expected = reference(x, t, o);
    const Eigen::ArrayXd terms = MultiMargin<lossfn::None>(o).forward(x, t);
    CHECK(max_error(terms, expected.cast<double>()) < 1e-14);
    CHECK(scalar_error(MultiMargin<>(o).forward(x, t), static_cast<double>(expected.sum() / m)) < 1e-14);
    const auto make = [&](auto reduction) { return MultiMargin<decltype(reduction)>(o); };
    lossfn_test::check_rowwise_gradients("MultiMargin", make, x, t, static_cast<double>(m), seed + 2);
  }
}

}  // namespace

TEST_CASE("MultiMargin: every p x margin x class weights x reduction x storage order, against finite differences") {
  // 1 class (no j != y: loss 0), 2 classes, a 300-class row, 150 rows
  const Eigen::Index shapes[][2] = {{3, 1}, {1, 2}, {7, 3}, {64, 10}, {150, 4}, {3, 300}};
  unsigned seed = 500;
  for (const auto& shape : shapes) {
    run_matrix<RowsCM>(shape[0], shape[1], seed);
    run_matrix<RowsRM>(shape[0], shape[1], seed + 50);
    seed += 100;
  }
}

TEST_CASE("MultiMargin: hand-computed values (torch.nn.MultiMarginLoss's definition)") {
  RowsCM x(2, 3);
  x << 0.1, 0.2, 0.4,  //
      0.8, -1.0, 2.0;
  Eigen::ArrayXi t(2);
  t << 2, 0;
  // row 0, y = 2: h = (1 - 0.4 + 0.1, 1 - 0.4 + 0.2) = (0.7, 0.8), sum 1.5, / 3 = 0.5
  // row 1, y = 0: h = (1 - 0.8 - 1 < 0, 1 - 0.8 + 2 = 2.2), / 3 = 0.73333...
  const Eigen::ArrayXd terms = MultiMargin<lossfn::None>{}.forward(x, t);
  CHECK(terms(0) == Approx(0.5).epsilon(1e-15));
  CHECK(terms(1) == Approx(2.2 / 3).epsilon(1e-15));
  CHECK(MultiMargin<>{}.forward(x, t) == Approx((0.5 + 2.2 / 3) / 2).epsilon(1e-15));
  CHECK(MultiMargin<>{}(x, t) == MultiMargin<>{}.forward(x, t));
  // Mean's gradient: 1/(C m) = 1/6 at each active j, minus their sum at y, 0 elsewhere
  RowsCM g(2, 3);
  g << 1.0 / 6, 1.0 / 6, -2.0 / 6,  //
      -1.0 / 6, 0, 1.0 / 6;
  CHECK(max_error(MultiMargin<>{}.backward(x, t), g) < 1e-16);
  CHECK((MultiMargin<>{}.hessian_diagonal(x, t) == 0).all());  // p = 1: 0

  // p = 2, margin 0.5, Sum: row 0: h = (0.2, 0.3) -> (0.04 + 0.09) / 3; row 1: h = (-, 1.7) -> 2.89 / 3
  const MultiMargin<lossfn::Sum> squared(2, 0.5);
  CHECK(squared.forward(x, t) == Approx((0.04 + 0.09 + 2.89) / 3).epsilon(1e-14));
  RowsCM g2(2, 3), h2(2, 3);
  g2 << 2 * 0.2 / 3, 2 * 0.3 / 3, -2 * 0.5 / 3,  //
      -2 * 1.7 / 3, 0, 2 * 1.7 / 3;
  h2 << 2.0 / 3, 2.0 / 3, 4.0 / 3,  // y: (2/C) x 2 active
      2.0 / 3, 0, 2.0 / 3;
  RowsCM gout(2, 3), hout(2, 3);
  CHECK(squared.forward_backward_hessian(x, t, gout, hout) == Approx((0.04 + 0.09 + 2.89) / 3).epsilon(1e-14));
  CHECK(max_error(gout, g2) < 1e-15);
  CHECK(max_error(hout, h2) < 1e-15);

  // class weights (0.5, 1, 2): w_y multiplies the row; Mean still divides by m (PyTorch)
  Eigen::ArrayXd w(3);
  w << 0.5, 1, 2;
  const MultiMargin<> weighted(1, 1.0, w);
  CHECK(weighted.forward(x, t) == Approx((2 * 0.5 + 0.5 * 2.2 / 3) / 2).epsilon(1e-15));
  CHECK(weighted.denominator(x, t) == 2.0);

  // the hinge itself: margin - x_y + x_j = 0 is inactive (subgradient 0, as PyTorch)
  RowsCM at_hinge(1, 2);
  at_hinge << 0.0, 1.0;  // y = 1: h_0 = 1 - 1 + 0 = 0
  const Eigen::ArrayXi one = Eigen::ArrayXi::Ones(1);
  CHECK(MultiMargin<>{}.forward(at_hinge, one) == 0.0);
  CHECK((MultiMargin<>{}.backward(at_hinge, one) == 0).all());
  CHECK((MultiMargin<>(2).hessian_diagonal(at_hinge, one) == 0).all());
}

TEST_CASE("MultiMargin: sample weights, WeightedMean, None with upstream") {
  const RowsCM x = away_from_hinges<RowsCM>(9, 5, 31);
  const Eigen::ArrayXi t = lossfn_test::random_classes(9, 5, 32);
  const Eigen::ArrayXd sw = lossfn_test::random_array<Eigen::ArrayXd>(9, 1, 33, 0.2, 2.0);
  const MultiMarginOptions o = options(2, 1, Eigen::ArrayXd::LinSpaced(5, 0.5, 1.5));
  const LD expected = reference(x, t, o);
  const long double weighted_sum = (expected.col(0) * sw.cast<long double>()).sum();
  CHECK(scalar_error(MultiMargin<lossfn::Sum>(o).forward(x, t, lossfn::weights(sw)),
                     static_cast<double>(weighted_sum)) < 1e-14);
  CHECK(scalar_error(MultiMargin<lossfn::WeightedMean>(o).forward(x, t, lossfn::weights(sw)),
                     static_cast<double>(weighted_sum / sw.cast<long double>().sum())) < 1e-14);
  CHECK(MultiMargin<lossfn::WeightedMean>(o).denominator(x, t, lossfn::weights(sw)) == Approx(sw.sum()));
  const Eigen::ArrayXd none = MultiMargin<lossfn::None>(o).forward(x, t, lossfn::weights(sw));
  CHECK(max_error(none, (expected.col(0) * sw.cast<long double>()).cast<double>()) < 1e-14);
  // None's weighted VJP with upstream u equals Sum's gradient with weights u w
  const Eigen::ArrayXd u = lossfn_test::random_array<Eigen::ArrayXd>(9, 1, 34, -1, 1);
  const Eigen::ArrayXd uw = (u * sw).abs();
  const Eigen::ArrayXd sign = (u * sw).sign();
  const RowsCM vjp = MultiMargin<lossfn::None>(o).backward(x, t, lossfn::weights(sw), u);
  const RowsCM hvjp = MultiMargin<lossfn::None>(o).hessian_diagonal(x, t, lossfn::weights(sw), u);
  const RowsCM g = MultiMargin<lossfn::Sum>(o).backward(x, t, lossfn::weights(uw));
  const RowsCM h = MultiMargin<lossfn::Sum>(o).hessian_diagonal(x, t, lossfn::weights(uw));
  CHECK(max_error(vjp, g.colwise() * sign) < 1e-15);
  CHECK(max_error(hvjp, h.colwise() * sign) < 1e-15);
}

TEST_CASE("MultiMargin: Map, Block, expression and integer targets of any type; float and long double") {
  const RowsCM x = away_from_hinges<RowsCM>(20, 6, 61);
  const Eigen::ArrayXi t = lossfn_test::random_classes(20, 6, 62);
  const MultiMargin<> loss(2, 1.0, Eigen::ArrayXd::LinSpaced(6, 1.0, 2.0));
  const double value = loss.forward(x, t);
  const RowsCM grad = loss.backward(x, t);
  // an expression, a Block of a larger row-major array, a Map; int64 and uint8 targets
  CHECK(loss.forward(x * 1.0, t) == value);
  RowsRM big = RowsRM::Zero(24, 9);
  big.block(2, 3, 20, 6) = x;
  CHECK(scalar_error(loss.forward(big.block(2, 3, 20, 6), t), value) < 1e-15);
  CHECK(max_error(loss.backward(big.block(2, 3, 20, 6), t), grad) < 1e-16);
  const Eigen::Map<const RowsCM> map(x.data(), 20, 6);
  CHECK(loss.forward(map, t.cast<std::int64_t>()) == value);
  CHECK(max_error(loss.backward(map, t.cast<std::uint8_t>()), grad) == 0);
  Eigen::MatrixXd gm(20, 6);
  CHECK(loss.forward_backward(x.matrix(), t, gm) == value);
  CHECK(max_error(gm.array(), grad) == 0);
  // float agrees with double; long double compiles and agrees
  const Eigen::ArrayXXf xf = x.cast<float>();
  Eigen::ArrayXXf gf(20, 6);
  CHECK(scalar_error(loss.forward_backward(xf, t, gf), value) < lossfn_test::Tolerance<float>::rel);
  CHECK(max_error(gf, grad) < lossfn_test::Tolerance<float>::rel);
  const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> xl = x.cast<long double>();
  CHECK(scalar_error(static_cast<double>(loss.forward(xl, t)), value) < 1e-14);
  // extreme but finite scores: exact, finite
  RowsCM big_scores(1, 3);
  big_scores << 1e4, -1e4, 0;
  const Eigen::ArrayXi first = Eigen::ArrayXi::Zero(1);
  const Eigen::ArrayXi second = Eigen::ArrayXi::Ones(1);
  CHECK(MultiMargin<lossfn::Sum>{}.forward(big_scores, first) == 0.0);
  CHECK(MultiMargin<lossfn::Sum>{}.forward(big_scores, second) == Approx((2e4 + 1 + 1e4 + 1) / 3).epsilon(1e-15));
  CHECK(MultiMargin<lossfn::Sum>(2).backward(big_scores, second).allFinite());
}

TEST_CASE("MultiMargin: bad options and bad targets raise the contract's errors, before any write") {
  CHECK_THROWS_AS(MultiMargin<>(0), std::invalid_argument);
  CHECK_THROWS_AS(MultiMargin<>(3), std::invalid_argument);
  CHECK_THROWS_AS(MultiMargin<>(1, std::numeric_limits<double>::infinity()), std::invalid_argument);
  CHECK_THROWS_AS(MultiMargin<>(1, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(MultiMargin<>(1, 1.0, (Eigen::ArrayXd(2) << 1, -0.5).finished()), std::invalid_argument);
  CHECK_THROWS_AS(MultiMargin<>(1, 1.0, (Eigen::ArrayXd(2) << 1, std::nan("")).finished()), std::invalid_argument);
  CHECK_NOTHROW(MultiMargin<>(2, -0.5));  // any finite margin (PyTorch)

  const RowsCM x = away_from_hinges<RowsCM>(3, 4, 71);
  Eigen::ArrayXi bad(3);
  bad << 0, 4, 1;
  const MultiMargin<> loss;
  lossfn_test::expect_untouched<std::out_of_range>([&](auto&& g) { return loss.forward_backward(x, bad, g); }, 3, 4);
  bad(1) = -1;
  lossfn_test::expect_untouched<std::out_of_range>(
      [&](auto&& g) { return loss.forward_backward_hessian(x, bad, g, RowsCM(3, 4)); }, 3, 4);
  try {
    loss.forward(x, bad);
    FAIL("no exception");
  } catch (const std::out_of_range& e) {
    CHECK(std::string(e.what()) == "lossfn::MultiMargin::forward: target at row 1 is -1, not a class index in [0, 4)");
  }
  CHECK_THROWS_AS(loss.denominator(x, bad), std::out_of_range);
  const Eigen::Array<std::uint8_t, Eigen::Dynamic, 1> big_class =
      Eigen::Array<std::uint8_t, Eigen::Dynamic, 1>::Constant(3, 200);
  CHECK_THROWS_AS(loss.forward(x, big_class), std::out_of_range);
  // class weights of the wrong length: shape_error at the call
  const MultiMargin<> three(1, 1.0, Eigen::ArrayXd::Ones(3));
  const Eigen::ArrayXi good = Eigen::ArrayXi::Zero(3);
  lossfn_test::expect_untouched<lossfn::shape_error>([&](auto&& g) { return three.forward_backward(x, good, g); }, 3,
                                                     4);
  CHECK_THROWS_AS(three.hessian_diagonal(x, good), lossfn::shape_error);
  // the weights: one per row, finite and >= 0
  const Eigen::ArrayXd negative = (Eigen::ArrayXd(3) << 1, -1, 1).finished();
  lossfn_test::expect_untouched<std::out_of_range>(
      [&](auto&& g) { return loss.forward_backward(x, good, lossfn::weights(negative), g); }, 3, 4);
  lossfn_test::expect_untouched<lossfn::shape_error>(
      [&](auto&& g) { return loss.forward_backward(x, good, lossfn::weights(Eigen::ArrayXd::Ones(2)), g); }, 3, 4);
}

TEST_CASE("MultiMargin: a score of -inf is inactive, +inf and NaN propagate (both storage orders)") {
  const auto check = [](auto plain) {
    using Plain = decltype(plain);
    const Eigen::ArrayXi y = Eigen::ArrayXi::Zero(1);
    for (const int p : {1, 2}) {
      CAPTURE(p, Plain::IsRowMajor);
      const MultiMargin<lossfn::Sum> loss(p);
      Plain x(1, 3), g(1, 3), h(1, 3);
      x << 0.5, -std::numeric_limits<double>::infinity(), 0.2;  // a masked class: h = 0
      CHECK(loss.forward_backward_hessian(x, y, g, h) == Approx(p == 1 ? 0.7 / 3 : 0.49 / 3).epsilon(1e-15));
      CHECK(g.allFinite());
      CHECK(g(0, 1) == 0);
      x(0, 1) = std::numeric_limits<double>::infinity();
      CHECK(std::isinf(loss.forward(x, y)));
      x(0, 1) = std::nan("");
      CHECK(std::isnan(loss.forward_backward(x, y, g)));
      CHECK(std::isnan(g(0, 1)));
      CHECK(std::isnan(g(0, 0)));
      CHECK(g(0, 2) == Approx(p == 1 ? 1.0 / 3 : 2 * 0.7 / 3).epsilon(1e-15));
    }
  };
  check(RowsCM());
  check(RowsRM());
}
