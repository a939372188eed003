// Test helpers of Focal (test_focal*.cpp): its conformance registry entries and its
// reference written naively in long double from the definition (on CrossEntropy's
// reference c).
#pragma once

#include <lossfn/focal.hpp>

#include <cmath>
#include <vector>

#include "class_term_reference.hpp"
#include "conformance.hpp"
#include "cross_entropy_reference.hpp"
#include "registry.hpp"

namespace lossfn_test {
namespace class_term {

/// Focal in the conformance registry, gamma = 2 (the default) and 0.5.
template <int GammaTenths>
struct FocalEntryOf {
  static constexpr const char* name = GammaTenths == 20 ? "Focal" : "Focal (gamma 0.5)";
  static constexpr CallShape shape = CallShape::Rowwise;
  static constexpr bool index_targets = true;
  using Options = lossfn::FocalOptions;
  static void set(Options& o) { o.gamma = GammaTenths / 10.0; }
  static std::vector<Variant<Options>> variants(Eigen::Index classes) { return class_term::variants(classes, &set); }
  template <class R>
  static lossfn::Focal<R> make(R, const Options& options) {
    return lossfn::Focal<R>(options);
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index classes, unsigned seed, TargetForm form) {
    return rowwise_operands<Plain>(rows, classes, seed, form);
  }
};
using FocalEntry = FocalEntryOf<20>;
using FocalHalfEntry = FocalEntryOf<5>;

/// Focal per row: -sum c (1 - q)^gamma log q, a term with c = 0 counting 0.
inline LD focal_losses(const LD& c, const LD& log_q, const LD& q, long double gamma) {
  LD terms = LD::Zero(c.rows(), c.cols());
  for (Eigen::Index i = 0; i < c.rows(); ++i) {
    for (Eigen::Index k = 0; k < c.cols(); ++k) {
      if (c(i, k) != 0) terms(i, k) = -c(i, k) * std::pow(1 - q(i, k), gamma) * log_q(i, k);
    }
  }
  return terms.rowwise().sum();
}

/// Focal's Mean divisor: the counted rows (index targets), m (soft targets); alpha
/// enters no denominator.
inline long double focal_divisor(const cross_entropy::Classes& t, const lossfn::CrossEntropyOptions& o) {
  long double n = 0;
  for (Eigen::Index i = 0; i < t.rows(); ++i) n += (o.ignore_index && t(i) == *o.ignore_index) ? 0 : 1;
  return n;
}
template <class Plain>
long double focal_divisor(const Plain& y, const lossfn::CrossEntropyOptions&) {
  return static_cast<long double>(y.rows());
}

/// Focal's reference per row and Mean's divisor, for run_matrix (class_term_matrix.hpp).
struct FocalReference {
  template <class Plain, class Target>
  LD operator()(const Plain& pred, const Target& target, const lossfn::FocalOptions& o) const {
    const LD c = cross_entropy::reference_c(target, pred.cols(), o).first;
    return focal_losses(c, cross_entropy::reference_log_q(pred, o.input), reference_q(pred, o.input), o.gamma);
  }
};
struct FocalDivisor {
  template <class Plain, class Target>
  long double operator()(const Plain&, const Target& target, const lossfn::FocalOptions& o) const {
    return focal_divisor(target, o);
  }
};

}  // namespace class_term
}  // namespace lossfn_test
