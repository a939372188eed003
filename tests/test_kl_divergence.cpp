// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>
#include <lossfn/kl_divergence.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::Input;
using lossfn::KLDivergence;
using lossfn::KLDivergenceOptions;
using lossfn_test::ContainsSubstring;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;

namespace {

using LD = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;
constexpr double kInf = std::numeric_limits<double>::infinity();

KLDivergenceOptions options(Input input, bool log_target) {
  KLDivergenceOptions o;
  o.input = input;
  o.log_target = log_target;
  return o;
}

/// Q in the given form: probabilities in [0.05, 1] (used as given, not normalised).
template <class Plain>
Plain random_q(Input form, Eigen::Index m, Eigen::Index classes, unsigned seed) {
  if (form == Input::Probabilities) return lossfn_test::random_array<Plain>(m, classes, seed, 0.05, 1.0);
  if (form == Input::LogProbabilities) return lossfn_test::random_array<Plain>(m, classes, seed, -4.0, -0.1);
  return lossfn_test::random_array<Plain>(m, classes, seed, -3.0, 3.0);
}

/// The reference, in long double: sum_k P_k (log P_k - log Q_k) per row, 0 log 0 = 0.
template <class Plain>
LD reference_kl(const Plain& q, const Plain& p, Input form) {
  LD log_q = q.template cast<long double>();
  if (form == Input::Logits) log_q = lossfn_test::reference_softmax(q).log();
  if (form == Input::Probabilities) log_q = log_q.log();
  const LD pl = p.template cast<long double>();
  LD terms = LD::Zero(p.rows(), p.cols());
  for (Eigen::Index i = 0; i < p.rows(); ++i)
    for (Eigen::Index k = 0; k < p.cols(); ++k)
      if (pl(i, k) != 0) terms(i, k) = pl(i, k) * (std::log(pl(i, k)) - log_q(i, k));
  return terms.rowwise().sum();
}

template <class Plain>
void run_matrix(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    const Plain q = random_q<Plain>(form, m, classes, seed);
    // a target with exact zeros (0 log 0 = 0) that still sums to 1 per row
    Plain p = lossfn_test::random_distributions<Plain>(m, classes, seed + 1);
    if (classes > 2) p.col(1).setZero();
    for (Eigen::Index i = 0; i < m; ++i) p.row(i) /= p.row(i).sum();
    const Plain log_p = p.log();  // -inf where p = 0
    const LD expected = reference_kl(q, p, form);
    for (bool log_target : {false, true}) {
      CAPTURE(static_cast<int>(form), log_target);
      const KLDivergenceOptions o = options(form, log_target);
      const Plain& target = log_target ? log_p : p;
      const Eigen::ArrayXd terms = KLDivergence<lossfn::None>(o).forward(q, target);
      CHECK(max_error(terms, expected.cast<double>()) < 1e-13);
      CHECK(scalar_error(KLDivergence<>(o).forward(q, target), static_cast<double>(expected.sum() / m)) < 1e-13);
      const auto make = [&](auto reduction) { return KLDivergence<decltype(reduction)>(o); };
      lossfn_test::check_rowwise_gradients("KLDivergence", make, q, target, static_cast<double>(m), seed + 2);
      // soft targets that do not sum to 1 get the true gradient as well
      const Plain loose = 1.7 * p;
      const Plain loose_target = log_target ? Plain(loose.log()) : loose;
      lossfn_test::check_rowwise_gradients("KLDivergence", make, q, loose_target, static_cast<double>(m), seed + 3);
    }
  }
}

/// KL<Sum> from logits whose exp underflows (-1e30 below the row max) beside targets
/// near the largest finite value (outside the domain): the gradient's factor
/// u sum_k P_k / sum_k exp(z_k - max) is about that value, enough to lift Eigen's
/// vectorised exp(-1e30) (about 2.9e-39 in float, 5.6e-309 in double, where std::exp
/// gives 0) to a gradient entry of about 1. Which entries Eigen computes vectorised
/// depends on the gradient buffer's address, so backward (a fresh array) and
/// forward_backward into a Map disagreed (the fuzz finding
/// regression-kl-underflowed-softmax-huge-target). IEEE's answer, for every buffer:
/// softmax 0 there, so the entry is 0 x factor - P_k = -P_k, and 0 x inf = NaN
/// where the factor overflows.
template <class T, int Order>
void check_underflowed_softmax_times_huge_factor() {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using Strided = Eigen::Map<Plain, 0, Eigen::OuterStride<>>;
  const T big = std::numeric_limits<T>::max(), low = T(-1e30), inf = std::numeric_limits<T>::infinity();
  const Eigen::Index m = 13, classes = 7;  // rows 0-9: finite factor; 10: infinite; 11: the finding's row; 12: NaN
  Plain z = Plain::Constant(m, classes, low), p = Plain::Zero(m, classes);
  Plain expected = Plain::Zero(m, classes);
  for (Eigen::Index i = 0; i < 11; ++i) {  // the row max (logit 0) and the big target move across the columns
    const Eigen::Index top = i % classes;
    z(i, top) = 0;
    p(i, top) = big;  // factor = big: entry 1 x big - big = 0
    p(i, (top + 2) % classes) = T(0.5);
    p(i, (top + 3) % classes) = T(-1);
    expected(i, (top + 2) % classes) = T(-0.5);
    expected(i, (top + 3) % classes) = T(1);
  }
  p(10, 1) = big;  // row 10: the factor overflows: inf at the max, 0 x inf = NaN elsewhere
  expected.row(10).setConstant(std::numeric_limits<T>::quiet_NaN());
  expected(10, 10 % classes) = inf;
  // row 11, from the fuzz finding (float's largest value in place of big there)
  const T z11[] = {T(0), low, low, low, T(-9.293940544128418), low, low};
  const T p11[] = {T(88.69999694824219), T(0), big, T(-1e30), T(0), T(0), T(0)};
  for (Eigen::Index k = 0; k < classes; ++k) {
    z(11, k) = z11[k];
    p(11, k) = p11[k];
    expected(11, k) = -p11[k];  // the underflowed classes; 0 and 4 below
  }
  const long double e4 = std::exp(static_cast<long double>(z11[4])), norm = 1 + e4;
  long double c = 0;
  for (const T v : p11) c += v;
  const long double expected_0 = c / norm - p11[0], expected_4 = e4 * c / norm;
  // row 12: a NaN target makes the whole row NaN
  z(12, 0) = 0;
  p(12, 0) = T(1);
  p(12, 3) = std::numeric_limits<T>::quiet_NaN();
  expected.row(12).setConstant(std::numeric_limits<T>::quiet_NaN());

  const KLDivergence<lossfn::Sum> kl;
  const auto check_gradient = [&](const auto& g) {
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index k = 0; k < classes; ++k) {
        CAPTURE(i, k);
        if (i == 11 && (k == 0 || k == 4)) {
          const long double want = k == 0 ? expected_0 : expected_4;
          CHECK(std::abs(static_cast<long double>(g(i, k)) - want) <=
                lossfn_test::Tolerance<T>::rel * std::max(1.0L, std::abs(want)));
        } else if (std::isnan(expected(i, k))) {
          CHECK(std::isnan(g(i, k)));
        } else {
          CHECK(g(i, k) == expected(i, k));
        }
      }
    }
  };
  check_gradient(kl.backward(z, p));
  std::vector<T> buffer(32 + 3 * m * classes);
  for (Eigen::Index offset = 0; offset < 16; ++offset) {  // every alignment of a 64-byte line
    for (Eigen::Index gap = 0; gap < 3; ++gap) {
      CAPTURE(offset, gap);
      const Eigen::Index inner = Order == Eigen::RowMajor ? classes : m;
      Strided g(buffer.data() + offset, m, classes, Eigen::OuterStride<>(inner + gap));
      kl.forward_backward(z, p, g);
      check_gradient(g);
    }
  }
}

}  // namespace

TEST_CASE("KLDivergence: every input form x log_target x reduction, against finite differences") {
  // 150 rows: four full column-major blocks (32 rows in double) and a tail;
  // 300 classes: a row-major row in two pieces (256 + 44)
  const Eigen::Index shapes[][2] = {{1, 2}, {7, 3}, {64, 10}, {150, 4}, {3, 300}};
  unsigned seed = 200;
  for (const auto& shape : shapes) {
    run_matrix<RowsCM>(shape[0], shape[1], seed);
    run_matrix<RowsRM>(shape[0], shape[1], seed + 50);
    seed += 100;
  }
}

TEST_CASE("KLDivergence: hand-computed values") {
  RowsCM p(2, 2), q(2, 2);
  p << 0.5, 0.5, 1.0, 0.0;
  q << 0.25, 0.75, 0.5, 0.5;
  // row 0: 0.5 log(0.5 / 0.25) + 0.5 log(0.5 / 0.75) = 0.5 log(4/3); row 1: 1 log(1 / 0.5) + 0 = log 2
  const double row0 = 0.5 * std::log(4.0 / 3.0), row1 = std::log(2.0);
  const KLDivergence<> kl(options(Input::Probabilities, false));
  CHECK(kl.forward(q, p) == Approx((row0 + row1) / 2).epsilon(1e-15));  // batchmean
  CHECK(KLDivergence<lossfn::Sum>(options(Input::Probabilities, false)).forward(q, p) ==
        Approx(row0 + row1).epsilon(1e-15));
  RowsCM expected(2, 2);  // -P / Q / m
  expected << -2.0 / 2, -(0.5 / 0.75) / 2, -2.0 / 2, 0.0;
  CHECK(max_error(kl.backward(q, p), expected) < 1e-15);
  // logits: the notes' (p - y) / m for a normalised target
  const RowsCM z = q.log() + 3.0;  // softmax(z) = q, rows of q sum to 1
  CHECK(KLDivergence<>{}.forward(z, p) == Approx((row0 + row1) / 2).epsilon(1e-14));
  CHECK(max_error(KLDivergence<>{}.backward(z, p), (q - p) / 2.0) < 1e-15);
  // log-probabilities: -P / m
  CHECK(max_error(KLDivergence<>(options(Input::LogProbabilities, false)).backward(q.log(), p), -p / 2.0) < 1e-16);
}

TEST_CASE("KLDivergence: properties") {
  const Eigen::Index m = 21, classes = 5;
  const RowsCM p = lossfn_test::random_distributions<RowsCM>(m, classes, 71);
  const RowsCM q = lossfn_test::random_distributions<RowsCM>(m, classes, 72);

  SECTION("KL(P || P) = 0 with a zero gradient, for every form of Q") {
    CHECK(std::abs(KLDivergence<>(options(Input::Probabilities, false)).forward(p, p)) < 1e-16);
    // (Eigen's vectorised and scalar log may differ in the last bit: not exactly 0)
    CHECK(std::abs(KLDivergence<>(options(Input::LogProbabilities, false)).forward(RowsCM(p.log()), p)) < 1e-15);
    CHECK(std::abs(KLDivergence<>{}.forward(RowsCM(p.log() - 1.5), p)) < 1e-15);
    CHECK(std::abs(KLDivergence<>(options(Input::Logits, true)).forward(RowsCM(p.log() + 2.0), RowsCM(p.log()))) <
          1e-15);
    CHECK(KLDivergence<>{}.backward(RowsCM(p.log()), p).abs().maxCoeff() < 1e-16);
  }
  SECTION("KL >= 0 for normalised P and Q, every sample, every form") {
    CHECK((KLDivergence<lossfn::None>(options(Input::Probabilities, false)).forward(q, p) >= 0).all());
    CHECK((KLDivergence<lossfn::None>(options(Input::LogProbabilities, false)).forward(RowsCM(q.log()), p) >= 0).all());
    const RowsCM z = lossfn_test::random_array<RowsCM>(m, classes, 73, -5, 5);
    CHECK((KLDivergence<lossfn::None>{}.forward(z, p) >= 0).all());
  }
  SECTION("for one-hot P, KL = CE (the entropy of P is 0), value and gradient") {
    const Eigen::ArrayXi t = lossfn_test::random_classes(m, classes, 74);
    const RowsCM y = lossfn_test::one_hot<RowsCM>(t, classes);
    const RowsCM z = lossfn_test::random_array<RowsCM>(m, classes, 75, -5, 5);
    for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
      const RowsCM pred = form == Input::Logits ? z : form == Input::Probabilities ? q : RowsCM(q.log());
      lossfn::CrossEntropyOptions ce;
      ce.input = form;
      CHECK(KLDivergence<>(options(form, false)).forward(pred, y) ==
            Approx(lossfn::CrossEntropy<>(ce).forward(pred, t)).epsilon(1e-14));
      CHECK(max_error(KLDivergence<>(options(form, false)).backward(pred, y),
                      lossfn::CrossEntropy<>(ce).backward(pred, t)) < 1e-15);
      // the same with P given as log P (log 0 = -inf)
      CHECK(KLDivergence<>(options(form, true)).forward(pred, RowsCM(y.log())) ==
            Approx(lossfn::CrossEntropy<>(ce).forward(pred, t)).epsilon(1e-14));
    }
  }
  SECTION("KL = CE(P, Q) - H(P)") {
    lossfn::CrossEntropyOptions ce;
    ce.input = Input::Probabilities;
    const double entropy = -(p * p.log()).sum() / m;
    CHECK(KLDivergence<>(options(Input::Probabilities, false)).forward(q, p) ==
          Approx(lossfn::CrossEntropy<>(ce).forward(q, p) - entropy).epsilon(1e-14));
  }
}

TEST_CASE("KLDivergence: zeros, extremes, storage orders and float") {
  SECTION("0 log 0 = 0: a zero target contributes nothing and no NaN, even where Q = 0") {
    RowsCM p(1, 3), q(1, 3);
    p << 0.0, 0.25, 0.75;
    q << 0.0, 0.5, 0.5;
    const double expected = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);  // sum P log(P / Q) by hand
    const KLDivergence<lossfn::Sum> kl(options(Input::Probabilities, false));
    CHECK(kl.forward(q, p) == Approx(expected).epsilon(1e-15));
    const RowsCM g = kl.backward(q, p);
    CHECK(g.allFinite());
    CHECK(g(0, 0) == 0.0);
    const KLDivergence<lossfn::Sum> log_kl(options(Input::LogProbabilities, true));
    CHECK(log_kl.forward(RowsCM(q.log()), RowsCM(p.log())) == Approx(expected).epsilon(1e-15));
    CHECK(log_kl.backward(RowsCM(q.log()), RowsCM(p.log())).allFinite());
    const RowsCM z = (RowsCM(1, 3) << -kInf, 0.0, 0.0).finished();  // softmax(z) = q
    CHECK(KLDivergence<lossfn::Sum>{}.forward(z, p) == Approx(expected).epsilon(1e-15));
    CHECK(KLDivergence<lossfn::Sum>{}.backward(z, p).allFinite());
    // P > 0 where Q = 0: +inf, as the math says
    CHECK(kl.forward(q, RowsCM((RowsCM(1, 3) << 0.5, 0.25, 0.25).finished())) == kInf);
  }
  SECTION("a guarded piece or block among unguarded ones: 0 log 0 and subnormal Q give the exact sums") {
    // Terms P log Q are summed unguarded; a row-major piece (256 entries) or a
    // column-major block (32 rows in double) whose sum is NaN, or whose Q has a
    // subnormal entry, is summed again exactly. Only row 1 (piece 2) and row 40
    // (a subnormal Q) need that here.
    const Eigen::Index m = 70, classes = 600;
    RowsRM q = lossfn_test::random_array<RowsRM>(m, classes, 97, 0.05, 1.0);
    RowsRM p = lossfn_test::random_distributions<RowsRM>(m, classes, 98);
    q(1, 400) = 0.0;
    p(1, 400) = 0.0;     // 0 log 0 = 0 in the third piece of row 1
    q(40, 10) = 1e-310;  // subnormal: Eigen's vectorised log would take it as 2.2e-308
    p(40, 10) = 1e-10;
    const KLDivergenceOptions o = options(Input::Probabilities, false);
    const LD expected = reference_kl(q, p, Input::Probabilities);
    for (const bool row_major : {true, false}) {
      CAPTURE(row_major);
      const Eigen::ArrayXd terms = row_major
                                       ? Eigen::ArrayXd(KLDivergence<lossfn::None>(o).forward(q, p))
                                       : Eigen::ArrayXd(KLDivergence<lossfn::None>(o).forward(RowsCM(q), RowsCM(p)));
      CHECK(max_error(terms, expected.cast<double>()) < 1e-13);
      const RowsCM g = row_major ? RowsCM(KLDivergence<lossfn::Sum>(o).backward(q, p))
                                 : KLDivergence<lossfn::Sum>(o).backward(RowsCM(q), RowsCM(p));
      CHECK(g(1, 400) == 0.0);
      CHECK(g(40, 10) == Approx(-1e-10 / 1e-310).epsilon(1e-15));
      RowsCM expected_g = -p / q;
      expected_g(1, 400) = 0.0;  // P = 0: exactly 0, not -0 / 0
      CHECK(max_error(g, expected_g) < 1e-15);
    }
    // float: a subnormal Q of 1e-40 counts with its exact log, in both orders
    using RowsF = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    RowsF qf = q.cast<float>(), pf = p.cast<float>();
    qf(40, 10) = 1e-40f;
    pf(40, 10) = 0.5f;
    const LD expected_f = reference_kl(RowsRM(qf.cast<double>()), RowsRM(pf.cast<double>()), Input::Probabilities);
    const Eigen::ArrayXf terms_rm = KLDivergence<lossfn::None>(o).forward(qf, pf);
    const Eigen::ArrayXf terms_cm = KLDivergence<lossfn::None>(o).forward(Eigen::ArrayXXf(qf), Eigen::ArrayXXf(pf));
    CHECK(std::abs(static_cast<long double>(terms_rm(40)) - expected_f(40)) < 1e-5L * std::abs(expected_f(40)));
    CHECK(std::abs(static_cast<long double>(terms_cm(40)) - expected_f(40)) < 1e-5L * std::abs(expected_f(40)));
  }
  SECTION("a negative target probability gives NaN, not a number, down to -denorm_min") {
    using RowsF = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const float negatives[] = {-0.1f, -2e-38f, -std::numeric_limits<float>::min(), -1e-40f,
                               -std::numeric_limits<float>::denorm_min()};
    for (const float negative : negatives) {
      CAPTURE(negative);
      RowsF p = lossfn_test::random_distributions<RowsRM>(4, 40, 99).cast<float>();
      const RowsF z = lossfn_test::random_array<RowsRM>(4, 40, 100, -3, 3).cast<float>();
      p(1, 20) = negative;
      const Eigen::ArrayXf terms = KLDivergence<lossfn::None>{}.forward(z, p);
      CHECK(std::isfinite(terms(0)));
      CHECK(std::isnan(terms(1)));
      CHECK(std::isnan(KLDivergence<lossfn::None>{}.forward(Eigen::ArrayXXf(z), Eigen::ArrayXXf(p))(1)));
    }
  }
  SECTION("log_target: P = exp(-inf) is exactly 0 where Q = 0 too (masked rows, vectorised exp)") {
    // KL(P || P) with half the classes masked (-inf): 0 and a zero gradient, in
    // every form, order and type; Eigen's vectorised exp(-inf) is ~5.6e-309, not 0
    const Eigen::Index m = 9, classes = 40;
    RowsRM log_p = RowsRM::Constant(m, classes, -std::log(20.0));
    RowsRM p = RowsRM::Constant(m, classes, 1.0 / 20);
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index k = 1; k < classes; k += 2) {
        log_p(i, k) = -kInf;
        p(i, k) = 0.0;  // exactly (log_p.exp() would give Eigen's ~5.6e-309)
      }
    }
    for (const Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
      CAPTURE(static_cast<int>(form));
      const RowsRM q = form == Input::Probabilities ? p : log_p;  // logits: log P is a log-softmax
      const KLDivergence<lossfn::Sum> kl(options(form, true));
      CHECK(std::abs(kl.forward(q, log_p)) < 1e-13);
      CHECK(std::abs(kl.forward(RowsCM(q), RowsCM(log_p))) < 1e-13);
      const RowsRM g = kl.backward(q, log_p);
      const RowsCM gc = kl.backward(RowsCM(q), RowsCM(log_p));
      CHECK(g.allFinite());
      CHECK(gc.allFinite());
      // dKL/dQ: logits 0; probabilities -P/Q = -1; log-probabilities -P; 0 where P = 0
      const RowsRM expected = form == Input::Logits          ? RowsRM(RowsRM::Zero(m, classes))
                              : form == Input::Probabilities ? RowsRM(-(p / p.max(1e-300)))  // -1 or 0
                                                             : RowsRM(-p);
      CHECK(max_error(g, expected) < 1e-13);
      CHECK(max_error(gc, expected) < 1e-13);
      if (form == Input::Logits) {
        CHECK(std::abs(g(0, 1)) < 1e-300);  // softmax of -inf: Eigen's exp gives ~5.6e-309
      } else {
        CHECK(g(0, 1) == 0.0);
        CHECK(gc(8, 39) == 0.0);
      }
      const Eigen::ArrayXXf qf = q.cast<float>(), log_pf = log_p.cast<float>();
      CHECK(std::abs(kl.forward(qf, log_pf)) < 1e-5f);
      CHECK(kl.backward(qf, log_pf).allFinite());
    }
  }
  SECTION("logits +-1e4 and K = 1e4 classes") {
    RowsCM z(2, 2), p(2, 2);
    z << 1e4, -1e4, -1e4, 1e4;
    p << 0.0, 1.0, 0.0, 1.0;
    // row 0: -log softmax_1 = 2e4 exactly (log(1 + e^-2e4) = 0); row 1: 0
    const Eigen::ArrayXd terms = KLDivergence<lossfn::None>{}.forward(z, p);
    CHECK(terms(0) == 2e4);
    CHECK(terms(1) == 0.0);
    CHECK(KLDivergence<>{}.backward(z, p).allFinite());
    const Eigen::ArrayXXf zf = z.cast<float>(), pf = p.cast<float>();
    CHECK(KLDivergence<lossfn::Sum>{}.forward(zf, pf) == 2e4f);
    const Eigen::Index classes = 10000;
    const RowsRM big = lossfn_test::random_array<RowsRM>(2, classes, 81, -20, 20);
    const RowsRM target = lossfn_test::random_distributions<RowsRM>(2, classes, 82);
    const double expected = static_cast<double>(reference_kl(big, target, Input::Logits).sum() / 2);
    CHECK(scalar_error(KLDivergence<>{}.forward(big, target), expected) < 1e-12);
    CHECK(scalar_error(KLDivergence<>{}.forward(RowsCM(big), RowsCM(target)), expected) < 1e-12);
    CHECK(KLDivergence<>{}.backward(big, target).allFinite());
  }
  SECTION("storage orders, Blocks, Maps, Matrix, float and long double") {
    const Eigen::Index m = 140, classes = 6;  // full column-major float blocks (64 rows) and a tail
    const RowsCM z = lossfn_test::random_array<RowsCM>(m, classes, 91, -3, 3);
    const RowsCM p = lossfn_test::random_distributions<RowsCM>(m, classes, 92);
    const KLDivergence<> kl;
    const double value = kl.forward(z, p);
    const RowsCM grad = kl.backward(z, p);
    CHECK(scalar_error(kl.forward(RowsRM(z), p), value) < 1e-15);
    CHECK(max_error(kl.backward(RowsRM(z), RowsRM(p)), grad) < 1e-16);
    CHECK(scalar_error(kl.forward(z.matrix(), p.matrix()), value) < 1e-15);
    RowsCM big = RowsCM::Zero(m + 3, classes + 2);
    big.block(3, 2, m, classes) = z;
    RowsRM big_grad = RowsRM::Constant(m + 1, classes + 1, 4.0);
    CHECK(scalar_error(kl.forward_backward(big.block(3, 2, m, classes), p, big_grad.block(1, 0, m, classes)), value) <
          1e-15);
    CHECK(max_error(big_grad.block(1, 0, m, classes), grad) < 1e-16);
    const Eigen::Map<const RowsCM> map(z.data(), m, classes);
    CHECK(scalar_error(kl.forward(map, p * 1.0), value) < 1e-15);
    const Eigen::ArrayXXf zf = z.cast<float>(), pf = p.cast<float>();
    Eigen::ArrayXXf gf(m, classes);
    CHECK(scalar_error(kl.forward_backward(zf, pf, gf),
                       kl.forward(RowsCM(zf.cast<double>()), RowsCM(pf.cast<double>()))) <
          lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(gf, kl.backward(RowsCM(zf.cast<double>()), RowsCM(pf.cast<double>()))) <
          lossfn_test::Tolerance<float>::rel);
    const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> zl = z.cast<long double>(),
                                                                    pl = p.cast<long double>();
    CHECK(scalar_error(static_cast<double>(kl.forward(zl, pl)), value) < 1e-13);
  }
}

TEST_CASE("KLDivergence: an underflowed softmax times a huge gradient factor, whatever the buffer's alignment") {
  check_underflowed_softmax_times_huge_factor<float, Eigen::ColMajor>();
  check_underflowed_softmax_times_huge_factor<float, Eigen::RowMajor>();
  check_underflowed_softmax_times_huge_factor<double, Eigen::ColMajor>();
  check_underflowed_softmax_times_huge_factor<double, Eigen::RowMajor>();
}

TEST_CASE("KLDivergence: errors") {
  const RowsCM z = lossfn_test::random_array<RowsCM>(3, 4, 95);
  const RowsCM p = lossfn_test::random_distributions<RowsCM>(3, 4, 96);
  RowsCM out = RowsCM::Constant(3, 4, 42.0);
  CHECK_THROWS_AS(KLDivergence<>{}.forward(z, RowsCM(4, 3)), lossfn::shape_error);
  CHECK_THROWS_WITH(KLDivergence<>{}.forward_backward(z, RowsCM::Zero(3, 3), out),
                    "lossfn::KLDivergence::forward_backward: pred is 3x4 but target is 3x3");
  CHECK_THROWS_AS(KLDivergence<>{}.forward_backward(z, p, out.block(0, 0, 3, 3)), lossfn::shape_error);
  CHECK_THROWS_WITH(KLDivergence<lossfn::None>{}.backward(z, p, Eigen::ArrayXd::Ones(4)),
                    "lossfn::KLDivergence::backward: pred is 3x4 but upstream is 4x1 (expected 3x1)");
  CHECK((out == 42.0).all());
  CHECK_THROWS_WITH(KLDivergence<>{}.forward(RowsCM(0, 4), RowsCM(0, 4)),
                    ContainsSubstring("lossfn::KLDivergence::forward: empty input"));
  CHECK(KLDivergence<lossfn::Sum>{}.forward(RowsCM(0, 4), RowsCM(0, 4)) == 0.0);
  CHECK_THROWS_WITH(KLDivergence<>(options(static_cast<Input>(-1), false)),
                    "lossfn::KLDivergence::constructor: input is not a lossfn::Input value");
}

TEST_CASE("KLDivergence: forward (Sum, Mean) and forward_backward into a caller's gradient allocate nothing") {
  const Eigen::Index m = 150, classes = 9;
  const RowsCM p = lossfn_test::random_distributions<RowsCM>(m, classes, 111);
  const RowsCM log_p = p.log();
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    const RowsCM q = random_q<RowsCM>(form, m, classes, 112);
    const RowsRM q_rm = q;
    RowsCM g(m, classes);
    RowsRM g_rm(m, classes);
    const KLDivergence<> kl(options(form, false));
    const KLDivergence<lossfn::Sum> log_kl(options(form, true));
    const lossfn_test::NoHeapAllocation no_heap;
    CHECK_THROWS_AS(Eigen::ArrayXd(3), lossfn_test::eigen_assertion_failed);  // the guard works
    CHECK_NOTHROW(kl.forward(q, p));
    CHECK_NOTHROW(log_kl.forward(q_rm, log_p));
    CHECK_NOTHROW(kl.forward_backward(q_rm, p, g_rm));
    CHECK_NOTHROW(log_kl.forward_backward(q, log_p, g));
  }
}
