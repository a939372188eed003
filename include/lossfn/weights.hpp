/// @file
/// Per-sample (per-term) weights: `lossfn::weights(w)`, the argument every loss
/// takes right after its last target (docs/weights.md).
#pragma once

#include <Eigen/Core>

namespace lossfn {

/// A weights argument: any Eigen dense object or expression, held by reference. A
/// type of its own, so that weights cannot be mistaken for a target or for None's
/// upstream gradient. Made by lossfn::weights(); it lives as long as the call it is
/// passed to (do not store it: like an Eigen expression, it refers to its operand).
///
/// @tparam Derived the Eigen type of the weights
template <class Derived>
class Weights {
 public:
  /// Wraps w (not copied).
  explicit Weights(const Eigen::DenseBase<Derived>& w) noexcept : w_(w) {}
  /// The wrapped weights.
  const Eigen::DenseBase<Derived>& get() const noexcept { return w_; }

 private:
  const Eigen::DenseBase<Derived>& w_;
};

/// Marks w as the weights of a call: `mse.forward(pred, target, lossfn::weights(w))`.
/// Shapes: an m x 1 column (one weight per row: a row-wise loss's samples, or every
/// entry of an elementwise loss's row), for elementwise losses also pred's shape or
/// a 1 x d row (one per column). Each weight must be finite and >= 0; it multiplies
/// its terms' losses and derivatives (docs/weights.md).
template <class Derived>
Weights<Derived> weights(const Eigen::DenseBase<Derived>& w) noexcept {
  return Weights<Derived>(w);
}

}  // namespace lossfn
