/// @file
/// RMSE's gradient pass, g = (pred - target) x factor, and its Hessian pass, as
/// operations of the elementwise kernel (detail/elementwise.hpp).
///
/// It lives here, not inside RMSE, so that its kernel instantiations have one name
/// for every reduction: RMSE<Sum> and RMSE<Mean> share them, and
/// detail/instances.hpp can declare them `extern template`.
#pragma once

#include <Eigen/Core>

#include <cstddef>

#include "accumulate.hpp"

namespace lossfn {
namespace detail {

/// The gradient pass g = e x factor (Weighted: x w, the weights in[2]). In e's
/// type when the factor fits it (the factor rounded once more, within 1 ulp;
/// float->double->float casts cost 3x at 1e3 elements), else (InAccumulator), for
/// denormal float errors, multiplied in the accumulator type and rounded once to
/// e's type.
template <class S, bool InAccumulator, bool Weighted = false>
struct RmseScaledError {
  static constexpr bool sums = false;
  static constexpr bool negative_terms = false;
  accumulator_t<S> factor;
  S weight_multiplier = S(1);  ///< Weighted: the power of two the weights are read times (WeightsView)
  template <bool Write, class A, class In, class Out>
  EIGEN_ALWAYS_INLINE A step(A acc, const In& in, Out& out) const {
    using Acc = accumulator_t<S>;
    if constexpr (Write && InAccumulator && Weighted) {
      out[0] = ((in[0] - in[1]).template cast<Acc>() * factor * (in[2] * weight_multiplier).template cast<Acc>())
                   .template cast<S>();
    } else if constexpr (Write && InAccumulator) {
      out[0] = ((in[0] - in[1]).template cast<Acc>() * factor).template cast<S>();
    } else if constexpr (Write && Weighted) {
      out[0] = (in[0] - in[1]) * static_cast<S>(factor) * (in[2] * weight_multiplier);
    } else if constexpr (Write) {
      out[0] = (in[0] - in[1]) * static_cast<S>(factor);
    }
    return acc;
  }
};

/// RMSE's Hessian pass (and, WithGradient, its gradient in the same sweep): with
/// L = sqrt(s S), S = sum w e^2 (w = 1 unweighted; Weighted: the weights in[2])
/// and f = s / L,
///   d2L/dpred_i^2 = f w_i (1 - s w_i (e_i / L)^2)
///   dL/dpred_i    = f w_i e_i                      (out[0] when WithGradient)
/// e_i / L <= 1/sqrt(s) cannot overflow where e_i^2 could. In the accumulator type,
/// rounded once. L = 0 (every error 0) is passed as loss 1 and factor 0: gradient and
/// Hessian 0, the values at the cone's tip that RMSE documents.
template <class S, bool WithGradient, bool Weighted = false>
struct RmseCurvature {
  static constexpr bool sums = false;
  static constexpr bool negative_terms = false;
  accumulator_t<S> scale, loss, factor;
  S weight_multiplier = S(1);  ///< Weighted: the power of two the weights are read times (WeightsView)
  template <bool Write, class A, class In, class Out>
  EIGEN_ALWAYS_INLINE A step(A acc, const In& in, Out& out) const {
    if constexpr (Write) {
      using Acc = accumulator_t<S>;
      const auto e = (in[0] - in[1]).template cast<Acc>();
      const auto r = e / loss;
      constexpr std::size_t h = WithGradient ? 1 : 0;
      if constexpr (Weighted) {
        const auto w = (in[2] * weight_multiplier).template cast<Acc>();
        out[h] = (factor * w * (Acc(1) - scale * w * r.square())).template cast<S>();
        if constexpr (WithGradient) out[0] = (e * factor * w).template cast<S>();
      } else {
        out[h] = (factor * (Acc(1) - scale * r.square())).template cast<S>();
        if constexpr (WithGradient) out[0] = (e * factor).template cast<S>();
      }
    }
    return acc;
  }
};

}  // namespace detail
}  // namespace lossfn
