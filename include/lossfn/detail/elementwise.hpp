/// @file
/// The shared machinery of the elementwise losses (MSE, MAE, RMSE, Huber): a
/// blocked traversal of pred, target and gradient, and a CRTP base that turns a
/// loss's per-term `value(e)` and `slope(e)` (e = pred - target) into forward,
/// backward and forward_backward under any reduction.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "../reduction.hpp"
#include "checks.hpp"
#include "operand.hpp"

namespace lossfn {
namespace detail {

/// Coefficients per block: the blocks of pred, target and gradient (3 x 2048 x 8 B
/// in double) stay in L1 between the reduction and the gradient write.
constexpr Eigen::Index kBlock = 2048;

template <class X>
auto flat_view(X& x) {
  using Plain = Eigen::Array<typename std::remove_const_t<X>::Scalar, Eigen::Dynamic, 1>;
  using Viewed = std::conditional_t<std::is_const<X>::value, const Plain, Plain>;
  return Eigen::Map<Viewed>(x.data(), x.size());
}

/// Calls fn(block_of_first, block_of_rest...) over pieces of at most kBlock
/// coefficients that cover every coefficient once, in `first`'s storage order.
/// All operands have first's shape. When they share one flat layout the pieces are
/// contiguous vector segments (vectorised loads); otherwise they are pieces of the
/// rows or columns of each operand.
template <class Fn, class First, class... Rest>
void for_each_block(Fn&& fn, First& first, Rest&... rest) {
  const Eigen::Index n = first.size();
  if ((same_linear_layout(first, rest) && ...)) {
    auto flat_first = flat_view(first);
    for (Eigen::Index start = 0; start < n; start += kBlock) {
      const Eigen::Index len = std::min(kBlock, n - start);
      fn(flat_first.segment(start, len), flat_view(rest).segment(start, len)...);
    }
    return;
  }
  constexpr bool row_major = std::remove_const_t<First>::IsRowMajor;
  const Eigen::Index outer = row_major ? first.rows() : first.cols();
  const Eigen::Index inner = row_major ? first.cols() : first.rows();
  for (Eigen::Index o = 0; o < outer; ++o) {
    for (Eigen::Index start = 0; start < inner; start += kBlock) {
      const Eigen::Index len = std::min(kBlock, inner - start);
      if constexpr (row_major) {
        fn(first.block(o, start, 1, len), rest.block(o, start, 1, len)...);
      } else {
        fn(first.block(start, o, len, 1), rest.block(start, o, len, 1)...);
      }
    }
  }
}

/// out = expr, where out may be a Matrix-kind block and expr an array expression.
template <class Out, class Expr>
void assign(Out&& out, const Expr& expr) {
  if constexpr (std::is_base_of<Eigen::MatrixBase<std::decay_t<Out>>, std::decay_t<Out>>::value) {
    out.array() = expr;
  } else {
    out = expr;
  }
}

/// True for the pieces for_each_block makes when all operands share one flat
/// layout (contiguous column segments): the ones the chunked sweeps take.
template <class X>
inline constexpr bool is_flat_piece = std::decay_t<X>::ColsAtCompileTime == 1;
template <>
inline constexpr bool is_flat_piece<std::nullptr_t> = true;

/// sum math.value(p - t) over one piece, in S, and, when `grad` points to a piece
/// (not nullptr_t), writes *grad = scale * math.slope(p - t) in the same sweep: each
/// e is computed once and the inputs are read once.
template <class Math, class PB, class TB, class GB>
scalar_t<PB> sweep(const Math& math, const PB& p, const TB& t, GB grad, scalar_t<PB> scale) {
  using S = scalar_t<PB>;
  constexpr bool writes = !std::is_same<GB, std::nullptr_t>::value;
  if constexpr (is_flat_piece<PB> && is_flat_piece<TB> && is_flat_piece<std::remove_pointer_t<GB>>) {
    // Four accumulators of 64 bytes each (one AVX-512 register): separate small
    // objects, because GCC keeps those in registers but spills a 256-byte array
    // to the stack on every chunk once the loop also stores the gradient.
    constexpr Eigen::Index V = 64 / static_cast<Eigen::Index>(sizeof(S));
    constexpr Eigen::Index W = 4 * V;
    using Lane = Eigen::Array<S, V, 1>;
    const Math local = math;  // a local copy: the gradient stores cannot alias its options
    const S* pp = p.data();
    const S* tp = t.data();
    S* gp = nullptr;
    if constexpr (writes) gp = grad->data();
    const Eigen::Index n = p.size();
    const Eigen::Index whole = n - n % W;
    Lane a0 = Lane::Zero(), a1 = Lane::Zero(), a2 = Lane::Zero(), a3 = Lane::Zero();
    // acc by value, not by reference: an accumulator whose address is never taken
    // stays in a register (GCC otherwise stores it back on every chunk).
    auto step = [&](Lane acc, Eigen::Index i) -> Lane {
      const Lane e = Eigen::Map<const Lane>(pp + i) - Eigen::Map<const Lane>(tp + i);
      if constexpr (writes) Eigen::Map<Lane>(gp + i) = local.slope(e) * scale;
      return acc + local.value(e);
    };
    for (Eigen::Index i = 0; i < whole; i += W) {
      a0 = step(a0, i);
      a1 = step(a1, i + V);
      a2 = step(a2, i + 2 * V);
      a3 = step(a3, i + 3 * V);
    }
    const auto e = p.tail(n - whole) - t.tail(n - whole);
    if constexpr (writes) grad->tail(n - whole) = math.slope(e) * scale;
    const Lane acc = (a0 + a1) + (a2 + a3);
    return acc.sum() + math.value(e).sum();
  } else {
    const auto e = as_array(p) - as_array(t);
    if constexpr (writes) assign(*grad, math.slope(e) * scale);
    return math.value(e).sum();
  }
}

/// sum_i math.value(p_i - t_i) over one block, in the accumulator type, and the
/// gradient of the block when `grad` points to its piece (see sweep).
///
/// Float terms are summed in float and the block sums combined in double: Eigen 3.4
/// runs a sum over a float->double cast expression as scalar code (measured 20x
/// slower than memory at AVX-512; the packet sizes of the two types differ). A float sum of at most
/// kBlock non-negative terms (every elementwise loss's terms are) in 4 x 64 bytes of
/// lanes is within ~(kBlock/64)*eps relative of the exact one, and combining the blocks in
/// double keeps 1e7-term sums within 1e-7 relative (tests/test_accuracy.cpp). The
/// one risk of float is range: a term that overflows (|e| > 1.8e19 for MSE) or
/// underflows, or NaN/inf in the inputs. Then the block sum falls outside
/// [min*kBlock, max], and that block alone is summed again in the accumulator type,
/// as if there were no fast path: speed costs neither accuracy nor overflow safety.
template <class Acc, class Math, class PB, class TB, class GB>
Acc block_sum(const Math& math, const PB& p, const TB& t, GB grad, scalar_t<PB> scale) {
  using S = scalar_t<PB>;
  const S fast = sweep(math, p, t, grad, scale);
  if constexpr (std::is_same<S, Acc>::value) {
    return fast;
  } else {
    if (fast >= std::numeric_limits<S>::min() * S(kBlock) && fast <= std::numeric_limits<S>::max()) {
      return static_cast<Acc>(fast);
    }
    return math.value((as_array(p) - as_array(t)).template cast<Acc>()).sum();
  }
}

/// sum_i math.value(pred_i - target_i), in the accumulator type: one read of each input.
template <class Math, class P, class T>
accumulator_t<scalar_t<P>> sum_terms(const Math& math, const P& pred, const T& target) {
  using Acc = accumulator_t<scalar_t<P>>;
  Acc total(0);
  for_each_block([&](const auto& p, const auto& t) { total += block_sum<Acc>(math, p, t, nullptr, scalar_t<P>(0)); },
                 pred, target);
  return total;
}

/// One pass: returns sum_i math.value(e_i) and writes grad_i = scale * math.slope(e_i),
/// reading pred and target once and writing grad once.
template <class Math, class P, class T, class G>
accumulator_t<scalar_t<P>> sum_terms_and_slopes(const Math& math, const P& pred, const T& target, G& grad,
                                                scalar_t<P> scale) {
  using Acc = accumulator_t<scalar_t<P>>;
  Acc total(0);
  for_each_block([&](const auto& p, const auto& t, auto&& g) { total += block_sum<Acc>(math, p, t, &g, scale); }, pred,
                 target, grad);
  return total;
}

/// Base of the elementwise losses. Derived supplies `name`, the per-term
/// `value(e)` and its derivative `slope(e)` as array expressions of e = pred - target.
template <class Derived, class Reduction>
class ElementwiseLoss {
 public:
  using reduction = Reduction;

  /// Sum/Mean: the reduced loss (a scalar of pred's type). None: the per-term
  /// losses, an array of pred's shape.
  template <class P, class T>
  auto forward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    require_same_scalar<P, T>();
    using S = scalar_t<P>;
    check_same_shape(Derived::name, "forward", "pred", pred, "target", target);
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    if constexpr (Reduction::reduces) {
      check_terms<Reduction>(Derived::name, "forward", pred.size());
      const auto count = static_cast<accumulator_t<S>>(pred.size());
      return static_cast<S>(sum_terms(self(), p, t) * Reduction::scale(count));
    } else {
      return make_plain<P>(self().value(as_array(p) - as_array(t)));
    }
  }

  /// Sum/Mean: dL/dpred, of pred's shape and kind.
  template <class P, class T>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    static_assert(Reduction::reduces,
                  "lossfn: with the None reduction, backward takes the upstream gradient: "
                  "backward(pred, target, upstream)");
    require_same_scalar<P, T>();
    using S = scalar_t<P>;
    check_same_shape(Derived::name, "backward", "pred", pred, "target", target);
    check_terms<Reduction>(Derived::name, "backward", pred.size());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    return make_plain<P>(self().slope(as_array(p) - as_array(t)) * Reduction::scale(static_cast<S>(pred.size())));
  }

  /// None: the vector-Jacobian product upstream * d(per-term loss)/dpred.
  template <class P, class T, class U>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                   const Eigen::DenseBase<U>& upstream) const {
    static_assert(!Reduction::reduces,
                  "lossfn: backward(pred, target, upstream) is for the None reduction; "
                  "Sum and Mean take backward(pred, target)");
    require_same_scalar<P, T>();
    require_same_scalar<P, U>();
    check_same_shape(Derived::name, "backward", "pred", pred, "target", target);
    check_same_shape(Derived::name, "backward", "pred", pred, "upstream", upstream);
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    operand_t<U> u = upstream.derived();
    return make_plain<P>(self().slope(as_array(p) - as_array(t)) * as_array(u));
  }

  /// Sum/Mean, in one pass: returns the loss and writes dL/dpred into grad_out
  /// (an Array or Matrix, resized if needed, or a Map, Block or Ref of pred's shape).
  template <class P, class T, class G>
  scalar_t<P> forward_backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                               const Eigen::DenseBase<G>& grad_out) const {
    static_assert(Reduction::reduces,
                  "lossfn: forward_backward needs a reducing policy (Sum or Mean); with None, "
                  "call forward and backward(pred, target, upstream)");
    require_same_scalar<P, T>();
    require_same_scalar<P, G>();
    using S = scalar_t<P>;
    check_same_shape(Derived::name, "forward_backward", "pred", pred, "target", target);
    check_terms<Reduction>(Derived::name, "forward_backward", pred.size());
    check_output(Derived::name, "forward_backward", "grad_out", grad_out, "pred", pred.rows(), pred.cols());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    G& grad = prepare_output(grad_out, pred.rows(), pred.cols());
    const auto count = static_cast<accumulator_t<S>>(pred.size());
    const auto total = sum_terms_and_slopes(self(), p, t, grad, static_cast<S>(Reduction::scale(count)));
    return static_cast<S>(total * Reduction::scale(count));
  }

  /// Same as forward.
  template <class P, class T>
  auto operator()(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return forward(pred, target);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace lossfn
