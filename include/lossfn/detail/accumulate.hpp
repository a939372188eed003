/// @file
/// How lossfn sums many terms fast without losing accuracy or range: float pieces
/// summed in float, the pieces combined in double, and a piece whose float sum may
/// be wrong summed again in the accumulation type. Shared by every kernel that sums.
#pragma once

#include <Eigen/Core>

#include <limits>
#include <type_traits>

namespace lossfn {
namespace detail {

/// Sums of float terms are accumulated in double; double and long double in themselves.
template <class Scalar>
using accumulator_t = std::conditional_t<(sizeof(Scalar) < sizeof(double)), double, Scalar>;

/// Coefficients per block: the blocks of pred, target and gradient (3 x 2048 x 8 B
/// in double) stay in L1 between the reduction and the gradient write. A block is
/// also the unit of the float sums below.
constexpr Eigen::Index kBlock = 2048;

/// The type a kernel sums one block's terms in (its lanes): the scalar itself when
/// every term is >= 0, the accumulation type when terms may be negative.
///
/// Why: Eigen 3.4 runs a sum over a float->double cast expression as scalar code
/// (measured 20x slower than memory at AVX-512; the packet sizes of the two types
/// differ), so float terms are summed in float. A float sum of at most kBlock
/// non-negative terms in 4 x 64 bytes of lanes is within ~(kBlock/64)*eps relative
/// of the exact one, and combining the blocks in double keeps 1e7-term sums within
/// 1e-7 relative (tests/test_accuracy.cpp). With terms of both signs the error is
/// relative to the sum of |terms|, not to the sum, and cancellation can leave no
/// correct digit: those blocks are summed in the accumulation type from the start.
template <class S, bool NegativeTerms>
using block_sum_t = std::conditional_t<NegativeTerms, accumulator_t<S>, S>;

/// Whether one block's sum `fast`, in the block sum type R (block_sum_t), can be
/// added to the total as it is; if not, the block's terms are summed again in the
/// accumulation type (kernels do it with their own inputs).
///
/// R the accumulation type (double, long double, or terms of either sign): `fast`
/// is as accurate as the total. R float (terms >= 0): the one risk of the float
/// sum is range, a term that overflows (|e| > 1.8e19 for MSE) or underflows, or
/// NaN/inf in the inputs. Then the block sum falls outside [min * kBlock, max] and
/// that block alone is summed again, as if there were no fast path: speed costs
/// neither accuracy nor overflow safety. Only valid for non-negative terms
/// (block_sum_t ensures it). Usage, in any kernel that sums blocks:
///   total += block_fits(fast) ? Acc(fast) : the block summed in Acc;
template <class R>
bool block_fits(R fast) {
  if constexpr (std::is_same<R, accumulator_t<R>>::value) {
    return true;
  } else {
    return fast >= std::numeric_limits<R>::min() * R(kBlock) && fast <= std::numeric_limits<R>::max();
  }
}

/// acc + the terms of expr: lane-wise when acc is an array of lanes, summed when
/// it is one scalar (the tail of a piece, a strided piece), in acc's type. Always
/// inlined, as the other per-lane helpers of the kernels: GCC otherwise calls it
/// once per 64-byte lane with the expression built on the stack (measured 13x).
template <class A, class Expr>
EIGEN_ALWAYS_INLINE A add_terms(const A& acc, const Eigen::ArrayBase<Expr>& terms) {
  if constexpr (std::is_arithmetic<A>::value) {
    return acc + terms.template cast<A>().sum();
  } else {
    return acc + terms.template cast<typename A::Scalar>();
  }
}

}  // namespace detail
}  // namespace lossfn
