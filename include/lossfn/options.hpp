/// @file
/// The option enumerations shared by several losses.
#pragma once

namespace lossfn {

/// The form in which a row-wise loss receives a prediction (CrossEntropy's pred,
/// KLDivergence's Q). backward returns the gradient with respect to this form.
enum class Input {
  Logits,           ///< unnormalised scores; a stable log-softmax is taken per row (default)
  Probabilities,    ///< probabilities, used as given (not renormalised)
  LogProbabilities  ///< log-probabilities, used as given (not renormalised)
};

/// The distance D between row i of x1 and row i of x2 (a = x1_i, b = x2_i).
enum class Distance {
  Euclidean,         ///< D = |a - b|
  SquaredEuclidean,  ///< D = |a - b|^2 (the squared distance itself is D)
  Cosine             ///< D = 1 - cos(a, b) = 1 - a.b / (|a| |b|); cos = 0 when a or b is zero
};

}  // namespace lossfn
