// MultiLabelSoftMargin: the conformance batteries, values against PyTorch's
// definition (torch.nn.MultiLabelSoftMarginLoss, by hand and naively in long
// double), Mean = BCE-with-logits' elementwise Mean, finite differences of the
// gradient and Hessian diagonal over class weights, hard and soft targets,
// reductions and storage orders, extreme logits, views, float, and the errors
// only it raises.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/multilabel_soft_margin.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"
#include "conformance.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::MultiLabelSoftMargin;
using lossfn::MultiLabelSoftMarginOptions;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using LD = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;

namespace {

/// Targets in [0, 1]: soft values, with every third entry rounded to a hard 0 or 1.
template <class Plain>
Plain random_targets(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  Plain y = lossfn_test::random_array<Plain>(rows, cols, seed, 0.0, 1.0);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      if ((i + 2 * j) % 3 == 0) y(i, j) = std::round(y(i, j));
  return y;
}

MultiLabelSoftMarginOptions with_weights(Eigen::ArrayXd w) {
  MultiLabelSoftMarginOptions o;
  o.class_weights = std::move(w);
  return o;
}

}  // namespace

/// MultiLabelSoftMargin in the conformance registry (support/conformance.hpp).
struct MultiLabelSoftMarginEntry {
  static constexpr const char* name = "MultiLabelSoftMargin";
  static constexpr lossfn_test::CallShape shape = lossfn_test::CallShape::Rowwise;
  using Options = MultiLabelSoftMarginOptions;
  static std::vector<lossfn_test::Variant<Options>> variants(Eigen::Index classes) {
    return {{"default", {}}, {"class weights (one of them 0)", with_weights(Eigen::ArrayXd::LinSpaced(classes, 0, 2))}};
  }
  template <class R>
  static MultiLabelSoftMargin<R> make(R, const Options& o) {
    return MultiLabelSoftMargin<R>(o);
  }
  template <class Plain>
  static lossfn_test::Operands<Plain> operands(Eigen::Index rows, Eigen::Index classes, unsigned seed,
                                               lossfn_test::TargetForm) {
    return {lossfn_test::random_array<Plain>(rows, classes, seed, -3, 3),
            random_targets<Plain>(rows, classes, seed + 50),
            {}};
  }
};

LOSSFN_CONFORMANCE_TEST_CASES(MultiLabelSoftMarginEntry)

namespace {

/// PyTorch's definition, naively, in long double: per row
/// -(1/C) sum_c w_c (y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).
template <class Plain>
LD reference(const Plain& x, const Plain& y, const Eigen::ArrayXd& w) {
  LD out(x.rows(), 1);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    long double total = 0;
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const long double s = 1 / (1 + std::exp(-static_cast<long double>(x(i, c))));
      const long double t = static_cast<long double>(y(i, c));
      const long double wc = w.size() ? static_cast<long double>(w(c)) : 1.0L;
      total -= wc * (t * std::log(s) + (1 - t) * std::log(1 - s));
    }
    out(i, 0) = total / static_cast<long double>(x.cols());
  }
  return out;
}

/// BCE with logits of one entry, in double, as torch's binary_cross_entropy_with_logits
/// (max(x, 0) - x y + log1p(exp(-|x|))), for the Mean property.
double bce_with_logits(double x, double y) { return std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x))); }

template <class Plain>
void run_matrix(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  const Plain x = lossfn_test::random_array<Plain>(m, classes, seed, -3, 3);
  const Plain soft = random_targets<Plain>(m, classes, seed + 1);
  const Plain hard = soft.round();
  Eigen::ArrayXd w = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, seed + 2, 0.2, 3.0);
  if (classes > 2) w(1) = 0;
  for (const Eigen::ArrayXd& weights : {Eigen::ArrayXd(), w}) {
    for (const Plain* target : {&soft, &hard}) {
      CAPTURE(weights.size(), target == &hard);
      const MultiLabelSoftMarginOptions o = with_weights(weights);
      const LD expected = reference(x, *target, weights);
      const Eigen::ArrayXd terms = MultiLabelSoftMargin<lossfn::None>(o).forward(x, *target);
      CHECK(max_error(terms, expected.cast<double>()) < 1e-14);
      CHECK(scalar_error(MultiLabelSoftMargin<>(o).forward(x, *target), static_cast<double>(expected.sum() / m)) <
            1e-14);
      const auto make = [&](auto reduction) { return MultiLabelSoftMargin<decltype(reduction)>(o); };
      lossfn_test::check_rowwise_gradients("MultiLabelSoftMargin", make, x, *target, static_cast<double>(m), seed + 3);
    }
  }
}

}  // namespace

TEST_CASE(
    "MultiLabelSoftMargin: class weights x hard and soft targets x reduction x storage order, finite "
    "differences") {
  const Eigen::Index shapes[][2] = {{1, 1}, {1, 2}, {7, 3}, {64, 10}, {150, 4}, {3, 300}};
  unsigned seed = 700;
  for (const auto& shape : shapes) {
    run_matrix<RowsCM>(shape[0], shape[1], seed);
    run_matrix<RowsRM>(shape[0], shape[1], seed + 50);
    seed += 100;
  }
}

TEST_CASE("MultiLabelSoftMargin: hand-computed values (torch.nn.MultiLabelSoftMarginLoss's definition)") {
  RowsCM x(2, 3), y(2, 3);
  x << 0.1, 0.2, 0.4,  //
      0.8, -1.0, 2.0;
  y << 1, 0, 1,  //
      0, 1, 0.5;
  // -(1/3) sum_c (y log sigmoid(x) + (1 - y) log sigmoid(-x)), computed with Python's math
  const Eigen::ArrayXd terms = MultiLabelSoftMargin<lossfn::None>{}.forward(x, y);
  CHECK(terms(0) == Approx(0.6518502606183718).epsilon(1e-15));
  CHECK(terms(1) == Approx(1.2037634548363243).epsilon(1e-15));
  CHECK(MultiLabelSoftMargin<>{}.forward(x, y) == Approx(0.927806857727348).epsilon(1e-15));
  CHECK(MultiLabelSoftMargin<>{}(x, y) == MultiLabelSoftMargin<>{}.forward(x, y));
  // Mean's gradient (sigmoid(x) - y) / (C m), Hessian sigmoid (1 - sigmoid) / (C m)
  RowsCM g(2, 3), h(2, 3);
  g << -0.07917013542017666, 0.09163899955207966, -0.066885389981258,  //
      0.11499574685460208, -0.12184309643833414, 0.06346617966298039;
  h << 0.04156267336548199, 0.04125276211864332, 0.04004345762358819,  //
      0.035651616086715736, 0.03276865554024697, 0.017498930900584436;
  RowsCM gout(2, 3), hout(2, 3);
  CHECK(MultiLabelSoftMargin<>{}.forward_backward_hessian(x, y, gout, hout) ==
        Approx(0.927806857727348).epsilon(1e-15));
  CHECK(max_error(gout, g) < 1e-16);
  CHECK(max_error(hout, h) < 1e-16);
  // class weights (0.5, 1, 2): multiply the classes' terms; Mean still divides by m
  Eigen::ArrayXd w(3);
  w << 0.5, 1, 2;
  const MultiLabelSoftMargin<> weighted(w);
  CHECK(weighted.forward(x, y) == Approx(1.0498392911327232).epsilon(1e-15));
  CHECK(weighted.denominator(x, y) == 2.0);
  CHECK(max_error(weighted.backward(x, y), g.rowwise() * w.transpose()) < 1e-16);
}

TEST_CASE("MultiLabelSoftMargin: Mean equals BCE-with-logits' elementwise Mean over the same m x C input") {
  for (const Eigen::Index classes : {1, 5, 33}) {
    const RowsRM x = lossfn_test::random_array<RowsRM>(40, classes, 81, -6, 6);
    const RowsRM y = random_targets<RowsRM>(40, classes, 82);
    double total = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (Eigen::Index c = 0; c < classes; ++c) total += bce_with_logits(x(i, c), y(i, c));
    const double bce_mean = total / static_cast<double>(x.size());
    CHECK(scalar_error(MultiLabelSoftMargin<>{}.forward(x, y), bce_mean) < 1e-15);
    // the library's BinaryCrossEntropy over the same input: value, gradient, Hessian
    const lossfn::BinaryCrossEntropy<> bce;
    CHECK(scalar_error(MultiLabelSoftMargin<>{}.forward(x, y), bce.forward(x, y)) < 1e-15);
    CHECK(max_error(MultiLabelSoftMargin<>{}.backward(x, y), bce.backward(x, y)) < 1e-17);
    CHECK(max_error(MultiLabelSoftMargin<>{}.hessian_diagonal(x, y), bce.hessian_diagonal(x, y)) < 1e-17);
    // and the gradient is BCE's elementwise-Mean gradient (sigmoid(x) - y) / (m C)
    const RowsRM s = 1 / (1 + (-x).exp());
    CHECK(max_error(MultiLabelSoftMargin<>{}.backward(x, y), (s - y) / static_cast<double>(x.size())) < 1e-17);
  }
}

TEST_CASE("MultiLabelSoftMargin: logits of +-1e4 give exact, finite values in float and double") {
  RowsCM x(1, 4), y(1, 4);
  x << 1e4, 1e4, -1e4, -1e4;
  y << 1, 0, 1, 0;
  // per entry: 0, 1e4, 1e4, 0; gradient (sigmoid - y) / C: 0, 1/4, -1/4, 0; Hessian 0
  RowsCM g(1, 4), h(1, 4);
  CHECK(MultiLabelSoftMargin<lossfn::Sum>{}.forward_backward_hessian(x, y, g, h) == 5000.0);
  CHECK((g == (RowsCM(1, 4) << 0, 0.25, -0.25, 0).finished()).all());
  CHECK((h == 0).all());
  const Eigen::ArrayXXf xf = x.cast<float>(), yf = y.cast<float>();
  Eigen::ArrayXXf gf(1, 4), hf(1, 4);
  CHECK(MultiLabelSoftMargin<lossfn::Sum>{}.forward_backward_hessian(xf, yf, gf, hf) == 5000.0f);
  CHECK((gf == g.cast<float>()).all());
  CHECK((hf == 0).all());
}

TEST_CASE("MultiLabelSoftMargin: sample weights, WeightedMean, None with upstream") {
  const RowsCM x = lossfn_test::random_array<RowsCM>(9, 5, 31, -3, 3);
  const RowsCM y = random_targets<RowsCM>(9, 5, 32);
  const Eigen::ArrayXd sw = lossfn_test::random_array<Eigen::ArrayXd>(9, 1, 33, 0.2, 2.0);
  const Eigen::ArrayXd cw = Eigen::ArrayXd::LinSpaced(5, 0.5, 1.5);
  const MultiLabelSoftMarginOptions o = with_weights(cw);
  const LD expected = reference(x, y, cw);
  const long double weighted_sum = (expected.col(0) * sw.cast<long double>()).sum();
  CHECK(scalar_error(MultiLabelSoftMargin<lossfn::Sum>(o).forward(x, y, lossfn::weights(sw)),
                     static_cast<double>(weighted_sum)) < 1e-14);
  CHECK(scalar_error(MultiLabelSoftMargin<lossfn::WeightedMean>(o).forward(x, y, lossfn::weights(sw)),
                     static_cast<double>(weighted_sum / sw.cast<long double>().sum())) < 1e-14);
  CHECK(MultiLabelSoftMargin<lossfn::WeightedMean>(o).denominator(x, y, lossfn::weights(sw)) == Approx(sw.sum()));
  const Eigen::ArrayXd none = MultiLabelSoftMargin<lossfn::None>(o).forward(x, y, lossfn::weights(sw));
  CHECK(max_error(none, (expected.col(0) * sw.cast<long double>()).cast<double>()) < 1e-14);
  const Eigen::ArrayXd u = lossfn_test::random_array<Eigen::ArrayXd>(9, 1, 34, -1, 1);
  const Eigen::ArrayXd uw = (u * sw).abs();
  const Eigen::ArrayXd sign = (u * sw).sign();
  const RowsCM vjp = MultiLabelSoftMargin<lossfn::None>(o).backward(x, y, lossfn::weights(sw), u);
  const RowsCM hvjp = MultiLabelSoftMargin<lossfn::None>(o).hessian_diagonal(x, y, lossfn::weights(sw), u);
  const RowsCM g = MultiLabelSoftMargin<lossfn::Sum>(o).backward(x, y, lossfn::weights(uw));
  const RowsCM h = MultiLabelSoftMargin<lossfn::Sum>(o).hessian_diagonal(x, y, lossfn::weights(uw));
  CHECK(max_error(vjp, g.colwise() * sign) < 1e-15);
  CHECK(max_error(hvjp, h.colwise() * sign) < 1e-15);
}

TEST_CASE("MultiLabelSoftMargin: Map, Block and expression inputs; float and long double") {
  const RowsCM x = lossfn_test::random_array<RowsCM>(20, 6, 61, -3, 3);
  const RowsCM y = random_targets<RowsCM>(20, 6, 62);
  const MultiLabelSoftMargin<> loss(Eigen::ArrayXd::LinSpaced(6, 1.0, 2.0));
  const double value = loss.forward(x, y);
  const RowsCM grad = loss.backward(x, y);
  CHECK(loss.forward(x * 1.0, y.min(1.0)) == value);
  RowsRM big = RowsRM::Zero(24, 9), big_y = RowsRM::Zero(24, 9);
  big.block(2, 3, 20, 6) = x;
  big_y.block(2, 3, 20, 6) = y;
  CHECK(scalar_error(loss.forward(big.block(2, 3, 20, 6), big_y.block(2, 3, 20, 6)), value) < 1e-15);
  CHECK(max_error(loss.backward(big.block(2, 3, 20, 6), big_y.block(2, 3, 20, 6)), grad) < 1e-16);
  const Eigen::Map<const RowsCM> map(x.data(), 20, 6);
  CHECK(loss.forward(map, y) == value);
  Eigen::MatrixXd gm(20, 6);
  CHECK(loss.forward_backward(x.matrix(), y.matrix(), gm) == value);
  CHECK(max_error(gm.array(), grad) == 0);
  const Eigen::ArrayXXf xf = x.cast<float>(), yf = y.cast<float>();
  Eigen::ArrayXXf gf(20, 6);
  CHECK(scalar_error(loss.forward_backward(xf, yf, gf), value) < lossfn_test::Tolerance<float>::rel);
  CHECK(max_error(gf, grad) < lossfn_test::Tolerance<float>::rel);
  const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> xl = x.cast<long double>(),
                                                                  yl = y.cast<long double>();
  CHECK(scalar_error(static_cast<double>(loss.forward(xl, yl)), value) < 1e-14);
}

TEST_CASE("MultiLabelSoftMargin: bad options and bad targets raise the contract's errors, before any write") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(MultiLabelSoftMargin<>((Eigen::ArrayXd(2) << 1, -0.5).finished()), std::invalid_argument);
  CHECK_THROWS_AS(MultiLabelSoftMargin<>((Eigen::ArrayXd(2) << 1, nan).finished()), std::invalid_argument);
  CHECK_THROWS_AS(
      MultiLabelSoftMargin<>(with_weights(Eigen::ArrayXd::Constant(2, std::numeric_limits<double>::infinity()))),
      std::invalid_argument);

  const RowsCM x = lossfn_test::random_array<RowsCM>(3, 4, 71, -3, 3);
  const RowsCM good = random_targets<RowsCM>(3, 4, 72);
  const MultiLabelSoftMargin<> loss;
  for (const double value : {1.5, -0.25, nan, -std::numeric_limits<double>::infinity()}) {
    CAPTURE(value);
    RowsCM bad = good;
    bad(1, 2) = value;
    lossfn_test::expect_untouched<std::out_of_range>([&](auto&& g) { return loss.forward_backward(x, bad, g); }, 3, 4);
    lossfn_test::expect_untouched<std::out_of_range>(
        [&](auto&& g) { return MultiLabelSoftMargin<lossfn::Sum>{}.forward_backward_hessian(x, bad, g, RowsCM(3, 4)); },
        3, 4);
    CHECK_THROWS_AS(loss.denominator(x, bad), std::out_of_range);
    CHECK_THROWS_AS(MultiLabelSoftMargin<lossfn::None>{}.forward(x, bad), std::out_of_range);
  }
  RowsCM bad = good;
  bad(1, 2) = 1.5;
  try {
    loss.forward(x, bad);
    FAIL("no exception");
  } catch (const std::out_of_range& e) {
    CHECK(std::string(e.what()) ==
          "lossfn::MultiLabelSoftMargin::forward: target at row 1, column 2 is 1.5, not in [0, 1]");
  }
  // class weights of the wrong length: shape_error at the call
  const MultiLabelSoftMargin<> three(Eigen::ArrayXd::Ones(3));
  lossfn_test::expect_untouched<lossfn::shape_error>([&](auto&& g) { return three.forward_backward(x, good, g); }, 3,
                                                     4);
  CHECK_THROWS_AS(three.hessian_diagonal(x, good), lossfn::shape_error);
  CHECK_THROWS_AS(three.denominator(x, good), lossfn::shape_error);
  // the weights: one per row, finite and >= 0
  const Eigen::ArrayXd negative = (Eigen::ArrayXd(3) << 1, -1, 1).finished();
  lossfn_test::expect_untouched<std::out_of_range>(
      [&](auto&& g) { return loss.forward_backward(x, good, lossfn::weights(negative), g); }, 3, 4);
}
