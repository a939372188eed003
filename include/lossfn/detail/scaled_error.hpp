/// @file
/// RMSE's gradient pass, g = (pred - target) x factor, as an operation of the
/// elementwise kernel (detail/elementwise.hpp).
///
/// It lives here, not inside RMSE, so that its kernel instantiations have one name
/// for every reduction: RMSE<Sum> and RMSE<Mean> share them, and
/// detail/instances.hpp can declare them `extern template`.
#pragma once

#include <Eigen/Core>

#include "accumulate.hpp"

namespace lossfn {
namespace detail {

/// The gradient pass g = e x factor. In e's type when the factor fits it (the
/// factor rounded once more, within 1 ulp; float->double->float casts cost 3x at
/// 1e3 elements), else (InAccumulator), for denormal float errors, multiplied in
/// the accumulator type and rounded once to e's type.
template <class S, bool InAccumulator>
struct RmseScaledError {
  static constexpr bool sums = false;
  static constexpr bool negative_terms = false;
  accumulator_t<S> factor;
  template <bool Write, class A, class In, class Out>
  EIGEN_ALWAYS_INLINE A step(A acc, const In& in, Out& out) const {
    if constexpr (Write && InAccumulator) {
      out[0] = ((in[0] - in[1]).template cast<accumulator_t<S>>() * factor).template cast<S>();
    } else if constexpr (Write) {
      out[0] = (in[0] - in[1]) * static_cast<S>(factor);
    }
    return acc;
  }
};

}  // namespace detail
}  // namespace lossfn
