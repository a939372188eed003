// The types of the conformance registry and the input generators its entries
// use: what an entry (support/conformance.hpp, support/elementwise_entries.hpp) is
// made of. Free of Catch, so that the fuzz targets and the benchmarks can iterate
// the same entries as the tests.
#pragma once

#include <Eigen/Core>

#include <string>
#include <type_traits>

#include "gradient_check.hpp"

namespace lossfn_test {

/// How a loss's reduced value relates to its per-element terms.
enum class Terms {
  Additive,  ///< L = R over per-term losses; None gives the terms (MSE, MAE, Huber, SmoothL1)
  RootOfSum  ///< L = sqrt(R over terms); no None, Sum = sqrt(n) x Mean (RMSE)
};

/// How a loss is called.
enum class CallShape {
  Elementwise,  ///< loss(pred, target), pred and target of one shape, gradient of pred's shape
  Rowwise,      ///< loss(pred, target), m x K pred; target m x K (Dense) or m class indices (Index)
  Pair          ///< loss(x1, x2, y), two m x d inputs and m labels in {0, 1}; two gradients
};

/// The form of a row-wise target.
enum class TargetForm { Dense, Index };

/// The options of a loss that has none.
struct NoOptions {};

/// One representative option set of a loss.
template <class Options>
struct Variant {
  std::string name;
  Options options;
  TargetForm target = TargetForm::Dense;  ///< Rowwise: which target form these options go with
};

/// The operands of one call (Plain: their scalar and storage order).
template <class Plain>
struct Operands {
  Plain a;                ///< pred (Elementwise, Rowwise) or x1 (Pair)
  Plain b;                ///< target (Elementwise, Rowwise Dense) or x2 (Pair)
  Eigen::ArrayXi labels;  ///< class indices (Rowwise Index) or labels 0, 1 (Pair)
};

// ---- input generators an entry's operands() forwards to ---------------------------

/// pred and target uniform in [-3, 3].
/// Entry::index_targets, false when the entry does not say (Rowwise: whether the
/// loss takes class-index targets).
template <class Entry, class = void>
struct index_targets : std::false_type {};
template <class Entry>
struct index_targets<Entry, std::void_t<decltype(Entry::index_targets)>> : std::bool_constant<Entry::index_targets> {};

/// Entry::dense_targets, true when the entry does not say (Rowwise: whether the
/// loss takes a dense m x K target; false for class indices only, as MultiMargin,
/// whose batteries then make no call with a dense target).
template <class Entry, class = void>
struct dense_targets : std::true_type {};
template <class Entry>
struct dense_targets<Entry, std::void_t<decltype(Entry::dense_targets)>> : std::bool_constant<Entry::dense_targets> {};

/// Whether the entry's loss is a root of its sum (RMSE): not separable, no None,
/// sharded by its own recipe.
template <class Entry>
constexpr bool root_of_sum() {
  if constexpr (Entry::shape == CallShape::Elementwise) {
    return Entry::terms == Terms::RootOfSum;
  } else {
    return false;
  }
}

template <class Plain>
Operands<Plain> elementwise_operands(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  return {random_array<Plain>(rows, cols, seed, -3, 3), random_array<Plain>(rows, cols, seed + 50, -3, 3), {}};
}

/// Logits in [-3, 3]; a dense target of positive rows summing to 1, or class
/// indices (7 i + seed) mod K.
template <class Plain>
Operands<Plain> rowwise_operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm form) {
  Operands<Plain> ops{random_array<Plain>(rows, cols, seed, -3, 3), {}, {}};
  if (form == TargetForm::Dense) {
    ops.b = random_array<Plain>(rows, cols, seed + 50, 0.1, 1);
    for (Eigen::Index i = 0; i < rows; ++i) ops.b.row(i) /= ops.b.row(i).sum();
  } else {
    ops.labels.resize(rows);
    for (Eigen::Index i = 0; i < rows; ++i) ops.labels(i) = static_cast<int>((i * 7 + Eigen::Index{seed}) % cols);
  }
  return ops;
}

/// x1 and x2 uniform in [-1, 1], labels (i + seed) mod 2.
template <class Plain>
Operands<Plain> pair_operands(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  Operands<Plain> ops{random_array<Plain>(rows, cols, seed), random_array<Plain>(rows, cols, seed + 50), {}};
  ops.labels.resize(rows);
  for (Eigen::Index i = 0; i < rows; ++i) ops.labels(i) = static_cast<int>((i + Eigen::Index{seed}) % 2);
  return ops;
}

}  // namespace lossfn_test
