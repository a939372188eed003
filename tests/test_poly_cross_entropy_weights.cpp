// PolyCrossEntropy's conformance batteries (support/conformance.hpp; its entry is in
// support/class_term_reference.hpp), part 2: sharding and weights (with WeightedMean and the weighted
// Hessians). Part 1: test_poly_cross_entropy_conformance.cpp.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/poly_cross_entropy.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "class_term_reference.hpp"

using lossfn_test::class_term::PolyEntry;

LOSSFN_SHARDING_TEST_CASES(PolyEntry)
LOSSFN_WEIGHTS_TEST_CASES(PolyEntry)
