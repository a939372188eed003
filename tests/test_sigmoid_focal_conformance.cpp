// SigmoidFocal's conformance batteries (support/conformance.hpp; its entry is in
// support/binary_entries.hpp): strong guarantee, no allocation, sharding, weights and
// threads. In a unit of their own: with the finite-difference batteries of
// test_sigmoid_focal.cpp one unit took 3.7 GB to compile.
#include <lossfn/sigmoid_focal.hpp>

#include "binary_entries.hpp"
#include "catch.hpp"
#include "conformance.hpp"

using lossfn_test::binary::SigmoidFocalEntry;

LOSSFN_CONFORMANCE_TEST_CASES(SigmoidFocalEntry)
