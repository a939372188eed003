// Test helpers of KLDivergence, shared by its test files (test_kl_divergence*.cpp):
// options, its conformance registry entry, Q in each input form, and the
// reference in long double.
#pragma once

#include <lossfn/kl_divergence.hpp>

#include <cmath>
#include <vector>

#include "conformance.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

namespace lossfn_test {
namespace kl_divergence {

using lossfn::Input;
using lossfn::KLDivergenceOptions;
using LD = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;

inline KLDivergenceOptions options(Input input, bool log_target) {
  KLDivergenceOptions o;
  o.input = input;
  o.log_target = log_target;
  return o;
}

/// KLDivergence in the conformance registry (support/conformance.hpp).
struct KLDivergenceEntry {
  static constexpr const char* name = "KLDivergence";
  static constexpr lossfn_test::CallShape shape = lossfn_test::CallShape::Rowwise;
  using Options = KLDivergenceOptions;
  static std::vector<lossfn_test::Variant<Options>> variants(Eigen::Index) {
    return {{"logits", options(Input::Logits, false)},
            {"log-probabilities, log_target", options(Input::LogProbabilities, true)}};
  }
  template <class R>
  static lossfn::KLDivergence<R> make(R, const Options& o) {
    return lossfn::KLDivergence<R>(o);
  }
  template <class Plain>
  static lossfn_test::Operands<Plain> operands(Eigen::Index rows, Eigen::Index classes, unsigned seed,
                                               lossfn_test::TargetForm form) {
    return lossfn_test::rowwise_operands<Plain>(rows, classes, seed, form);
  }
};

/// Q in the given form: probabilities in [0.05, 1] (used as given, not normalised).
template <class Plain>
Plain random_q(Input form, Eigen::Index m, Eigen::Index classes, unsigned seed) {
  if (form == Input::Probabilities) return lossfn_test::random_array<Plain>(m, classes, seed, 0.05, 1.0);
  if (form == Input::LogProbabilities) return lossfn_test::random_array<Plain>(m, classes, seed, -4.0, -0.1);
  return lossfn_test::random_array<Plain>(m, classes, seed, -3.0, 3.0);
}

/// The reference, in long double: sum_k P_k (log P_k - log Q_k) per row, 0 log 0 = 0.
template <class Plain>
LD reference_kl(const Plain& q, const Plain& p, Input form) {
  LD log_q = q.template cast<long double>();
  if (form == Input::Logits) log_q = lossfn_test::reference_softmax(q).log();
  if (form == Input::Probabilities) log_q = log_q.log();
  const LD pl = p.template cast<long double>();
  LD terms = LD::Zero(p.rows(), p.cols());
  for (Eigen::Index i = 0; i < p.rows(); ++i)
    for (Eigen::Index k = 0; k < p.cols(); ++k)
      if (pl(i, k) != 0) terms(i, k) = pl(i, k) * (std::log(pl(i, k)) - log_q(i, k));
  return terms.rowwise().sum();
}

}  // namespace kl_divergence
}  // namespace lossfn_test
