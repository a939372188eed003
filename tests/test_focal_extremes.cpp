// Focal (softmax) at saturated logits (+-1e4, double here, float in
// test_focal_extremes_float.cpp; both storage orders) for gamma 0, 0.5, 1, 2, 5: finite values, gradients and Hessian
// diagonals (the NaN other libraries report at gamma = 0 and 0 < gamma < 1), with the index-target and the dense
// (smoothing, soft targets) paths. first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "cross_entropy_reference.hpp"
#include "focal_saturated.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::Focal;
using lossfn::FocalOptions;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::cross_entropy::Classes;

TEST_CASE("Focal: saturated logits (+-1e4) give finite values, gradients and Hessians for every gamma (double)") {
  lossfn_test::focal_saturated::saturated_table<RowsCM>();
  lossfn_test::focal_saturated::saturated_table<RowsRM>();
}

TEST_CASE("Focal: saturated logits with smoothing and soft targets (the dense path) stay finite") {
  RowsCM z(3, 3);
  z << 1e4, -1e4, 0, -1e4, 1e4, 0, 1e4, 1e4, -1e4;
  const Classes t = (Classes(3) << 0, 0, 1).finished();
  const RowsCM soft = (RowsCM(3, 3) << 1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5).finished();
  for (double gamma : {0.5, 1.0, 2.0, 5.0}) {
    FocalOptions o;
    o.gamma = gamma;
    o.label_smoothing = 0.1;
    CAPTURE(gamma);
    RowsCM g(3, 3), h(3, 3);
    CHECK(std::isfinite(Focal<lossfn::Sum>(o).forward_backward_hessian(z, t, g, h)));
    CHECK(g.allFinite());
    CHECK(h.allFinite());
    o.label_smoothing = 0;
    CHECK(std::isfinite(Focal<lossfn::Sum>(o).forward_backward_hessian(z, soft, g, h)));
    CHECK(g.allFinite());
    CHECK(h.allFinite());
    // one-hot soft targets: the index-target path's values
    RowsCM gi(3, 3), hi(3, 3);
    const RowsCM onehot = lossfn_test::one_hot<RowsCM>(t, 3);
    const double a = Focal<lossfn::Sum>(o).forward_backward_hessian(z, onehot, g, h);
    const double b = Focal<lossfn::Sum>(o).forward_backward_hessian(z, t, gi, hi);
    CHECK(a == Approx(b).epsilon(1e-14));
    CHECK(max_error(g, gi) < 1e-14);
    CHECK(max_error(h, hi) < 1e-14);
  }
}
