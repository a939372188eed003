// Focal: the finite-difference matrix for row-major operands (the column-major one
// is in test_focal.cpp).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include "catch.hpp"
#include "class_term_matrix.hpp"
#include "focal_reference.hpp"

using lossfn::Focal;
using lossfn::FocalOptions;
using lossfn_test::RowsRM;

TEST_CASE("Focal: every input form x target form x option x reduction, row-major, against finite differences") {
  for (double gamma : {0.5, 1.0, 2.0, 5.0}) {
    FocalOptions base;
    base.gamma = gamma;
    CAPTURE(gamma);
    lossfn_test::class_term::for_shapes(550, [&](Eigen::Index m, Eigen::Index k, unsigned seed) {
      lossfn_test::class_term::run_matrix<Focal, RowsRM>("Focal", m, k, seed, base,
                                                         lossfn_test::class_term::FocalReference{},
                                                         lossfn_test::class_term::FocalDivisor{});
    });
  }
}
