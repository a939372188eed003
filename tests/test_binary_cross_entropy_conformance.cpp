// BinaryCrossEntropy's conformance batteries (support/conformance.hpp; its entry is in
// support/binary_entries.hpp): strong guarantee, no allocation, sharding, weights and
// threads. In a unit of their own: with the finite-difference batteries of
// test_binary_cross_entropy.cpp one unit took 3.7 GB to compile.
#include <lossfn/binary_cross_entropy.hpp>

#include "binary_entries.hpp"
#include "catch.hpp"
#include "conformance.hpp"

using lossfn_test::binary::BinaryCrossEntropyEntry;

LOSSFN_CONFORMANCE_TEST_CASES(BinaryCrossEntropyEntry)
