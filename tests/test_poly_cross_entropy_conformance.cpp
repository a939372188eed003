// PolyCrossEntropy's conformance batteries (support/conformance.hpp; its entry is in
// support/class_term_reference.hpp), part 1: strong guarantee, no allocation, threads. Sharding and
// weights: test_poly_cross_entropy_weights.cpp (one unit took 2.1 GB to compile).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/poly_cross_entropy.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "class_term_reference.hpp"

using lossfn_test::class_term::PolyEntry;

LOSSFN_STRONG_GUARANTEE_TEST_CASES(PolyEntry)
LOSSFN_NO_ALLOCATION_TEST_CASES(PolyEntry)
LOSSFN_THREADS_TEST_CASES(PolyEntry)
