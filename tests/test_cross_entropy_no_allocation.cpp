// CrossEntropy's zero-allocation battery for row-major operands (support/conformance.hpp;
// column-major: test_cross_entropy_conformance.cpp), in a unit of its own to keep
// each unit's compile cost down.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "cross_entropy_reference.hpp"

using lossfn_test::cross_entropy::CrossEntropyEntry;

TEST_CASE("CrossEntropy: forward and forward_backward allocate nothing (row-major)") {
  lossfn_test::check_no_allocation_in<CrossEntropyEntry, lossfn_test::RowsRM>();
}
