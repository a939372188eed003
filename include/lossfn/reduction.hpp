/// @file
/// Reduction policies: how a loss turns its per-term losses into what it returns.
#pragma once

namespace lossfn {

/// L = sum of the per-term losses; gradients are not scaled.
struct Sum {
  static constexpr bool reduces = true;
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
  static constexpr bool reduces = true;
  static constexpr bool divides_by_count = true;
  template <class T>
  static constexpr T scale(T count) noexcept {
    return T(1) / count;
  }
};

/// No reduction: forward returns the per-term losses, and backward takes the
/// upstream gradient dL/d(per-term loss) and returns the vector-Jacobian product.
struct None {
  static constexpr bool reduces = false;
  static constexpr bool divides_by_count = false;
};

}  // namespace lossfn
