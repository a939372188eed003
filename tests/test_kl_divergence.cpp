// KLDivergence: hand-computed values and errors. Its other test files:
// test_kl_divergence_gradients.cpp (the gradient matrix), _properties.cpp,
// _extremes.cpp (zeros and extremes), _layouts.cpp (masked targets, large K,
// storage orders, float), _edges.cpp (no heap allocation, numerical edges shared
// with CrossEntropy), _conformance.cpp (the conformance batteries).
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
using lossfn_test::ContainsSubstring;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using namespace lossfn_test::kl_divergence;  // LD, options, random_q, reference_kl

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
