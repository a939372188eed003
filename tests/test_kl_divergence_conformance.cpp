// KLDivergence's conformance batteries (support/conformance.hpp; its entry is in
// support/kl_divergence_reference.hpp): strong guarantee, no allocation, threads.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/kl_divergence.hpp>

#include "catch.hpp"
#include "conformance.hpp"
#include "kl_divergence_reference.hpp"

using lossfn_test::kl_divergence::KLDivergenceEntry;

LOSSFN_CONFORMANCE_TEST_CASES(KLDivergenceEntry)
