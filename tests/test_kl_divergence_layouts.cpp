// KLDivergence: masked log-targets, logits +-1e4 and K = 1e4, storage orders, views,
// float and long double.
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
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::kl_divergence;  // LD, options, random_q, reference_kl

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("KLDivergence: masked targets, logits +-1e4, K = 1e4, storage orders and float") {
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
