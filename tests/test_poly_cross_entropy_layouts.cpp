// PolyCrossEntropy: the finite-difference matrix for row-major operands (the
// column-major one and the properties are in test_poly_cross_entropy.cpp).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/poly_cross_entropy.hpp>

#include "catch.hpp"
#include "class_term_matrix.hpp"
#include "class_term_reference.hpp"

using lossfn::PolyCrossEntropy;
using lossfn::PolyCrossEntropyOptions;
using lossfn_test::RowsRM;

TEST_CASE(
    "PolyCrossEntropy: every input form x target form x option x reduction, row-major, against finite "
    "differences") {
  for (double epsilon : {2.0, -0.7, 5.0}) {
    PolyCrossEntropyOptions base;
    base.epsilon = epsilon;
    CAPTURE(epsilon);
    lossfn_test::class_term::for_shapes(350, [&](Eigen::Index m, Eigen::Index k, unsigned seed) {
      lossfn_test::class_term::run_matrix<PolyCrossEntropy, RowsRM>("PolyCrossEntropy", m, k, seed, base,
                                                                    lossfn_test::class_term::PolyReference{},
                                                                    lossfn_test::class_term::PolyDivisor{});
    });
  }
}
