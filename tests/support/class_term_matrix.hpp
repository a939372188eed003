// The finite-difference matrix of PolyCrossEntropy and Focal (CrossEntropy's
// options, forms and targets; their test files run it per storage order, to keep
// each unit light): every input form x target form x option set x reduction at one
// shape, values against a long double reference, gradients and Hessian diagonals
// against central differences (rowwise.hpp's check_rowwise_gradients).
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "cross_entropy_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

namespace lossfn_test {
namespace class_term {

/// CrossEntropy's option sets on top of `base` (ignore_index only for index targets).
template <class Options>
std::vector<std::pair<std::string, Options>> option_sets(Eigen::Index classes, bool index_targets,
                                                         const Options& base) {
  const Eigen::ArrayXd weights = random_array<Eigen::ArrayXd>(classes, 1, 77, 0.2, 2.0);
  std::vector<std::pair<std::string, Options>> sets;
  Options o = base;
  sets.emplace_back("plain", o);
  o.class_weights = weights;
  sets.emplace_back("class weights", o);
  o = base;
  o.label_smoothing = 0.1;
  sets.emplace_back("smoothing", o);
  if (index_targets) {
    o = base;
    o.ignore_index = 1;
    o.class_weights = weights;
    sets.emplace_back("class weights, ignore_index", o);
  }
  o = base;
  o.class_weights = weights;
  o.label_smoothing = 0.25;
  if (index_targets) o.ignore_index = 0;
  sets.emplace_back("combined", o);
  return sets;
}

/// One point: reference(pred, target, options) gives the per-row losses (LD) and
/// divisor_of(pred, target, options) Mean's divisor; Loss<R>(options) the loss.
template <template <class> class Loss, class Options, class Plain, class Target, class Reference, class Divisor>
void check_point(const char* name, const std::string& what, const Options& options, const Plain& pred,
                 const Target& target, unsigned seed, const Reference& reference, const Divisor& divisor_of) {
  const cross_entropy::LD losses = reference(pred, target, options);
  const double divisor = static_cast<double>(divisor_of(pred, target, options));
  CAPTURE(what);
  const Eigen::ArrayXd terms = Loss<lossfn::None>(options).forward(pred, target);
  CHECK(max_error(terms, losses.template cast<double>()) < 1e-13);
  const double sum = static_cast<double>(losses.sum());
  CHECK(scalar_error(Loss<lossfn::Sum>(options).forward(pred, target), sum) < 1e-13);
  CHECK(scalar_error(Loss<lossfn::Mean>(options).forward(pred, target), divisor > 0 ? sum / divisor : 0.0) < 1e-13);
  CHECK(Loss<lossfn::Mean>(options).denominator(pred, target) == Approx(divisor).epsilon(1e-14));
  const auto make = [&](auto reduction) { return Loss<decltype(reduction)>(options); };
  check_rowwise_gradients(name, make, pred, target, divisor, seed);
}

/// Every form x target form x option set at one shape. Probabilities are capped at
/// 0.95 (for Focal with gamma < 1 the second derivative diverges at p = 1).
template <template <class> class Loss, class Plain, class Options, class Reference, class Divisor>
void run_matrix(const char* name, Eigen::Index m, Eigen::Index classes, unsigned seed, const Options& base,
                const Reference& reference, const Divisor& divisor_of) {
  using lossfn::Input;
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    Plain pred = cross_entropy::random_pred<Plain>(form, m, classes, seed);
    if (form == Input::Probabilities) pred = pred.min(0.95);
    const cross_entropy::Classes t = random_classes(m, classes, seed + 1);
    const Plain distributions = random_distributions<Plain>(m, classes, seed + 2);
    // unnormalised soft targets with exact zeros, row masses up to about 10 (150 over
    // 300 classes would put the finite differences' rounding above their tolerance)
    Plain loose = random_array<Plain>(m, classes, seed + 3, -0.5, 1.5);
    loose = loose.max(0.0) * std::min(1.0, 20.0 / static_cast<double>(classes));
    const std::string f = cross_entropy::form_name(form);
    for (const auto& named : option_sets(classes, true, base)) {
      Options o = named.second;
      o.input = form;
      check_point<Loss>(name, f + ", index targets, " + named.first, o, pred, t, seed + 4, reference, divisor_of);
    }
    for (const auto& named : option_sets(classes, false, base)) {
      Options o = named.second;
      o.input = form;
      check_point<Loss>(name, f + ", soft targets, " + named.first, o, pred, distributions, seed + 5, reference,
                        divisor_of);
      check_point<Loss>(name, f + ", unnormalised soft targets, " + named.first, o, pred, loose, seed + 6, reference,
                        divisor_of);
    }
  }
}

/// The shapes: one row of 2; 7 x 3; 70 rows (two full column-major blocks of 32 in
/// double and a tail); 300 classes (a row-major row in two pieces, 256 + 44).
template <class F>
void for_shapes(unsigned seed, const F& f) {
  const Eigen::Index shapes[][2] = {{1, 2}, {7, 3}, {70, 5}, {2, 300}};
  for (const auto& shape : shapes) {
    f(shape[0], shape[1], seed);
    seed += 100;
  }
}

}  // namespace class_term
}  // namespace lossfn_test
