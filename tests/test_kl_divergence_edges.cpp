// KLDivergence: no heap allocation, and the numerical edges it shares with
// CrossEntropy (formerly in test_edge_cases.cpp).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>
#include <lossfn/kl_divergence.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "catch.hpp"
#include "cross_entropy_input.hpp"
#include "edge_values.hpp"
#include "gradient_check.hpp"
#include "kl_divergence_reference.hpp"
#include "rowwise.hpp"

using lossfn::Input;
using lossfn::KLDivergence;
using lossfn::KLDivergenceOptions;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using namespace lossfn_test::kl_divergence;  // LD, options, random_q, reference_kl

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

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

using lossfn_test::ce_input;  // support/cross_entropy_input.hpp

TEMPLATE_TEST_CASE("edge: CrossEntropy and KL with logits at +-88.7", "", float, double) {
  using namespace lossfn_test::edge;
  using T = TestType;
  // exp(88.7) ~ 3.3e38 is just below FLT_MAX; a naive softmax overflows just above.
  // z = (88.7, -88.7): log-softmax = (0, -177.4) - log(1 + e^-177.4); e^-177.4 ~ 8.6e-78
  // is 0 in float and negligible in double, so loss for target 1 = 2 x 88.7.
  const Rows<T> z = rows2<T>({T(88.7), T(-88.7)}, {T(-88.7), T(88.7)});
  Eigen::ArrayXi target(2);
  target << 1, 1;
  const lossfn::CrossEntropy<lossfn::None> none;
  const Col<T> losses = none.forward(z, target);
  CHECK(static_cast<double>(losses(0)) == Approx(2 * static_cast<double>(T(88.7))).epsilon(1e-6));
  CHECK(static_cast<double>(losses(1)) == Approx(0.0).margin(1e-6));
  const Rows<T> grad = lossfn::CrossEntropy<lossfn::Sum>{}.backward(z, target);
  CHECK(grad.allFinite());
  CHECK(static_cast<double>(grad(0, 0)) == Approx(1.0));
  CHECK(static_cast<double>(grad(0, 1)) == Approx(-1.0));
  // KL(P || softmax(z)) with P = (0, 1): the same value (the P log P term is 0)
  const Rows<T> p = rows2<T>({T(0), T(1)}, {T(0), T(1)});
  const Col<T> kl = lossfn::KLDivergence<lossfn::None>{}.forward(z, p);
  CHECK(static_cast<double>(kl(0)) == Approx(static_cast<double>(losses(0))).epsilon(1e-6));
  CHECK(lossfn::KLDivergence<lossfn::Sum>{}.backward(z, p).allFinite());
}

TEMPLATE_TEST_CASE("edge: a probability of 1e-38 on the target class", "", float, double) {
  using namespace lossfn_test::edge;
  using T = TestType;
  // one-hot rows; pred puts 1e-38 on the target class (a float denormal: FLT_MIN ~ 1.18e-38).
  // loss = -log(q) ~ 87.498; gradient w.r.t. probabilities -1/q ~ -1e38 (fits float).
  const T q = T(1e-38);
  const double qd = static_cast<double>(q);
  const Rows<T> pred = rows2<T>({q, T(1) - q}, {T(0.5), T(0.5)});
  Eigen::ArrayXi target(2);
  target << 0, 1;
  const lossfn::CrossEntropy<lossfn::Sum> ce(ce_input(lossfn::Input::Probabilities));
  Rows<T> grad(2, 2);
  const T total = ce.forward_backward(pred, target, grad);
  CHECK(static_cast<double>(total) == Approx(-std::log(qd) + std::log(2.0)).epsilon(1e-6));
  CHECK(static_cast<double>(grad(0, 0)) == Approx(-1.0 / qd).epsilon(1e-6));
  CHECK(grad(0, 1) == T(0));  // c = 0 there: exactly 0
  CHECK(static_cast<double>(grad(1, 1)) == Approx(-2.0));
  // the same with a dense one-hot target, and as KL(onehot || q)
  const Rows<T> onehot = rows2<T>({T(1), T(0)}, {T(0), T(1)});
  CHECK(static_cast<double>(ce.forward(pred, onehot)) == Approx(static_cast<double>(total)).epsilon(1e-6));
  lossfn::KLDivergenceOptions ko;
  ko.input = lossfn::Input::Probabilities;
  const lossfn::KLDivergence<lossfn::Sum> kl(ko);
  CHECK(static_cast<double>(kl.forward(pred, onehot)) == Approx(static_cast<double>(total)).epsilon(1e-6));
  const Rows<T> kl_grad = kl.backward(pred, onehot);
  CHECK(static_cast<double>(kl_grad(0, 0)) == Approx(-1.0 / qd).epsilon(1e-6));
  CHECK(kl_grad(0, 1) == T(0));  // P = 0: exactly 0
  // as log-probabilities: loss -log q, gradient -1
  const lossfn::CrossEntropy<lossfn::Sum> ce_log(ce_input(lossfn::Input::LogProbabilities));
  // std::log per element: Eigen 3.4's vectorised float log is not accurate for denormals
  const Rows<T> log_pred = pred.unaryExpr([](T v) { return std::log(v); });
  CHECK(static_cast<double>(ce_log.forward(log_pred, target)) == Approx(-std::log(qd) + std::log(2.0)).epsilon(1e-6));
  CHECK(ce_log.backward(log_pred, target)(0, 0) == T(-1));
}
