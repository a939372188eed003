// Test helpers of CrossEntropy, shared by its test files (test_cross_entropy*.cpp):
// its conformance registry entry, predictions in each input form, and the
// reference, PyTorch's definitions written out naively in long double.
#pragma once

#include <lossfn/cross_entropy.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "conformance.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

namespace lossfn_test {
namespace cross_entropy {

using lossfn::CrossEntropyOptions;
using lossfn::Input;
using LD = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;
using Classes = Eigen::ArrayXi;

/// CrossEntropy in the conformance registry (support/conformance.hpp).
struct CrossEntropyEntry {
  static constexpr const char* name = "CrossEntropy";
  static constexpr lossfn_test::CallShape shape = lossfn_test::CallShape::Rowwise;
  static constexpr bool index_targets = true;
  using Options = CrossEntropyOptions;
  static std::vector<lossfn_test::Variant<Options>> variants(Eigen::Index classes) {
    using lossfn_test::TargetForm;
    CrossEntropyOptions smooth;
    smooth.label_smoothing = 0.1;
    smooth.ignore_index = 3;
    CrossEntropyOptions weighted = smooth;
    weighted.class_weights = Eigen::ArrayXd::LinSpaced(classes, 0.5, 2.0);
    CrossEntropyOptions weighted_soft = weighted;
    weighted_soft.ignore_index.reset();
    return {{"soft targets", {}, TargetForm::Dense},
            {"soft targets, weights, smoothing", weighted_soft, TargetForm::Dense},
            {"class indices", {}, TargetForm::Index},
            {"class indices, smoothing, ignore_index", smooth, TargetForm::Index},
            {"class indices, weights, smoothing, ignore_index", weighted, TargetForm::Index}};
  }
  template <class R>
  static lossfn::CrossEntropy<R> make(R, const Options& options) {
    return lossfn::CrossEntropy<R>(options);
  }
  template <class Plain>
  static lossfn_test::Operands<Plain> operands(Eigen::Index rows, Eigen::Index classes, unsigned seed,
                                               lossfn_test::TargetForm form) {
    return lossfn_test::rowwise_operands<Plain>(rows, classes, seed, form);
  }
};

inline const char* form_name(Input form) {
  return form == Input::Logits ? "logits" : form == Input::Probabilities ? "probabilities" : "log-probabilities";
}

/// A prediction in the given form, away from where finite differences suffer:
/// probabilities in [0.05, 1] (not normalised: they are used as given).
template <class Plain>
Plain random_pred(Input form, Eigen::Index m, Eigen::Index classes, unsigned seed) {
  if (form == Input::Probabilities) return lossfn_test::random_array<Plain>(m, classes, seed, 0.05, 1.0);
  if (form == Input::LogProbabilities) return lossfn_test::random_array<Plain>(m, classes, seed, -4.0, -0.1);
  return lossfn_test::random_array<Plain>(m, classes, seed, -3.0, 3.0);
}

/// log q per entry: log-softmax (naive, long double), log p, or the entry itself.
template <class Plain>
LD reference_log_q(const Plain& pred, Input form) {
  if (form == Input::Logits) return lossfn_test::reference_softmax(pred).log();
  if (form == Input::Probabilities) return pred.template cast<long double>().log();
  return pred.template cast<long double>();
}

/// The weighted, smoothed target c of class indices, and Mean's divisor (the
/// summed weights of the counted samples), as torch.nn.functional.cross_entropy.
inline std::pair<LD, long double> reference_c(const Classes& t, Eigen::Index classes, const CrossEntropyOptions& o) {
  const long double eps = o.label_smoothing;
  const auto w = [&](Eigen::Index k) { return o.class_weights.size() ? (long double)o.class_weights(k) : 1.0L; };
  LD c = LD::Zero(t.rows(), classes);
  long double divisor = 0;
  for (Eigen::Index i = 0; i < t.rows(); ++i) {
    if (o.ignore_index && t(i) == *o.ignore_index) continue;
    divisor += w(t(i));
    c(i, t(i)) += (1 - eps) * w(t(i));
    for (Eigen::Index k = 0; k < classes; ++k) c(i, k) += eps / (long double)classes * w(k);
  }
  return {c, divisor};
}

/// The same for soft targets y: c_ik = w_k ((1 - eps) y_ik + eps / K), divisor m.
template <class Plain>
std::pair<LD, long double> reference_c(const Plain& y, Eigen::Index classes, const CrossEntropyOptions& o) {
  const long double eps = o.label_smoothing;
  LD c = (1 - eps) * y.template cast<long double>() + eps / (long double)classes;
  if (o.class_weights.size()) c.rowwise() *= o.class_weights.cast<long double>().transpose();
  return {c, (long double)y.rows()};
}

/// Per-sample losses -sum_k c_ik log q_ik, a term with c_ik = 0 counting 0.
inline LD reference_losses(const LD& c, const LD& log_q) {
  LD terms = (c == 0).select(LD::Zero(c.rows(), c.cols()), -c * log_q);
  return terms.rowwise().sum();
}

}  // namespace cross_entropy
}  // namespace lossfn_test
