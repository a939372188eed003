/// @file
/// Reduction policies: how a loss turns its per-term losses into what it returns.
#pragma once

namespace lossfn {

/// L = sum of the per-term losses; gradients are not scaled.
struct Sum {
  /// The loss returns one scalar.
  static constexpr bool reduces = true;
  /// The sum is not divided by the number of terms.
  static constexpr bool divides_by_count = false;
  /// Factor applied to the summed terms (and to each term's gradient).
  template <class T>
  static constexpr T scale(T /*count*/) noexcept {
    return T(1);
  }
};

/// L = sum of the per-term losses / number of terms. Terms are elements for the
/// elementwise losses (MSE, MAE, RMSE, Huber) and samples (rows) for the row-wise
/// ones (CrossEntropy, KLDivergence, Contrastive: PyTorch's 'batchmean').
struct Mean {
  /// The loss returns one scalar.
  static constexpr bool reduces = true;
  /// The sum is divided by the number of terms (so zero terms are an error).
  static constexpr bool divides_by_count = true;
  /// Factor applied to the summed terms (and to each term's gradient): 1 / count.
  template <class T>
  static constexpr T scale(T count) noexcept {
    return T(1) / count;
  }
};

/// L = sum of the weighted per-term losses / the summed weights of the counted
/// terms: a weighted average (docs/weights.md). Without weights it equals Mean.
/// When the summed weights are 0 (every weight 0, every sample ignored), the loss
/// and every derivative are 0. Over zero terms it is an error, as Mean.
struct WeightedMean {
  /// The loss returns one scalar.
  static constexpr bool reduces = true;
  /// The sum is divided (by the summed weights; so zero terms are an error).
  static constexpr bool divides_by_count = true;
  /// The divisor is the summed weights of the counted terms, not their number.
  static constexpr bool divides_by_weights = true;
  /// Factor applied to the summed terms (and to each term's gradient): 1 / summed weights.
  template <class T>
  static constexpr T scale(T summed_weights) noexcept {
    return T(1) / summed_weights;
  }
};

/// No reduction: forward returns the per-term losses, and backward takes the
/// upstream gradient dL/d(per-term loss) and returns the vector-Jacobian product.
struct None {
  /// The loss returns the per-term losses, not one scalar.
  static constexpr bool reduces = false;
  /// Nothing is summed, so nothing is divided.
  static constexpr bool divides_by_count = false;
};

}  // namespace lossfn
