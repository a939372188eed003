// Focal's conformance batteries (support/conformance.hpp; its entry is in
// support/focal_reference.hpp): strong guarantee, no allocation, sharding, weights
// and threads.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "focal_reference.hpp"

using lossfn_test::class_term::FocalEntry;

LOSSFN_CONFORMANCE_TEST_CASES(FocalEntry)
