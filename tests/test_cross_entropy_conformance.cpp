// CrossEntropy's conformance batteries (support/conformance.hpp; its entry is in
// support/cross_entropy_reference.hpp): strong guarantee, threads, and no
// allocation for column-major operands (row-major: test_cross_entropy_no_allocation.cpp).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "cross_entropy_reference.hpp"

using lossfn_test::cross_entropy::CrossEntropyEntry;

LOSSFN_STRONG_GUARANTEE_TEST_CASES(CrossEntropyEntry)
LOSSFN_THREADS_TEST_CASES(CrossEntropyEntry)

TEST_CASE("CrossEntropy: forward and forward_backward allocate nothing (column-major)") {
  lossfn_test::check_no_allocation_in<CrossEntropyEntry, lossfn_test::RowsCM>();
}
