// CrossEntropy: every input form x target form x option x reduction against the
// reference and finite differences.
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "cross_entropy_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::CrossEntropy;
using lossfn::CrossEntropyOptions;
using lossfn::Input;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, the reference

namespace {

/// The option sets of the matrix (ignore_index only for index targets).
std::vector<std::pair<std::string, CrossEntropyOptions>> option_sets(Eigen::Index classes, bool index_targets) {
  Eigen::ArrayXd weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 77, 0.2, 2.0);
  std::vector<std::pair<std::string, CrossEntropyOptions>> sets;
  CrossEntropyOptions o;
  sets.emplace_back("plain", o);
  o.class_weights = weights;
  sets.emplace_back("weights", o);
  o = {};
  o.label_smoothing = 0.1;
  sets.emplace_back("smoothing", o);
  if (index_targets) {
    o = {};
    o.ignore_index = 1;
    sets.emplace_back("ignore_index", o);
  }
  o = {};
  o.class_weights = weights;
  o.label_smoothing = 0.25;
  if (index_targets) o.ignore_index = 0;
  sets.emplace_back("combined", o);
  return sets;
}

template <class Plain, class Target>
void check_point(const std::string& what, const CrossEntropyOptions& options, const Plain& pred, const Target& target,
                 unsigned seed) {
  const auto c_and_divisor = reference_c(target, pred.cols(), options);
  const LD losses = reference_losses(c_and_divisor.first, reference_log_q(pred, options.input));
  const double divisor = static_cast<double>(c_and_divisor.second);
  CAPTURE(what);
  // values against the reference
  const Eigen::ArrayXd terms = CrossEntropy<lossfn::None>(options).forward(pred, target);
  CHECK(max_error(terms, losses.cast<double>()) < 1e-13);
  const double sum = static_cast<double>(losses.sum());
  CHECK(scalar_error(CrossEntropy<lossfn::Sum>(options).forward(pred, target), sum) < 1e-13);
  CHECK(scalar_error(CrossEntropy<>(options).forward(pred, target), divisor > 0 ? sum / divisor : 0.0) < 1e-13);
  // gradients
  const auto make = [&](auto reduction) { return CrossEntropy<decltype(reduction)>(options); };
  lossfn_test::check_rowwise_gradients("CrossEntropy", make, pred, target, divisor, seed);
}

template <class Plain>
void run_matrix(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    const Plain pred = random_pred<Plain>(form, m, classes, seed);
    const Classes t = lossfn_test::random_classes(m, classes, seed + 1);
    const Plain distributions = lossfn_test::random_distributions<Plain>(m, classes, seed + 2);
    // soft targets that do not sum to 1, with exact zeros
    Plain loose = lossfn_test::random_array<Plain>(m, classes, seed + 3, -0.5, 1.5);
    loose = loose.max(0.0);
    for (const auto& named : option_sets(classes, true)) {
      CrossEntropyOptions o = named.second;
      o.input = form;
      check_point(std::string(form_name(form)) + ", index targets, " + named.first, o, pred, t, seed + 4);
    }
    for (const auto& named : option_sets(classes, false)) {
      CrossEntropyOptions o = named.second;
      o.input = form;
      check_point(std::string(form_name(form)) + ", soft targets, " + named.first, o, pred, distributions, seed + 5);
      check_point(std::string(form_name(form)) + ", unnormalised soft targets, " + named.first, o, pred, loose,
                  seed + 6);
    }
  }
}

}  // namespace

TEST_CASE("CrossEntropy: every input form x target form x option x reduction, against finite differences") {
  // 150 rows: four full column-major blocks (32 rows in double) and a tail;
  // 300 classes: a row-major row in two pieces (256 + 44)
  const Eigen::Index shapes[][2] = {{1, 2}, {7, 3}, {64, 10}, {150, 4}, {2, 300}};
  unsigned seed = 100;
  for (const auto& shape : shapes) {
    run_matrix<RowsCM>(shape[0], shape[1], seed);
    run_matrix<RowsRM>(shape[0], shape[1], seed + 50);
    seed += 100;
  }
}
