// Test helpers of PolyCrossEntropy and Focal (test_poly_cross_entropy*.cpp,
// test_focal*.cpp): their conformance registry entries and references written
// naively in long double from the definitions (on CrossEntropy's reference c).
#pragma once

#include <lossfn/poly_cross_entropy.hpp>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "conformance.hpp"
#include "cross_entropy_reference.hpp"
#include "registry.hpp"

namespace lossfn_test {
namespace class_term {

using cross_entropy::LD;

/// The variants of both entries: CrossEntropy's, with the loss's own parameter set.
template <class Options>
std::vector<Variant<Options>> variants(Eigen::Index classes, void (*set)(Options&)) {
  Options plain;
  set(plain);
  Options smooth = plain;
  smooth.label_smoothing = 0.1;
  smooth.ignore_index = 3;
  Options weighted = smooth;
  weighted.class_weights = Eigen::ArrayXd::LinSpaced(classes, 0.5, 2.0);
  Options weighted_index = plain;
  weighted_index.class_weights = weighted.class_weights;
  weighted_index.ignore_index = 1;
  Options weighted_soft = weighted;
  weighted_soft.ignore_index.reset();
  return {{"soft targets", plain, TargetForm::Dense},
          {"soft targets, weights, smoothing", weighted_soft, TargetForm::Dense},
          {"class indices", plain, TargetForm::Index},
          {"class indices, weights, ignore_index", weighted_index, TargetForm::Index},
          {"class indices, smoothing, ignore_index", smooth, TargetForm::Index},
          {"class indices, weights, smoothing, ignore_index", weighted, TargetForm::Index}};
}

/// PolyCrossEntropy in the conformance registry (support/conformance.hpp).
struct PolyEntry {
  static constexpr const char* name = "PolyCrossEntropy";
  static constexpr CallShape shape = CallShape::Rowwise;
  static constexpr bool index_targets = true;
  using Options = lossfn::PolyCrossEntropyOptions;
  static void set(Options& o) { o.epsilon = 1.5; }
  static std::vector<Variant<Options>> variants(Eigen::Index classes) { return class_term::variants(classes, &set); }
  template <class R>
  static lossfn::PolyCrossEntropy<R> make(R, const Options& options) {
    return lossfn::PolyCrossEntropy<R>(options);
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index classes, unsigned seed, TargetForm form) {
    return rowwise_operands<Plain>(rows, classes, seed, form);
  }
};

/// q per entry (long double) from pred in its form: softmax, p, exp(l).
template <class Plain>
LD reference_q(const Plain& pred, lossfn::Input form) {
  if (form == lossfn::Input::Logits) return reference_softmax(pred);
  if (form == lossfn::Input::Probabilities) return pred.template cast<long double>();
  return pred.template cast<long double>().exp();
}

/// Poly-1 per row: -sum c log q + epsilon sum c (1 - q), a term with c = 0 counting 0.
inline LD poly_losses(const LD& c, const LD& log_q, const LD& q, long double epsilon) {
  LD terms = (c == 0).select(LD::Zero(c.rows(), c.cols()), -c * log_q + epsilon * c * (1 - q));
  return terms.rowwise().sum();
}

/// Poly-1's reference per row (on CrossEntropy's c) and Mean's divisor (CrossEntropy's).
struct PolyReference {
  template <class Plain, class Target>
  LD operator()(const Plain& pred, const Target& target, const lossfn::PolyCrossEntropyOptions& o) const {
    const LD c = cross_entropy::reference_c(target, pred.cols(), o).first;
    return poly_losses(c, cross_entropy::reference_log_q(pred, o.input), reference_q(pred, o.input), o.epsilon);
  }
};
struct PolyDivisor {
  template <class Plain, class Target>
  long double operator()(const Plain& pred, const Target& target, const lossfn::PolyCrossEntropyOptions& o) const {
    return cross_entropy::reference_c(target, pred.cols(), o).second;
  }
};

}  // namespace class_term
}  // namespace lossfn_test
