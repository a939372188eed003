// Focal's conformance batteries (support/conformance.hpp; its entry is in
// support/focal_reference.hpp), part 1: strong guarantee, no allocation, threads. Sharding and
// weights: test_focal_weights.cpp (one unit took 2.1 GB to compile).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/focal.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "focal_reference.hpp"

using lossfn_test::class_term::FocalEntry;

LOSSFN_STRONG_GUARANTEE_TEST_CASES(FocalEntry)
LOSSFN_NO_ALLOCATION_TEST_CASES(FocalEntry)
LOSSFN_THREADS_TEST_CASES(FocalEntry)
