// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
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

namespace {

using LD = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;
using Classes = Eigen::ArrayXi;

const char* form_name(Input form) {
  return form == Input::Logits ? "logits" : form == Input::Probabilities ? "probabilities" : "log-probabilities";
}

/// A prediction in the given form, away from where finite differences suffer:
/// probabilities in [0.05, 1] (not normalised: they are used as given).
template <class Plain>
Plain random_pred(Input form, Eigen::Index m, Eigen::Index classes, unsigned seed) {
  if (form == Input::Probabilities) return lossfn_test::random_array<Plain>(m, classes, seed, 0.05, 1.0);
  if (form == Input::LogProbabilities) return lossfn_test::random_array<Plain>(m, classes, seed, -4.0, -0.1);
  return lossfn_test::random_array<Plain>(m, classes, seed, -3.0, 3.0);
}

// ---- the reference: PyTorch's definitions, written out naively in long double ----

/// log q per entry: log-softmax (naive, long double), log p, or the entry itself.
template <class Plain>
LD reference_log_q(const Plain& pred, Input form) {
  if (form == Input::Logits) return lossfn_test::reference_softmax(pred).log();
  if (form == Input::Probabilities) return pred.template cast<long double>().log();
  return pred.template cast<long double>();
}

/// The weighted, smoothed target c of class indices, and Mean's divisor (the
/// summed weights of the counted samples), as torch.nn.functional.cross_entropy.
std::pair<LD, long double> reference_c(const Classes& t, Eigen::Index classes, const CrossEntropyOptions& o) {
  const long double eps = o.label_smoothing;
  const auto w = [&](Eigen::Index k) { return o.class_weights.size() ? (long double)o.class_weights(k) : 1.0L; };
  LD c = LD::Zero(t.rows(), classes);
  long double divisor = 0;
  for (Eigen::Index i = 0; i < t.rows(); ++i) {
    if (o.ignore_index && t(i) == *o.ignore_index) continue;
    divisor += w(t(i));
    c(i, t(i)) += (1 - eps) * w(t(i));
    for (Eigen::Index k = 0; k < classes; ++k) c(i, k) += eps / (long double)classes * w(k);
  }
  return {c, divisor};
}

/// The same for soft targets y: c_ik = w_k ((1 - eps) y_ik + eps / K), divisor m.
template <class Plain>
std::pair<LD, long double> reference_c(const Plain& y, Eigen::Index classes, const CrossEntropyOptions& o) {
  const long double eps = o.label_smoothing;
  LD c = (1 - eps) * y.template cast<long double>() + eps / (long double)classes;
  if (o.class_weights.size()) c.rowwise() *= o.class_weights.cast<long double>().transpose();
  return {c, (long double)y.rows()};
}

/// Per-sample losses -sum_k c_ik log q_ik, a term with c_ik = 0 counting 0.
LD reference_losses(const LD& c, const LD& log_q) {
  LD terms = (c == 0).select(LD::Zero(c.rows(), c.cols()), -c * log_q);
  return terms.rowwise().sum();
}

/// The option sets of the matrix (ignore_index only for index targets).
std::vector<std::pair<std::string, CrossEntropyOptions>> option_sets(Eigen::Index classes, bool index_targets) {
  Eigen::ArrayXd weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 77, 0.2, 2.0);
  std::vector<std::pair<std::string, CrossEntropyOptions>> sets;
  CrossEntropyOptions o;
  sets.emplace_back("plain", o);
  o.class_weights = weights;
  sets.emplace_back("weights", o);
  o = {};
  o.label_smoothing = 0.1;
  sets.emplace_back("smoothing", o);
  if (index_targets) {
    o = {};
    o.ignore_index = 1;
    sets.emplace_back("ignore_index", o);
  }
  o = {};
  o.class_weights = weights;
  o.label_smoothing = 0.25;
  if (index_targets) o.ignore_index = 0;
  sets.emplace_back("combined", o);
  return sets;
}

template <class Plain, class Target>
void check_point(const std::string& what, const CrossEntropyOptions& options, const Plain& pred, const Target& target,
                 unsigned seed) {
  const auto c_and_divisor = reference_c(target, pred.cols(), options);
  const LD losses = reference_losses(c_and_divisor.first, reference_log_q(pred, options.input));
  const double divisor = static_cast<double>(c_and_divisor.second);
  CAPTURE(what);
  // values against the reference
  const Eigen::ArrayXd terms = CrossEntropy<lossfn::None>(options).forward(pred, target);
  CHECK(max_error(terms, losses.cast<double>()) < 1e-13);
  const double sum = static_cast<double>(losses.sum());
  CHECK(scalar_error(CrossEntropy<lossfn::Sum>(options).forward(pred, target), sum) < 1e-13);
  CHECK(scalar_error(CrossEntropy<>(options).forward(pred, target), divisor > 0 ? sum / divisor : 0.0) < 1e-13);
  // gradients
  const auto make = [&](auto reduction) { return CrossEntropy<decltype(reduction)>(options); };
  lossfn_test::check_rowwise_gradients("CrossEntropy", make, pred, target, divisor, seed);
}

template <class Plain>
void run_matrix(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    const Plain pred = random_pred<Plain>(form, m, classes, seed);
    const Classes t = lossfn_test::random_classes(m, classes, seed + 1);
    const Plain distributions = lossfn_test::random_distributions<Plain>(m, classes, seed + 2);
    // soft targets that do not sum to 1, with exact zeros
    Plain loose = lossfn_test::random_array<Plain>(m, classes, seed + 3, -0.5, 1.5);
    loose = loose.max(0.0);
    for (const auto& named : option_sets(classes, true)) {
      CrossEntropyOptions o = named.second;
      o.input = form;
      check_point(std::string(form_name(form)) + ", index targets, " + named.first, o, pred, t, seed + 4);
    }
    for (const auto& named : option_sets(classes, false)) {
      CrossEntropyOptions o = named.second;
      o.input = form;
      check_point(std::string(form_name(form)) + ", soft targets, " + named.first, o, pred, distributions, seed + 5);
      check_point(std::string(form_name(form)) + ", unnormalised soft targets, " + named.first, o, pred, loose,
                  seed + 6);
    }
  }
}

}  // namespace

TEST_CASE("CrossEntropy: every input form x target form x option x reduction, against finite differences") {
  // 150 rows: four full column-major blocks (32 rows in double) and a tail;
  // 300 classes: a row-major row in two pieces (256 + 44)
  const Eigen::Index shapes[][2] = {{1, 2}, {7, 3}, {64, 10}, {150, 4}, {2, 300}};
  unsigned seed = 100;
  for (const auto& shape : shapes) {
    run_matrix<RowsCM>(shape[0], shape[1], seed);
    run_matrix<RowsRM>(shape[0], shape[1], seed + 50);
    seed += 100;
  }
}

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

TEST_CASE("CrossEntropy: storage orders, Map, Block, Matrix and expression inputs") {
  const Eigen::Index m = 19, classes = 5;
  const RowsCM z = lossfn_test::random_array<RowsCM>(m, classes, 31, -3, 3);
  const Classes t = lossfn_test::random_classes(m, classes, 32);
  const RowsCM y = lossfn_test::random_distributions<RowsCM>(m, classes, 33);
  CrossEntropyOptions o;
  o.label_smoothing = 0.1;
  o.class_weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 34, 0.5, 2.0);
  const CrossEntropy<> ce(o);
  const double value = ce.forward(z, t);
  const RowsCM grad = ce.backward(z, t);

  const RowsRM z_rm = z;
  CHECK(scalar_error(ce.forward(z_rm, t), value) < 1e-15);
  CHECK(max_error(ce.backward(z_rm, t), grad) < 1e-16);
  CHECK(scalar_error(ce.forward(z_rm, y), ce.forward(z, y)) < 1e-15);
  CHECK(scalar_error(ce.forward(z, RowsRM(y)), ce.forward(z, y)) < 1e-15);  // mixed orders
  CHECK(scalar_error(ce.forward(z.matrix(), t.matrix()), value) < 1e-15);
  const Eigen::MatrixXd gm = ce.backward(z.matrix(), t);
  CHECK(max_error(gm, grad) < 1e-16);
  CHECK(scalar_error(ce.forward(z * 1.0, t + 0), value) < 1e-15);  // unevaluated expressions

  // a Block of a larger array, a strided Map, and a Block as the output
  RowsCM big = RowsCM::Constant(m + 4, classes + 3, 50.0);
  big.block(2, 1, m, classes) = z;
  CHECK(scalar_error(ce.forward(big.block(2, 1, m, classes), t), value) < 1e-15);
  RowsRM big_grad = RowsRM::Constant(m + 2, classes + 2, 7.0);
  CHECK(scalar_error(ce.forward_backward(big.block(2, 1, m, classes), t, big_grad.block(1, 1, m, classes)), value) <
        1e-15);
  CHECK(max_error(big_grad.block(1, 1, m, classes), grad) < 1e-16);
  big_grad.block(1, 1, m, classes).setConstant(7.0);
  CHECK((big_grad == 7.0).all());  // nothing outside the block was written
  const Eigen::Map<const RowsCM, 0, Eigen::OuterStride<>> strided(big.data() + 2 + big.rows(), m, classes,
                                                                  Eigen::OuterStride<>(big.rows()));
  CHECK(scalar_error(ce.forward(strided, t), value) < 1e-15);
  Eigen::ArrayXi wide_targets = Eigen::ArrayXi::Zero(2 * m);
  for (Eigen::Index i = 0; i < m; ++i) wide_targets(2 * i) = t(i);
  const Eigen::Map<const Eigen::ArrayXi, 0, Eigen::InnerStride<2>> every_other(wide_targets.data(), m);
  CHECK(scalar_error(ce.forward(z, every_other), value) < 1e-15);
  // a resizable gradient is resized; a Ref works as the output
  RowsCM empty;
  ce.forward_backward(z, t, empty);
  CHECK(max_error(empty, grad) < 1e-16);
  Eigen::MatrixXd out(m, classes);
  Eigen::Ref<Eigen::MatrixXd> ref(out);
  ce.forward_backward(z, t, ref);
  CHECK(max_error(out, grad) < 1e-16);
}

TEST_CASE("CrossEntropy: float agrees with double; long double compiles") {
  const Eigen::Index m = 150, classes = 7;  // full column-major float blocks (64 rows) and a tail
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    CAPTURE(form_name(form));
    const Eigen::ArrayXXf pred = random_pred<RowsCM>(form, m, classes, 41).cast<float>();
    const Eigen::ArrayXXf y = lossfn_test::random_distributions<RowsCM>(m, classes, 42).cast<float>();
    const Classes t = lossfn_test::random_classes(m, classes, 43);
    CrossEntropyOptions o;
    o.input = form;
    o.label_smoothing = 0.1;
    o.class_weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 44, 0.5, 2.0);
    const CrossEntropy<> ce(o);
    const RowsCM pred_d = pred.cast<double>(), y_d = y.cast<double>();
    const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> pred_rm = pred;
    Eigen::ArrayXXf g(m, classes);
    const float value = ce.forward_backward(pred, t, g);
    CHECK(scalar_error(value, ce.forward(pred_d, t)) < lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(g, ce.backward(pred_d, t)) < lossfn_test::Tolerance<float>::rel);
    CHECK(scalar_error(ce.forward(pred_rm, y), ce.forward(pred_d, y_d)) < lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(ce.backward(pred_rm, y), ce.backward(pred_d, y_d)) < lossfn_test::Tolerance<float>::rel);
    const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> pred_l = pred_d.cast<long double>();
    CHECK(scalar_error(static_cast<double>(ce.forward(pred_l, t)), ce.forward(pred_d, t)) < 1e-13);
  }
}

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

TEST_CASE("CrossEntropy: forward (Sum, Mean) and forward_backward into a caller's gradient allocate nothing") {
  const Eigen::Index m = 150, classes = 9;  // column-major: full blocks and a tail
  const Classes t = lossfn_test::random_classes(m, classes, 101);
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    CAPTURE(form_name(form));
    const RowsCM z = random_pred<RowsCM>(form, m, classes, 102);
    const RowsRM z_rm = z;
    const RowsCM y = lossfn_test::random_distributions<RowsCM>(m, classes, 103);
    const Eigen::ArrayXXf zf = z.cast<float>(), yf = y.cast<float>();
    RowsCM g(m, classes);
    RowsRM g_rm(m, classes);
    Eigen::ArrayXXf gf(m, classes);
    CrossEntropyOptions o;
    o.input = form;
    o.label_smoothing = 0.1;
    o.class_weights = Eigen::ArrayXd::Constant(classes, 2.0);
    o.ignore_index = 4;
    const CrossEntropy<> mean(o), plain;
    const CrossEntropy<lossfn::Sum> sum(o);
    o.ignore_index.reset();
    const CrossEntropy<> soft(o);
    const lossfn_test::NoHeapAllocation no_heap;
    CHECK_THROWS_AS(Eigen::ArrayXd(3), lossfn_test::eigen_assertion_failed);  // the guard works
    CHECK_NOTHROW(mean.forward(z, t));
    CHECK_NOTHROW(sum.forward(z_rm, t));
    CHECK_NOTHROW(mean.forward_backward(z, t, g));
    CHECK_NOTHROW(sum.forward_backward(z_rm, t, g_rm));
    CHECK_NOTHROW(plain.forward_backward(z, t, g));
    CHECK_NOTHROW(soft.forward(z, y));
    CHECK_NOTHROW(soft.forward_backward(z_rm, y, g_rm));
    CHECK_NOTHROW(soft.forward_backward(zf, yf, gf));
    CHECK_NOTHROW(mean.forward_backward(zf, t, gf));
  }
}
