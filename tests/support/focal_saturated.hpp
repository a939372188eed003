// Focal at saturated logits (test_focal_extremes*.cpp, one scalar type per unit):
// forward_backward_hessian finite everywhere, equal to forward, backward and
// hessian_diagonal alone, and the table of values at +-1e4 for gamma 0, 0.5, 1, 2, 5.
#pragma once

#include <lossfn/focal.hpp>

#include <cmath>
#include <limits>

#include "catch.hpp"
#include "cross_entropy_reference.hpp"

namespace lossfn_test {
namespace focal_saturated {

using cross_entropy::Classes;
using lossfn::Focal;
using lossfn::FocalOptions;

/// forward_backward_hessian at saturated logits: finite everywhere, and the value
/// (Sum) returned.
template <class Plain>
double saturated(double gamma, const Plain& z, const Classes& t, Plain& g, Plain& h) {
  using S = typename Plain::Scalar;
  FocalOptions o;
  o.gamma = gamma;
  const S loss = Focal<lossfn::Sum>(o).forward_backward_hessian(z, t, g, h);
  CHECK(std::isfinite(loss));
  CHECK(g.allFinite());
  CHECK(h.allFinite());
  // forward and backward alone agree with the fused call
  CHECK(Focal<lossfn::Sum>(o).forward(z, t) == loss);
  CHECK((Focal<lossfn::Sum>(o).backward(z, t) == g).all());
  CHECK((Focal<lossfn::Sum>(o).hessian_diagonal(z, t) == h).all());
  return static_cast<double>(loss);
}

template <class Plain>
void saturated_table() {
  using S = typename Plain::Scalar;
  // rows: the target at +1e4 (q_t = 1), at -1e4 (q_t = 0), two at +1e4 with the target
  // one of them (q_t = 1/2), and 1e4 vs 1e4 - 10 (q_t = 1 - 4.5e-5)
  Plain z(4, 3);
  z << S(1e4), S(-1e4), S(0), S(-1e4), S(1e4), S(0), S(1e4), S(1e4), S(-1e4), S(1e4), S(1e4 - 10), S(-1e4);
  Classes t(4);
  t << 0, 0, 1, 0;
  for (double gamma : {0.0, 0.5, 1.0, 2.0, 5.0}) {
    CAPTURE(gamma, sizeof(S));
    Plain g(4, 3), h(4, 3);
    const double loss = saturated(gamma, z, t, g, h);
    // row 0: loss 0, gradient 0 (CE's gradient is 0 too); row 1: (1 - 0)^g x 2e4;
    // row 2: (1/2)^g log 2; row 3: x^g log1p(e^-10 ...) ~ 4.54e-5^(g + 1)
    const double e10 = std::exp(-10.0);
    const double row3 = std::pow(e10 / (1 + e10), gamma) * std::log1p(e10);
    CHECK(loss == Approx(2e4 + std::pow(0.5, gamma) * std::log(2.0) + row3).epsilon(1e-6));
    // 0 (CrossEntropy's path, gamma = 0: Eigen's vectorised exp floor, below the
    // smallest normal number, where exp(-1e4) is 0)
    CHECK((g.row(0).abs() <= std::numeric_limits<S>::min()).all());
    if (gamma > 0) CHECK((g.row(0) == S(0)).all());
    CHECK(g(1, 0) == Approx(-1.0).epsilon(1e-6));  // psi = 1 at q = 0: CE's -1
    CHECK(g(1, 1) == Approx(1.0).epsilon(1e-6));
    // the target at q = 1/2: grad_t = -psi / 2, psi = 2^-g (1 + g log 2)
    const double psi = std::pow(0.5, gamma) * (1 + gamma * std::log(2.0));
    CHECK(g(2, 1) == Approx(-psi / 2).epsilon(1e-5));
    // row 3's gradient at the target, -psi x with x = 4.54e-5, relative accuracy
    const double x = e10 / (1 + e10);
    const double psi3 = std::pow(x, gamma) * (1 - gamma * (1 - x) * std::log1p(-x) / x);
    // (gamma = 0 is CrossEntropy's path: its q - 1 from a float norm is good to 1e-3 here)
    const double tolerance = gamma == 0 && sizeof(S) == 4 ? 3e-3 : 1e-5;
    CHECK(g(3, 0) == Approx(-psi3 * x).epsilon(tolerance));
    CHECK(h(3, 0) >= 0);
  }
}

}  // namespace focal_saturated
}  // namespace lossfn_test
