// KLDivergence: zeros and extremes (0 log 0, guarded blocks, negative targets).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/kl_divergence.hpp>

#include <cmath>
#include <limits>
#include <string>

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
