/// @file
/// The call driver: the one place that turns a public call (forward, backward,
/// forward_backward) into checks, the count of terms, output preparation, a kernel
/// run over canonical views and the reduction's scale.
///
/// A loss hands the driver itself; the driver calls back the loss's kernel
/// programs (see Driver), which see only canonical views (detail/view.hpp): the
/// wrapper types of the caller's arguments stop here, so the kernels are compiled
/// once per scalar type, not once per Array / Matrix / Map / Block / Ref mix.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstddef>

#include "accumulate.hpp"
#include "checks.hpp"
#include "operand.hpp"
#include "view.hpp"

namespace lossfn {
namespace detail {

/// What a kernel program reads: the inputs, each a canonical view of pred's shape
/// (pred, target, then any further input such as the upstream gradient of None).
///
/// Issue 12 adds the weights here as one more member (a view broadcast to pred's
/// shape by its steps, see broadcast()), defaulted so that today's programs and
/// their brace initialisers stay valid.
template <class S, std::size_t N>
struct Inputs {
  std::array<view_t<S>, N> x;  ///< pred first
};

/// What a kernel program writes: one array per differentiated input (dL/dpred,
/// then e.g. dL/dvar for a loss of several inputs), or the per-term losses of None.
///
/// Issue 12 adds the Hessian diagonals as a second array of the same length
/// (`hess`), written by the programs that are asked for it.
template <class S, std::size_t N>
struct Outputs {
  std::array<mut_view_t<S>, N> grad;  ///< grad[k] = d(loss)/d(input k), or the per-term values of None
};

/// The driver of the losses whose arguments all have pred's shape.
///
/// A Loss provides `name`, `reduction` and these kernel programs (S the scalar,
/// Acc = accumulator_t<S>, scale the reduction's factor):
///   Acc  total(const Inputs<S, 2>&)                                   sum of the terms
///   Acc  total_and_gradient(const Inputs<S, 2>&, const Outputs<S, 1>&, Acc scale)
///   void gradient(const Inputs<S, 2>&, const Outputs<S, 1>&, Acc scale)
///   void terms(const Inputs<S, 2>&, const Outputs<S, 1>&)             None's forward
///   void vjp(const Inputs<S, 3>&, const Outputs<S, 1>&)               None's backward
///   static Acc finish(Acc total, Acc scale)                           the reduced loss
/// and grants the driver access (`friend struct detail::Driver`).
struct Driver {
  template <class Loss, class P, class T>
  static auto forward(const Loss& loss, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) {
    using R = typename Loss::reduction;
    using S = scalar_t<P>;
    using Acc = accumulator_t<S>;
    static_assert(same_scalar<P, T>::value);
    check_same_shape(Loss::name, "forward", "pred", pred.rows(), pred.cols(), "target", target.rows(), target.cols());
    if constexpr (R::reduces) check_terms<R>(Loss::name, "forward", pred.size());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    const Inputs<S, 2> in{{view_of(p), view_of(t)}};
    if constexpr (R::reduces) {
      const Acc scale = R::scale(static_cast<Acc>(pred.size()));
      return static_cast<S>(Loss::finish(loss.total(in), scale));
    } else {
      typename P::PlainObject out;
      out.resize(pred.rows(), pred.cols());
      loss.terms(in, Outputs<S, 1>{{mut_view_of(out)}});
      return out;
    }
  }

  template <class Loss, class P, class T>
  static typename P::PlainObject backward(const Loss& loss, const Eigen::DenseBase<P>& pred,
                                          const Eigen::DenseBase<T>& target) {
    using R = typename Loss::reduction;
    static_assert(R::reduces,
                  "lossfn: with the None reduction, backward takes the upstream gradient: "
                  "backward(pred, target, upstream)");
    using S = scalar_t<P>;
    using Acc = accumulator_t<S>;
    static_assert(same_scalar<P, T>::value);
    check_same_shape(Loss::name, "backward", "pred", pred.rows(), pred.cols(), "target", target.rows(), target.cols());
    check_terms<R>(Loss::name, "backward", pred.size());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    typename P::PlainObject out;
    out.resize(pred.rows(), pred.cols());
    loss.gradient(Inputs<S, 2>{{view_of(p), view_of(t)}}, Outputs<S, 1>{{mut_view_of(out)}},
                  R::scale(static_cast<Acc>(pred.size())));
    return out;
  }

  template <class Loss, class P, class T, class U>
  static typename P::PlainObject backward(const Loss& loss, const Eigen::DenseBase<P>& pred,
                                          const Eigen::DenseBase<T>& target, const Eigen::DenseBase<U>& upstream) {
    static_assert(!Loss::reduction::reduces,
                  "lossfn: backward(pred, target, upstream) is for the None reduction; "
                  "Sum and Mean take backward(pred, target)");
    using S = scalar_t<P>;
    static_assert(same_scalar<P, T>::value);
    static_assert(same_scalar<P, U>::value);
    check_same_shape(Loss::name, "backward", "pred", pred.rows(), pred.cols(), "target", target.rows(), target.cols());
    check_same_shape(Loss::name, "backward", "pred", pred.rows(), pred.cols(), "upstream", upstream.rows(),
                     upstream.cols());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    operand_t<U> u = upstream.derived();
    typename P::PlainObject out;
    out.resize(pred.rows(), pred.cols());
    loss.vjp(Inputs<S, 3>{{view_of(p), view_of(t), view_of(u)}}, Outputs<S, 1>{{mut_view_of(out)}});
    return out;
  }

  template <class Loss, class P, class T, class G>
  static scalar_t<P> forward_backward(const Loss& loss, const Eigen::DenseBase<P>& pred,
                                      const Eigen::DenseBase<T>& target, const Eigen::DenseBase<G>& grad_out) {
    using R = typename Loss::reduction;
    static_assert(R::reduces,
                  "lossfn: forward_backward needs a reducing policy (Sum or Mean); with None, "
                  "call forward and backward(pred, target, upstream)");
    using S = scalar_t<P>;
    using Acc = accumulator_t<S>;
    static_assert(same_scalar<P, T>::value);
    static_assert(same_scalar<P, G>::value);
    check_same_shape(Loss::name, "forward_backward", "pred", pred.rows(), pred.cols(), "target", target.rows(),
                     target.cols());
    check_terms<R>(Loss::name, "forward_backward", pred.size());
    check_output(Loss::name, "forward_backward", "grad_out", grad_out, "pred", pred.rows(), pred.cols());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    G& grad = prepare_output(grad_out, pred.rows(), pred.cols());
    const Acc scale = R::scale(static_cast<Acc>(pred.size()));
    const Acc total =
        loss.total_and_gradient(Inputs<S, 2>{{view_of(p), view_of(t)}}, Outputs<S, 1>{{mut_view_of(grad)}}, scale);
    return static_cast<S>(Loss::finish(total, scale));
  }
};

}  // namespace detail
}  // namespace lossfn
