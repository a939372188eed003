/// @file
/// Root mean squared error.
#pragma once

#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

#include "detail/elementwise.hpp"
#include "detail/scaled_error.hpp"
#include "errors.hpp"
#include "mse.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Root of the reduced squared error: L = sqrt(scale x sum_i (yhat_i - y_i)^2),
/// scale = 1 (Sum) or 1/n (Mean, the usual RMSE). The root is taken after the
/// reduction, so there are no per-term losses and None does not compile.
/// Gradient: dL/dyhat_i = scale (yhat_i - y_i) / L, and 0 when L = 0 (every
/// prediction exact), the subgradient PyTorch's sqrt(mse) would turn into NaN.
/// Hessian diagonal (the Hessian is not diagonal; this is its diagonal):
/// d2L/dyhat_i^2 = (scale / L) (1 - scale (yhat_i - y_i)^2 / L^2), and 0 when L = 0
/// (along any one coordinate the loss is sqrt(scale) |e_i| there: 0 on both pieces).
///
/// Calls, as every elementwise loss: forward(pred, target), backward(pred, target),
/// forward_backward(pred, target, grad_out), hessian_diagonal(pred, target),
/// forward_backward_hessian(pred, target, grad_out, hess_out) and operator() (=
/// forward). Throws
/// lossfn::shape_error if the shapes differ and std::invalid_argument for Mean over
/// an empty input.
///
/// @tparam Reduction Sum or Mean (None does not compile)
template <class Reduction = Mean>
class RMSE : public detail::ElementwiseLoss<RMSE<Reduction>, Reduction> {
  static_assert(Reduction::reduces,
                "lossfn::RMSE has no None reduction: its root is taken after the reduction, so there are no "
                "per-term losses (use MSE<None> for per-element squared errors)");

 public:
  /// The loss's name, as it appears in error messages ("lossfn::RMSE::forward: ...").
  static constexpr const char* name = "RMSE";

 private:
  friend struct detail::Driver;
  friend class detail::ElementwiseLoss<RMSE<Reduction>, Reduction>;
  template <class S>
  using Acc = detail::accumulator_t<S>;

  // The kernel programs ElementwiseLoss::run picks (detail/elementwise.hpp). The root is needed
  // before any gradient entry, so the gradient is written in a second pass (the
  // first reads pred and target only).

  // Inputs<S, 3> is a weighted call: the weights are in.x[2], S = sum_i w_i e_i^2.

  /// sum_i e_i^2 (weighted: sum_i w_i e_i^2): MSE<Sum>'s sweep (the same kernel
  /// instantiation as MSE's)
  // (Each program takes the loss's kernel_math first, as ElementwiseLoss's do; RMSE's
  // math is its own, so it is not used.)
  template <class M, class S, std::size_t N>
  Acc<S> total(const M&, const detail::Inputs<S, N>& in) const {
    using Squares = detail::TermOp<detail::OfError<MSE<Sum>>, S, true, detail::Emit::nothing, (N > 2)>;
    return detail::run_elementwise<Acc<S>>(Squares{{}, S(0), in.weight_multiplier}, in.x,
                                           std::array<detail::mut_view_t<S>, 0>{});
  }
  template <class M, class S, std::size_t N>
  Acc<S> total_and_gradient(const M& m, const detail::Inputs<S, N>& in, const detail::Outputs<S, 1>& out,
                            Acc<S> scale) const {
    const Acc<S> sum = total(m, in);
    write_gradient(in, out, factor(sum, scale));
    return sum;
  }
  template <class M, class S, std::size_t N>
  void gradient(const M& m, const detail::Inputs<S, N>& in, const detail::Outputs<S, 1>& out, Acc<S> scale) const {
    total_and_gradient(m, in, out, scale);
  }
  /// d2L/dpred_i^2 = f w_i (1 - scale w_i (e_i / L)^2), f = scale / L (the Hessian
  /// is not diagonal: this is its diagonal); 0 when L = 0, as the gradient.
  template <class M, class S, std::size_t N>
  void hessian(const M& m, const detail::Inputs<S, N>& in, const detail::Outputs<S, 1>& out, Acc<S> scale) const {
    detail::run_elementwise<Acc<S>>(curvature_pass<S, false, (N > 2)>(total(m, in), scale, in.weight_multiplier), in.x,
                                    out.grad);
  }
  template <class M, class S, std::size_t N>
  Acc<S> total_gradient_and_hessian(const M& m, const detail::Inputs<S, N>& in, const detail::Outputs<S, 2>& out,
                                    Acc<S> scale) const {
    const Acc<S> sum = total(m, in);
    detail::run_elementwise<Acc<S>>(curvature_pass<S, true, (N > 2)>(sum, scale, in.weight_multiplier), in.x, out.grad);
    return sum;
  }
  template <class S, bool WithGradient, bool Weighted>
  static detail::RmseCurvature<S, WithGradient, Weighted> curvature_pass(Acc<S> sum, Acc<S> scale, S multiplier) {
    const Acc<S> loss = finish(sum, scale);
    if (loss == Acc<S>(0)) return {scale, Acc<S>(1), Acc<S>(0), multiplier};
    return {scale, loss, scale / loss, multiplier};
  }

  /// L = sqrt(scale x sum)
  template <class A>
  static A finish(A sum, A scale) {
    return std::sqrt(sum * scale);
  }

  /// scale / L, and 0 when L = 0. It stays in the accumulator type: for float
  /// errors below ~1e-38, scale / L does not fit a float although every gradient
  /// entry e_i x scale / L does (found by the fuzzer, tests/fuzz).
  template <class A>
  static A factor(A sum, A scale) {
    const A loss = finish(sum, scale);
    return loss == A(0) ? A(0) : scale / loss;
  }

  template <class S, std::size_t N>
  static void write_gradient(const detail::Inputs<S, N>& in, const detail::Outputs<S, 1>& out, Acc<S> factor) {
    if (std::is_same<S, Acc<S>>::value || factor <= static_cast<Acc<S>>(std::numeric_limits<S>::max())) {
      detail::run_elementwise<Acc<S>>(detail::RmseScaledError<S, false, (N > 2)>{factor, in.weight_multiplier}, in.x,
                                      out.grad);
    } else {
      detail::run_elementwise<Acc<S>>(detail::RmseScaledError<S, true, (N > 2)>{factor, in.weight_multiplier}, in.x,
                                      out.grad);
    }
  }
};

}  // namespace lossfn

// The compiled-kernels build (lossfn::kernels): this loss's kernels are compiled
// once in the library, not in every unit that calls it (detail/instances.hpp).
#if defined(LOSSFN_COMPILED_KERNELS)
#include "detail/instances.hpp"
LOSSFN_DETAIL_EXTERN_KERNELS(RMSE)
#endif
