// PolyCrossEntropy's conformance batteries (support/conformance.hpp; its entry is in
// support/class_term_reference.hpp): strong guarantee, no allocation, sharding,
// weights and threads.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/poly_cross_entropy.hpp>

#include "catch.hpp"
#include "class_term_reference.hpp"
#include "conformance.hpp"

using lossfn_test::class_term::PolyEntry;

LOSSFN_CONFORMANCE_TEST_CASES(PolyEntry)
