// KLDivergence: every input form x log_target x reduction against the reference
// and finite differences.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>
#include <lossfn/kl_divergence.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "catch.hpp"
#include "gradient_check.hpp"
#include "kl_divergence_reference.hpp"
#include "rowwise.hpp"

using lossfn::Input;
using lossfn::KLDivergence;
using lossfn::KLDivergenceOptions;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::kl_divergence;  // LD, options, random_q, reference_kl

namespace {

template <class Plain>
void run_matrix(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    const Plain q = random_q<Plain>(form, m, classes, seed);
    // a target with exact zeros (0 log 0 = 0) that still sums to 1 per row
    Plain p = lossfn_test::random_distributions<Plain>(m, classes, seed + 1);
    if (classes > 2) p.col(1).setZero();
    for (Eigen::Index i = 0; i < m; ++i) p.row(i) /= p.row(i).sum();
    const Plain log_p = p.log();  // -inf where p = 0
    const LD expected = reference_kl(q, p, form);
    for (bool log_target : {false, true}) {
      CAPTURE(static_cast<int>(form), log_target);
      const KLDivergenceOptions o = options(form, log_target);
      const Plain& target = log_target ? log_p : p;
      const Eigen::ArrayXd terms = KLDivergence<lossfn::None>(o).forward(q, target);
      CHECK(max_error(terms, expected.cast<double>()) < 1e-13);
      CHECK(scalar_error(KLDivergence<>(o).forward(q, target), static_cast<double>(expected.sum() / m)) < 1e-13);
      const auto make = [&](auto reduction) { return KLDivergence<decltype(reduction)>(o); };
      lossfn_test::check_rowwise_gradients("KLDivergence", make, q, target, static_cast<double>(m), seed + 2);
      // soft targets that do not sum to 1 get the true gradient as well
      const Plain loose = 1.7 * p;
      const Plain loose_target = log_target ? Plain(loose.log()) : loose;
      lossfn_test::check_rowwise_gradients("KLDivergence", make, q, loose_target, static_cast<double>(m), seed + 3);
    }
  }
}

}  // namespace

TEST_CASE("KLDivergence: every input form x log_target x reduction, against finite differences") {
  // 150 rows: four full column-major blocks (32 rows in double) and a tail;
  // 300 classes: a row-major row in two pieces (256 + 44)
  const Eigen::Index shapes[][2] = {{1, 2}, {7, 3}, {64, 10}, {150, 4}, {3, 300}};
  unsigned seed = 200;
  for (const auto& shape : shapes) {
    run_matrix<RowsCM>(shape[0], shape[1], seed);
    run_matrix<RowsRM>(shape[0], shape[1], seed + 50);
    seed += 100;
  }
}
