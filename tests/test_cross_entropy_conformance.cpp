// CrossEntropy's conformance batteries (support/conformance.hpp; its entry is in
// support/cross_entropy_reference.hpp): strong guarantee, threads, sharding, weights, and no
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
LOSSFN_SHARDING_TEST_CASES(CrossEntropyEntry)
LOSSFN_WEIGHTS_TEST_CASES(CrossEntropyEntry)

TEST_CASE("CrossEntropy: forward and forward_backward allocate nothing (column-major)") {
  lossfn_test::check_no_allocation_in<CrossEntropyEntry, lossfn_test::RowsCM>();
}

TEST_CASE("sharding: CrossEntropy, a shard whose samples are all ignored adds 0 to the sums and the denominator") {
  lossfn::CrossEntropyOptions options;
  options.class_weights = Eigen::ArrayXd::LinSpaced(4, 0.5, 2.0);
  options.label_smoothing = 0.1;
  options.ignore_index = 3;
  const lossfn::CrossEntropy<lossfn::Mean> mean(options);
  const lossfn::CrossEntropy<lossfn::Sum> sum(options);
  const Eigen::ArrayXXd logits = lossfn_test::random_array<Eigen::ArrayXXd>(6, 4, 5, -3, 3);
  Eigen::ArrayXi labels(6);
  labels << 0, 2, 3, 3, 1, 2;  // rows 2 and 3 ignored
  Eigen::ArrayXXd whole_grad(6, 4), grad(6, 4);
  const double whole = mean.forward_backward(logits, labels, whole_grad);
  const Eigen::Index cuts[] = {0, 2, 4, 6};
  double total = 0, denominator = 0;
  for (int s = 0; s < 3; ++s) {
    const Eigen::Index first = cuts[s], count = cuts[s + 1] - cuts[s];
    auto g = grad.middleRows(first, count);
    const double shard = sum.forward_backward(logits.middleRows(first, count), labels.segment(first, count), g);
    const double shard_denominator = mean.denominator(logits.middleRows(first, count), labels.segment(first, count));
    if (s == 1) {  // every sample ignored: nothing counts
      CHECK(shard == 0.0);
      CHECK(shard_denominator == 0.0);
      CHECK((g.array() == 0.0).all());
      // Mean of that shard alone is 0 with gradient 0 (nothing counted), not NaN
      Eigen::ArrayXXd alone(count, 4);
      CHECK(mean.forward_backward(logits.middleRows(first, count), labels.segment(first, count), alone) == 0.0);
      CHECK((alone == 0.0).all());
    }
    total += shard;
    denominator += shard_denominator;
  }
  CHECK(denominator == Approx(0.5 + 1.5 + 1.0 + 1.5).epsilon(1e-15));  // class weights of labels 0, 2, 1, 2
  CHECK(total / denominator == Approx(whole).epsilon(1e-14));
  CHECK(lossfn_test::max_error(grad / denominator, whole_grad) < 1e-15);
}
