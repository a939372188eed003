// KLDivergence: zeros and extremes (0 log 0, guarded blocks, negative targets).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/kl_divergence.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"
#include "gradient_check.hpp"
#include "kl_divergence_reference.hpp"
#include "rowwise.hpp"

using lossfn::Input;
using lossfn::KLDivergence;
using lossfn::KLDivergenceOptions;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using namespace lossfn_test::kl_divergence;  // LD, options, random_q, reference_kl

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

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

TEST_CASE("KLDivergence: zeros and extremes") {
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
}

TEST_CASE("KLDivergence: an underflowed softmax times a huge gradient factor, whatever the buffer's alignment") {
  check_underflowed_softmax_times_huge_factor<float, Eigen::ColMajor>();
  check_underflowed_softmax_times_huge_factor<float, Eigen::RowMajor>();
  check_underflowed_softmax_times_huge_factor<double, Eigen::ColMajor>();
  check_underflowed_softmax_times_huge_factor<double, Eigen::RowMajor>();
}
