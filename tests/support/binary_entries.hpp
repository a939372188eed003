// The binary losses' entries in the conformance registry (support/registry.hpp for
// what an entry is): BinaryCrossEntropy, SigmoidFocal, Hinge, SquaredHinge,
// SoftMargin. They are elementwise, but their targets are restricted (in [0, 1], or
// labels -1/1, 0/1), so each gives its own operands and, for the finite-difference
// battery, battery_pair (operands away from the kinks: Hinge's y f = 1).
#pragma once

#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/hinge.hpp>
#include <lossfn/sigmoid_focal.hpp>
#include <lossfn/soft_margin.hpp>
#include <lossfn/squared_hinge.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "registry.hpp"

namespace lossfn_test {
namespace binary {

/// Soft targets in [0, 1] with every third entry hard (0 or 1).
template <class Plain>
Plain unit_targets(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  Plain y = random_array<Plain>(rows, cols, seed, 0, 1);
  for (Eigen::Index k = 0; k < y.size(); k += 3) y(k) = y(k) < 0.5 ? 0 : 1;
  return y;
}

/// Labels -1 and 1 (zero_one: 0 and 1), mixed.
template <class Plain>
Plain labels(Eigen::Index rows, Eigen::Index cols, unsigned seed, bool zero_one) {
  const Plain u = random_array<Plain>(rows, cols, seed, -1, 1);
  const double low = zero_one ? 0 : -1;
  return u.unaryExpr([low](typename Plain::Scalar v) { return v < 0 ? typename Plain::Scalar(low) : 1; });
}

/// The members every binary entry shares.
struct BinaryEntry {
  static constexpr CallShape shape = CallShape::Elementwise;
  static constexpr Terms terms = Terms::Additive;
  /// where finite differences must not go (support/weights_battery.hpp): nowhere
  template <class Options>
  static bool near_kink_at(double, double, const Options&) {
    return false;
  }
};

struct BinaryCrossEntropyEntry : BinaryEntry {
  static constexpr const char* name = "BinaryCrossEntropy";
  using Options = lossfn::BinaryCrossEntropyOptions;
  static std::vector<Variant<Options>> variants(Eigen::Index cols) {
    const Eigen::ArrayXd pos_weight = Eigen::ArrayXd::LinSpaced(cols, 0.5, 3.0);
    return {{"logits", Options{}},
            {"logits, pos_weight", Options{lossfn::Input::Logits, pos_weight, 0}},
            {"logits, label smoothing 0.1", Options{lossfn::Input::Logits, {}, 0.1}},
            {"probabilities", Options{lossfn::Input::Probabilities, {}, 0}},
            {"probabilities, pos_weight, smoothing 0.2", Options{lossfn::Input::Probabilities, pos_weight, 0.2}}};
  }
  template <class R>
  static lossfn::BinaryCrossEntropy<R> make(R, const Options& options) {
    return lossfn::BinaryCrossEntropy<R>(options);
  }
  /// logits in [-4, 4], or probabilities in [0.05, 0.95] (away from the clamps)
  template <class Plain>
  static std::pair<Plain, Plain> battery_pair(Eigen::Index rows, Eigen::Index cols, unsigned seed,
                                              const Options& options) {
    const bool logits = options.input == lossfn::Input::Logits;
    return {random_array<Plain>(rows, cols, seed, logits ? -4 : 0.05, logits ? 4 : 0.95),
            unit_targets<Plain>(rows, cols, seed + 1000)};
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    // in [0.05, 0.95]: valid logits and valid probabilities, for every variant
    return {random_array<Plain>(rows, cols, seed, 0.05, 0.95), unit_targets<Plain>(rows, cols, seed + 50), {}};
  }
};

struct SigmoidFocalEntry : BinaryEntry {
  static constexpr const char* name = "SigmoidFocal";
  using Options = lossfn::SigmoidFocalOptions;
  static std::vector<Variant<Options>> variants(Eigen::Index) {
    return {{"alpha 0.25, gamma 2", Options{}},
            {"no alpha, gamma 0.5", Options{std::nullopt, 0.5}},
            {"alpha 0.6, gamma 0", Options{0.6, 0.0}},
            {"alpha 0.25, gamma 1.5", Options{0.25, 1.5}}};
  }
  template <class R>
  static lossfn::SigmoidFocal<R> make(R, const Options& options) {
    return lossfn::SigmoidFocal<R>(options);
  }
  template <class Plain>
  static std::pair<Plain, Plain> battery_pair(Eigen::Index rows, Eigen::Index cols, unsigned seed, const Options&) {
    return {random_array<Plain>(rows, cols, seed, -4, 4), unit_targets<Plain>(rows, cols, seed + 1000)};
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    return {random_array<Plain>(rows, cols, seed, -3, 3), unit_targets<Plain>(rows, cols, seed + 50), {}};
  }
};

/// Scores in [-3, 3] kept 0.05 away from y f = 1 (the hinge's kink).
template <class Plain>
std::pair<Plain, Plain> away_from_hinge(Eigen::Index rows, Eigen::Index cols, unsigned seed, bool zero_one) {
  Plain f = random_array<Plain>(rows, cols, seed, -3, 3);
  const Plain y = labels<Plain>(rows, cols, seed + 1000, zero_one);
  for (Eigen::Index k = 0; k < f.size(); ++k) {
    const double sign = zero_one ? 2 * static_cast<double>(y(k)) - 1 : static_cast<double>(y(k));
    while (std::abs(1 - sign * static_cast<double>(f(k))) < 0.05) f(k) += typename Plain::Scalar(0.0731);
  }
  return {f, y};
}

/// Hinge and SquaredHinge, labels -1 and 1. (The batteries share one set of operands
/// across variants, so zero_one_labels is covered in test_hinge.cpp: every call with
/// 0/1 labels equals the call with the mapped -1/1 labels.)
template <template <class> class Loss>
struct HingeEntryOf : BinaryEntry {
  using Options = lossfn::HingeOptions;
  static std::vector<Variant<Options>> variants(Eigen::Index) { return {{"labels -1, 1", Options{false}}}; }
  /// y f = 1, the hinge
  static bool near_kink_at(double f, double y, const Options&) { return std::abs(1 - y * f) < 0.05; }
  template <class R>
  static Loss<R> make(R, const Options& options) {
    return Loss<R>(options);
  }
  template <class Plain>
  static std::pair<Plain, Plain> battery_pair(Eigen::Index rows, Eigen::Index cols, unsigned seed,
                                              const Options& options) {
    return away_from_hinge<Plain>(rows, cols, seed, options.zero_one_labels);
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    auto pair = away_from_hinge<Plain>(rows, cols, seed, false);
    return {pair.first, pair.second, {}};
  }
};

struct HingeEntry : HingeEntryOf<lossfn::Hinge> {
  static constexpr const char* name = "Hinge";
};
struct SquaredHingeEntry : HingeEntryOf<lossfn::SquaredHinge> {
  static constexpr const char* name = "SquaredHinge";
};

struct SoftMarginEntry : BinaryEntry {
  static constexpr const char* name = "SoftMargin";
  using Options = NoOptions;
  static std::vector<Variant<Options>> variants(Eigen::Index) { return {{"default", {}}}; }
  template <class R>
  static lossfn::SoftMargin<R> make(R, const Options&) {
    return {};
  }
  template <class Plain>
  static std::pair<Plain, Plain> battery_pair(Eigen::Index rows, Eigen::Index cols, unsigned seed, const Options&) {
    return {random_array<Plain>(rows, cols, seed, -4, 4), labels<Plain>(rows, cols, seed + 1000, false)};
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    return {random_array<Plain>(rows, cols, seed, -3, 3), labels<Plain>(rows, cols, seed + 50, false), {}};
  }
};

}  // namespace binary
}  // namespace lossfn_test
