// Focal (softmax): the reference and finite differences over every input form x
// target form x option x reduction, column-major, for gamma 0.5, 1, 2 and 5 (row-major:
// test_focal_layouts.cpp), and confident rows. Its properties, saturated logits and
// errors: test_focal_properties.cpp; the conformance batteries: test_focal_conformance.cpp.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "class_term_matrix.hpp"
#include "cross_entropy_reference.hpp"
#include "focal_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::Focal;
using lossfn::FocalOptions;
using lossfn::Input;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, reference_c
using namespace lossfn_test::class_term;     // reference_q, FocalReference, FocalDivisor

TEST_CASE("Focal: every input form x target form x option x reduction, column-major, against finite differences") {
  for (double gamma : {0.5, 1.0, 2.0, 5.0}) {
    FocalOptions base;
    base.gamma = gamma;
    CAPTURE(gamma);
    lossfn_test::class_term::for_shapes(500, [&](Eigen::Index m, Eigen::Index k, unsigned seed) {
      lossfn_test::class_term::run_matrix<Focal, RowsCM>("Focal", m, k, seed, base, FocalReference{}, FocalDivisor{});
    });
  }
}

TEST_CASE("Focal: confident rows (the target's logit far above the others), gradient and Hessian") {
  // q_t from 0.99 to 1 - 1e-12: 1 - q_t comes from the other classes' softmax
  for (double gap : {5.0, 12.0, 20.0, 28.0}) {
    RowsCM z = lossfn_test::random_array<RowsCM>(6, 4, 21, -1, 1);
    Classes t(6);
    t << 0, 1, 2, 3, 0, 2;
    for (Eigen::Index i = 0; i < 6; ++i) z(i, t(i)) += gap;
    for (double gamma : {0.5, 1.0, 2.0}) {
      FocalOptions o;
      o.gamma = gamma;
      CAPTURE(gap, gamma);
      // the reference from the other classes' sum o (long double): 1 - q_t = o / (1 + o)
      const Eigen::ArrayXd terms = Focal<lossfn::None>(o).forward(z, t);
      for (Eigen::Index i = 0; i < 6; ++i) {
        long double others = 0;
        for (Eigen::Index k = 0; k < 4; ++k) {
          if (k != t(i)) others += std::exp(static_cast<long double>(z(i, k)) - z(i, t(i)));
        }
        const long double loss = std::pow(others / (1 + others), (long double)gamma) * std::log1p(others);
        CHECK(std::abs(terms(i) - static_cast<double>(loss)) <= 1e-13 * static_cast<double>(loss));
      }
      const auto make = [&](auto reduction) { return Focal<decltype(reduction)>(o); };
      if (gap <= 12) lossfn_test::check_rowwise_gradients("Focal", make, z, t, 6.0, 31);
    }
  }
}
