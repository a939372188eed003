// CrossEntropy: hand-computed values, properties, and the errors only it raises
// against the strong guarantee. Its other test files: test_cross_entropy_gradients.cpp
// (the gradient matrix), _layouts.cpp (layouts and the conformance batteries),
// _extremes.cpp (extreme inputs, numerical edges and error messages).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "conformance.hpp"
#include "cross_entropy_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::CrossEntropy;
using lossfn::CrossEntropyOptions;
using lossfn::Input;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, the reference

TEST_CASE("CrossEntropy: hand-computed values") {
  // logits (1, 2, 3), class 2: -log softmax_2 = log(1 + e^-1 + e^-2) = 0.40760596444438...
  // softmax = (e^-2, e^-1, 1) / (1 + e^-1 + e^-2) = (0.0900306, 0.2447285, 0.6652410)
  RowsCM z(1, 3);
  z << 1, 2, 3;
  const Classes t = Classes::Constant(1, 2);
  const double loss = std::log(1 + std::exp(-1.0) + std::exp(-2.0));
  CHECK(CrossEntropy<>{}.forward(z, t) == Approx(loss).epsilon(1e-15));
  const double total = 1 + std::exp(-1.0) + std::exp(-2.0);
  RowsCM p(1, 3);
  p << std::exp(-2.0) / total, std::exp(-1.0) / total, 1 / total;
  RowsCM y(1, 3);
  y << 0, 0, 1;

  SECTION("the notes: the gradient with respect to logits is p - y (a target summing to 1)") {
    CHECK(max_error(CrossEntropy<>{}.backward(z, t), p - y) < 1e-15);
    CHECK(max_error(CrossEntropy<>{}.backward(z, y), p - y) < 1e-15);
    const RowsCM soft = (RowsCM(1, 3) << 0.2, 0.3, 0.5).finished();
    CHECK(max_error(CrossEntropy<>{}.backward(z, soft), p - soft) < 1e-15);
  }
  SECTION("... and p sum(y) - y when the target does not sum to 1 (the notes' p - y is wrong there)") {
    const RowsCM soft = (RowsCM(1, 3) << 0.5, 0.5, 1.0).finished();  // sums to 2
    const RowsCM grad = CrossEntropy<lossfn::Sum>{}.backward(z, soft);
    CHECK(max_error(grad, 2.0 * p - soft) < 1e-15);
    CHECK(max_error(grad, p - soft) > 0.1);
    // -sum y log p by hand: 0.5 (log T - 1 + 3) + 0.5 (log T - 2 + 3) + (log T - 3 + 3), T = e + e^2 + e^3
    const double log_t = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    CHECK(CrossEntropy<lossfn::Sum>{}.forward(z, soft) ==
          Approx(0.5 * (log_t - 1) + 0.5 * (log_t - 2) + (log_t - 3)).epsilon(1e-14));
  }
  SECTION("probabilities and log-probabilities: -log p_t, gradient -1/p_t and -1") {
    RowsCM probs(2, 2);
    probs << 0.25, 0.75, 0.5, 0.5;
    const Classes two = (Classes(2) << 1, 0).finished();
    CrossEntropyOptions o;
    o.input = Input::Probabilities;
    // (-log 0.75 - log 0.5) / 2
    CHECK(CrossEntropy<>(o).forward(probs, two) == Approx((-std::log(0.75) - std::log(0.5)) / 2).epsilon(1e-15));
    RowsCM expected(2, 2);
    expected << 0, -1 / 0.75 / 2, -1 / 0.5 / 2, 0;
    CHECK(max_error(CrossEntropy<>(o).backward(probs, two), expected) < 1e-15);
    o.input = Input::LogProbabilities;
    // -(log-prob of the target): (-0.75 - 0.5) / 2 with the entries read as log-probabilities
    CHECK(CrossEntropy<>(o).forward(probs, two) == Approx(-(0.75 + 0.5) / 2).epsilon(1e-15));
    expected << 0, -0.5, -0.5, 0;
    CHECK(max_error(CrossEntropy<>(o).backward(probs, two), expected) < 1e-15);
  }
  SECTION("class weights and ignore_index: Mean divides by the counted samples' weights (PyTorch)") {
    RowsCM z3(3, 2);
    z3 << 0, 0, 0, 0, 0, 0;  // every loss is log 2
    const Classes t3 = (Classes(3) << 0, 1, 1).finished();
    CrossEntropyOptions o;
    o.class_weights = (Eigen::ArrayXd(2) << 1.0, 3.0).finished();
    // (1 + 3 + 3) log 2 / (1 + 3 + 3) = log 2; Sum 7 log 2
    CHECK(CrossEntropy<>(o).forward(z3, t3) == Approx(std::log(2.0)).epsilon(1e-15));
    CHECK(CrossEntropy<lossfn::Sum>(o).forward(z3, t3) == Approx(7 * std::log(2.0)).epsilon(1e-15));
    o.ignore_index = 1;  // only row 0 counts: 1 log 2 / 1
    CHECK(CrossEntropy<>(o).forward(z3, t3) == Approx(std::log(2.0)).epsilon(1e-15));
    CHECK(CrossEntropy<lossfn::Sum>(o).forward(z3, t3) == Approx(std::log(2.0)).epsilon(1e-15));
    const RowsCM g = CrossEntropy<lossfn::Sum>(o).backward(z3, t3);
    CHECK((g.bottomRows(2) == 0.0).all());
    CHECK(g(0, 0) == Approx(-0.5));  // w_0 (softmax - y) = (0.5 - 1, 0.5)
    CHECK(g(0, 1) == Approx(0.5));
  }
  SECTION("label smoothing eps: the target is (1 - eps) y + eps / K") {
    CrossEntropyOptions o;
    o.label_smoothing = 0.3;
    // -sum_k ((0.7 [k = 2] + 0.1) log p_k) with log p_k = z_k - 3 - log T', T' = 1 + e^-1 + e^-2
    const double lt = std::log(total);
    const double expected = 0.8 * lt + 0.1 * (2 + lt) + 0.1 * (1 + lt);
    CHECK(CrossEntropy<>(o).forward(z, t) == Approx(expected).epsilon(1e-14));
    const RowsCM smoothed = (RowsCM(1, 3) << 0.1, 0.1, 0.8).finished();
    CHECK(max_error(CrossEntropy<>(o).backward(z, t), p - smoothed) < 1e-15);
  }
}

TEST_CASE("CrossEntropy: properties") {
  const Eigen::Index m = 23, classes = 6;
  const RowsCM z = lossfn_test::random_array<RowsCM>(m, classes, 5, -4, 4);
  const Classes t = lossfn_test::random_classes(m, classes, 6);
  const RowsCM y = lossfn_test::one_hot<RowsCM>(t, classes);
  CrossEntropyOptions weighted;
  weighted.class_weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 8, 0.5, 2.0);
  weighted.label_smoothing = 0.2;

  SECTION("one-hot targets give the same as class indices, for every form and option") {
    for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
      const RowsCM pred = random_pred<RowsCM>(form, m, classes, 9);
      CrossEntropyOptions o;
      o.input = form;
      CHECK(scalar_error(CrossEntropy<>(o).forward(pred, y), CrossEntropy<>(o).forward(pred, t)) < 1e-14);
      CHECK(max_error(CrossEntropy<>(o).backward(pred, y), CrossEntropy<>(o).backward(pred, t)) < 1e-15);
      // with weights and smoothing Sum and None agree; Mean divides by m for soft
      // targets and by the summed weights for indices (as PyTorch)
      weighted.input = form;
      const CrossEntropy<lossfn::Sum> sum(weighted);
      CHECK(scalar_error(sum.forward(pred, y), sum.forward(pred, t)) < 1e-14);
      CHECK(max_error(sum.backward(pred, y), sum.backward(pred, t)) < 1e-14);
      const Eigen::ArrayXd by_y = CrossEntropy<lossfn::None>(weighted).forward(pred, y);
      const Eigen::ArrayXd by_t = CrossEntropy<lossfn::None>(weighted).forward(pred, t);
      CHECK(max_error(by_y, by_t) < 1e-14);
    }
  }
  SECTION("CE on logits = CE on softmax probabilities = CE on log-softmax") {
    const LD p = lossfn_test::reference_softmax(z);
    const RowsCM probs = p.cast<double>(), log_probs = p.log().cast<double>();
    CrossEntropyOptions o;
    const double on_logits = CrossEntropy<>(o).forward(z, t);
    o.input = Input::Probabilities;
    CHECK(CrossEntropy<>(o).forward(probs, t) == Approx(on_logits).epsilon(1e-14));
    o.input = Input::LogProbabilities;
    CHECK(CrossEntropy<>(o).forward(log_probs, t) == Approx(on_logits).epsilon(1e-14));
    // and the log-probability gradient is the logit gradient's -y part
    CHECK(max_error(CrossEntropy<>(o).backward(log_probs, t), -y / double(m)) < 1e-15);
  }
  SECTION("label smoothing 0 = no smoothing; smoothing = (1 - eps) CE + eps/K sum_k CE(class k)") {
    CrossEntropyOptions o;
    o.label_smoothing = 0.0;
    CHECK(CrossEntropy<>(o).forward(z, t) == CrossEntropy<>{}.forward(z, t));
    o.label_smoothing = 0.3;
    double mixed = 0.7 * CrossEntropy<>{}.forward(z, t);
    for (int k = 0; k < classes; ++k) mixed += 0.3 / classes * CrossEntropy<>{}.forward(z, Classes::Constant(m, k));
    CHECK(CrossEntropy<>(o).forward(z, t) == Approx(mixed).epsilon(1e-14));
  }
  SECTION("weights of all ones = no weights") {
    CrossEntropyOptions ones;
    ones.class_weights = Eigen::ArrayXd::Ones(classes);
    ones.label_smoothing = 0.1;
    CrossEntropyOptions none;
    none.label_smoothing = 0.1;
    CHECK(scalar_error(CrossEntropy<>(ones).forward(z, t), CrossEntropy<>(none).forward(z, t)) < 1e-15);
    CHECK(max_error(CrossEntropy<>(ones).backward(z, t), CrossEntropy<>(none).backward(z, t)) < 1e-16);
    CHECK(scalar_error(CrossEntropy<>(ones).forward(z, y), CrossEntropy<>(none).forward(z, y)) < 1e-15);
  }
  SECTION("every sample ignored: loss 0, gradient 0, under Sum, Mean and None") {
    CrossEntropyOptions o;
    o.ignore_index = 3;
    o.label_smoothing = 0.2;
    o.class_weights = weighted.class_weights;
    const Classes all = Classes::Constant(m, 3);
    CHECK(CrossEntropy<>(o).forward(z, all) == 0.0);
    CHECK(CrossEntropy<lossfn::Sum>(o).forward(z, all) == 0.0);
    RowsCM g = RowsCM::Constant(m, classes, 9.0);
    CHECK(CrossEntropy<>(o).forward_backward(z, all, g) == 0.0);
    CHECK((g == 0.0).all());
    CHECK((CrossEntropy<lossfn::None>(o).forward(z, all) == 0.0).all());
  }
  SECTION("any integer type of class index; a negative ignore_index such as PyTorch's -100") {
    const double expected = CrossEntropy<>{}.forward(z, t);
    CHECK(CrossEntropy<>{}.forward(z, t.cast<long>()) == expected);
    CHECK(CrossEntropy<>{}.forward(z, t.cast<unsigned>()) == expected);
    CHECK(CrossEntropy<>{}.forward(z, t.cast<std::int64_t>()) == expected);
    CHECK(CrossEntropy<>{}.forward(z, t.cast<std::uint8_t>()) == expected);
    CHECK(CrossEntropy<>{}.forward(z, t.cast<short>()) == expected);
    CHECK(CrossEntropy<>{}.forward(z, t.matrix()) == expected);
    CrossEntropyOptions o;
    o.ignore_index = -100;
    Classes with_ignored = t;
    with_ignored(0) = -100;
    CHECK(CrossEntropy<lossfn::Sum>(o).forward(z, with_ignored) ==
          Approx(CrossEntropy<lossfn::Sum>{}.forward(z.bottomRows(m - 1), t.tail(m - 1))).epsilon(1e-14));
    o.ignore_index = -1;  // unsigned targets never equal a negative ignore_index
    CHECK(CrossEntropy<>(o).forward(z, t.cast<unsigned>()) == expected);
  }
}

TEST_CASE("strong guarantee: CrossEntropy, class indices and options") {
  // the errors the conformance battery cannot provoke generically; each against
  // buffers full of a sentinel (lossfn_test::expect_untouched)
  using lossfn_test::expect_untouched;
  RowsCM pred(3, 4);
  for (Eigen::Index i = 0; i < pred.size(); ++i) pred(i) = -0.75 + 0.25 * static_cast<double>(i);
  const CrossEntropy<lossfn::Mean> ce;
  const CrossEntropy<lossfn::Sum> ce_sum;

  // a class index out of range in the LAST row: found by the O(m) scan before any write
  Eigen::ArrayXi bad_index(3);
  bad_index << 0, 3, 4;
  expect_untouched<std::out_of_range>([&](auto&& g) { return ce.forward_backward(pred, bad_index, g); }, 3, 4);
  Eigen::Array<unsigned, Eigen::Dynamic, 1> bad_unsigned(3);
  bad_unsigned << 1, 2, 7;
  expect_untouched<std::out_of_range>([&](auto&& g) { return ce_sum.forward_backward(pred, bad_unsigned, g); }, 3, 4);
  Eigen::ArrayXi negative(3);
  negative << -1, 0, 0;
  expect_untouched<std::out_of_range>([&](auto&& g) { return ce.forward_backward(pred, negative, g); }, 3, 4);

  // an integer target with more than one column
  const Eigen::ArrayXXi two_columns = Eigen::ArrayXXi::Zero(3, 2);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce.forward_backward(pred, two_columns, g); }, 3, 4);

  // soft target with ignore_index
  CrossEntropyOptions ignoring;
  ignoring.ignore_index = 1;
  const CrossEntropy<> ce_ignore(ignoring);
  const RowsCM soft = RowsCM::Constant(3, 4, 0.25);
  expect_untouched<std::invalid_argument>([&](auto&& g) { return ce_ignore.forward_backward(pred, soft, g); }, 3, 4);

  // class_weights of the wrong length
  CrossEntropyOptions weighted;
  weighted.class_weights = Eigen::ArrayXd::Ones(5);
  const CrossEntropy<> ce_weighted(weighted);
  const Eigen::ArrayXi good(Eigen::ArrayXi::Zero(3));
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce_weighted.forward_backward(pred, good, g); }, 3, 4);
}
