// KLDivergence: properties (KL(P || P) = 0, KL >= 0, KL = CE for one-hot P, KL = CE - H).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>
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
using namespace lossfn_test::kl_divergence;  // LD, options, random_q, reference_kl

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
