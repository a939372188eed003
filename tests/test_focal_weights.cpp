// Focal's conformance batteries (support/conformance.hpp; its entry is in
// support/focal_reference.hpp), part 2: sharding and weights (with WeightedMean and the weighted
// Hessians). Part 1: test_focal_conformance.cpp.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "focal_reference.hpp"

using lossfn_test::class_term::FocalEntry;

LOSSFN_SHARDING_TEST_CASES(FocalEntry)
LOSSFN_WEIGHTS_TEST_CASES(FocalEntry)
