/// @file
/// Squared hinge loss of binary labels, max(0, 1 - y f)^2.
#pragma once

#include "hinge.hpp"

namespace lossfn {

/// Squared hinge loss per element, scores f and labels y of one shape (Keras's
/// squared_hinge, the L2-SVM loss), r = max(0, 1 - y f):
///   term      r^2
///   gradient  -2 y r
///   Hessian   2 where y f < 1, else 0 (0 at y f = 1)
/// Labels -1 and 1, or 0 and 1 with HingeOptions::zero_one_labels. Sum, Mean over
/// all elements, WeightedMean, None.
///
/// Calls and errors as Hinge.
///
/// @tparam Reduction Sum, Mean (default), WeightedMean or None
template <class Reduction = Mean>
class SquaredHinge : public detail::HingeLoss<SquaredHinge<Reduction>, Reduction, true> {
 public:
  /// The loss's name, as it appears in error messages.
  static constexpr const char* name = "SquaredHinge";
  using detail::HingeLoss<SquaredHinge<Reduction>, Reduction, true>::HingeLoss;
};

}  // namespace lossfn
