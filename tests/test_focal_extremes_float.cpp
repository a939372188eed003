// Focal (softmax) at saturated logits (+-1e4) in float, both storage orders, for gamma
// 0, 0.5, 1, 2, 5 (double: test_focal_extremes.cpp).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include "catch.hpp"
#include "focal_saturated.hpp"

TEST_CASE("Focal: saturated logits (+-1e4) give finite values, gradients and Hessians for every gamma (float)") {
  lossfn_test::focal_saturated::saturated_table<Eigen::ArrayXXf>();
  lossfn_test::focal_saturated::saturated_table<Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>();
}
