// The allocation counter every zero-allocation battery relies on
// (support/allocation_counter.cpp, linked into every test executable) really
// counts: this test can fail. The batteries themselves run in each loss's own
// test file (LOSSFN_CONFORMANCE_TEST_CASES, support/conformance.hpp).
#include <lossfn/mse.hpp>

#include "allocation_counter.hpp"
#include "catch.hpp"

TEST_CASE("The counter sees allocations (the test can fail)") {
  using lossfn_test::allocations_of;
  static int* volatile kept = nullptr;                    // volatile: the compiler may not elide the new
  CHECK(allocations_of([] { kept = new int(3); }) >= 1);  // new, and on glibc its malloc
  delete kept;
  if (lossfn_test::counts_malloc()) {
    // an Eigen temporary comes from malloc, not operator new
    CHECK(allocations_of([] {
            Eigen::ArrayXd x = Eigen::ArrayXd::Constant(1000, 2.0);
            CHECK(x.sum() == 2000.0);
          }) >= 1);
    // backward returns a new array: that is one allocation
    const Eigen::ArrayXd p = Eigen::ArrayXd::Constant(64, 1.0), t = Eigen::ArrayXd::Zero(64);
    CHECK(allocations_of([&] { CHECK(lossfn::MSE<>{}.backward(p, t).size() == 64); }) >= 1);
  }
  // nothing allocated, nothing counted
  CHECK(allocations_of([] {}) == 0);
}
