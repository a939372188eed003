/// @file
/// The elementwise kernel family and the base of the elementwise losses.
///
/// The kernel, run_elementwise, sweeps any number of input and output views of
/// one shape (detail/view.hpp; a broadcast operand is a view with a step of 0) in
/// pieces of at most kBlock coefficients, calls an operation per piece and sums
/// what the operation returns with the float-block scheme of detail/accumulate.hpp.
/// It is compiled once per (operation, scalar): the storage order, strides and
/// broadcasts of the operands are run-time steps, and the contiguous fast path
/// (every operand one flat vector in the same order: vectorised 64-byte lanes) is
/// chosen at run time.
///
/// Losses whose per-term math is a function of e = pred - target (MSE, MAE,
/// Huber, SmoothL1) derive from ElementwiseLoss and supply `value(e)` and
/// `slope(e)`; OfError adapts them to the kernel's functions of (pred, target).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <utility>

#include "../reduction.hpp"
#include "accumulate.hpp"
#include "checks.hpp"
#include "driver.hpp"
#include "operand.hpp"
#include "view.hpp"

namespace lossfn {
namespace detail {

// ---- traversal ----------------------------------------------------------------

/// How run_pieces walks N operands of one rows x cols shape that are not all
/// flat (see all_flat): `outer` lines of `inner` coefficients, line o of operand k
/// starting at o * across[k] and its coefficients `step[k]` apart. The lines run
/// along the storage order of operand 0 (down its columns unless its column step
/// is the smaller); the kernel cuts each line into pieces of at most kBlock.
template <std::size_t N>
struct Traversal {
  Eigen::Index inner, outer;
  std::array<Eigen::Index, N> step, across;
  bool contiguous;  ///< every step is 1
};

template <std::size_t N>
Traversal<N> traversal(Eigen::Index rows, Eigen::Index cols, const std::array<Eigen::Index, N>& row_step,
                       const std::array<Eigen::Index, N>& col_step) {
  const bool down = cols == 1 || (rows != 1 && row_step[0] <= col_step[0]);
  Traversal<N> t{down ? rows : cols, down ? cols : rows, {}, {}, true};
  for (std::size_t k = 0; k < N; ++k) {
    t.step[k] = down ? row_step[k] : col_step[k];
    t.across[k] = down ? col_step[k] : row_step[k];
    t.contiguous = t.contiguous && t.step[k] == 1;
  }
  return t;
}

template <class S>
using piece_t = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>;
template <class S>
using strided_piece_t = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>, Eigen::Unaligned, Eigen::InnerStride<>>;
template <class S>
using mut_strided_piece_t = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>, Eigen::Unaligned, Eigen::InnerStride<>>;

/// One piece of each of N operands, all of one length, read as Eigen arrays through
/// operator[]: M is a fixed-size lane map (64 bytes at data[k] + offset), a
/// contiguous segment map or a strided segment map (length, step[k]). Built on
/// the fly rather than stored, so one such type serves any number of operands.
template <class M, class Pointer, std::size_t N>
struct Pieces {
  std::array<Pointer, N> data;
  Eigen::Index length = 0;
  std::array<Eigen::Index, N> step{};
  Eigen::Index offset = 0;

  EIGEN_ALWAYS_INLINE M operator[](std::size_t k) const {
    if constexpr (M::SizeAtCompileTime != Eigen::Dynamic) {
      return M(data[k] + offset);
    } else if constexpr (M::InnerStrideAtCompileTime == 1) {
      return M(data[k] + offset, length);
    } else {
      return M(data[k] + offset, length, Eigen::InnerStride<>(step[k]));
    }
  }
};

/// The pieces P read in the accumulation type Acc (a block summed again).
template <class Acc, class P>
struct CastPieces {
  const P& pieces;
  EIGEN_ALWAYS_INLINE auto operator[](std::size_t k) const { return pieces[k].template cast<Acc>(); }
};

// ---- sweeps -----------------------------------------------------------------------

/// An operation of the kernel (what MSE's forward_backward, None's forward, RMSE's
/// gradient pass... do to each coefficient) is an object with
///   static constexpr bool sums;            whether the kernel returns the sum of its terms
///   static constexpr bool negative_terms;  whether a term may be < 0 (see block_sum_t)
///   template <bool Write, class A, class In, class Out>
///   A step(A acc, const In& in, Out& out) const;
/// step writes its outputs out[k] (when Write) from its inputs in[k] (Pieces: Eigen
/// array pieces of one length, 64-byte lanes, vector segments or strided segments;
/// or CastPieces, the inputs in the accumulation type, with Write false), and
/// returns add_terms(acc, its terms), or acc when it does not sum.

/// Runs op over n contiguous coefficients of every operand; returns the sum of its
/// terms in R. Four accumulators of 64 bytes each (one AVX-512 register): separate
/// small objects, because GCC keeps those in registers but spills a 256-byte array
/// to the stack on every chunk once the loop also stores the gradient. Inlined into
/// the kernel's piece loop: as a call it cost ~1.6x at 1e3 coefficients.
template <class R, class Op, class S, std::size_t NI, std::size_t NO>
EIGEN_ALWAYS_INLINE R sweep_contiguous(const Op& op, const std::array<const S*, NI>& in, const std::array<S*, NO>& out,
                                       Eigen::Index n) {
  constexpr Eigen::Index V = 64 / static_cast<Eigen::Index>(sizeof(S));
  constexpr Eigen::Index W = 4 * V;
  using Lane = Eigen::Array<S, V, 1>;
  using Sum = Eigen::Array<R, V, 1>;
  const Op local = op;  // a local copy: the output stores cannot alias its options
  Pieces<Eigen::Map<const Lane>, const S*, NI> x{in};
  Pieces<Eigen::Map<Lane>, S*, NO> y{out};
  const Eigen::Index whole = n - n % W;
  // Accumulators by value, not by reference: an accumulator whose address is never
  // taken stays in a register (GCC otherwise stores it back on every chunk).
  Sum a0 = Sum::Zero(), a1 = Sum::Zero(), a2 = Sum::Zero(), a3 = Sum::Zero();
  for (Eigen::Index i = 0; i < whole; i += W) {
    x.offset = y.offset = i;
    a0 = local.template step<true>(a0, x, y);
    x.offset = y.offset = i + V;
    a1 = local.template step<true>(a1, x, y);
    x.offset = y.offset = i + 2 * V;
    a2 = local.template step<true>(a2, x, y);
    x.offset = y.offset = i + 3 * V;
    a3 = local.template step<true>(a3, x, y);
  }
  // The tail: whole lanes into a lane accumulator, then the last coefficients one
  // by one. Not one dynamic-length piece: GCC calls Eigen's sum over it out of
  // line, with the lane accumulators spilled around the call (~10 ns per call).
  const Eigen::Index lanes = n - n % V;
  for (Eigen::Index i = whole; i < lanes; i += V) {
    x.offset = y.offset = i;
    a0 = local.template step<true>(a0, x, y);
  }
  using One = Eigen::Array<S, 1, 1>;
  Pieces<Eigen::Map<const One>, const S*, NI> x_one{in};
  Pieces<Eigen::Map<One>, S*, NO> y_one{out};
  R tail(0);
  for (Eigen::Index i = lanes; i < n; ++i) {
    x_one.offset = y_one.offset = i;
    tail = local.template step<true>(tail, x_one, y_one);
  }
  return ((a0 + a1) + (a2 + a3)).sum() + tail;
}

/// The terms of pieces summed again in the accumulation type (see block_fits).
template <class Acc, class Op, class P>
Acc resum(const Op& op, const P& pieces) {
  const CastPieces<Acc, P> cast{pieces};
  std::array<int, 0> none{};
  return op.template step<false>(Acc(0), cast, none);
}

/// total += one piece's sum `fast` (in the block sum type R), or the piece summed
/// again in Acc when `fast` may be wrong (block_fits). Nothing for an operation
/// that does not sum.
template <class Acc, class Op, class R, class P>
EIGEN_ALWAYS_INLINE void add_piece(Acc& total, [[maybe_unused]] R fast, [[maybe_unused]] const Op& op,
                                   [[maybe_unused]] const P& pieces) {
  if constexpr (Op::sums && std::is_same<R, Acc>::value) {
    total += fast;
  } else if constexpr (Op::sums) {
    total += block_fits(fast) ? static_cast<Acc>(fast) : resum<Acc>(op, pieces);
  }
}

/// Whether every operand is one flat vector in the storage order of operand 0
/// (see traversal): the kernel's fast path.
template <class S, std::size_t NI, std::size_t NO>
EIGEN_ALWAYS_INLINE bool all_flat(const std::array<view_t<S>, NI>& in, const std::array<mut_view_t<S>, NO>& out) {
  const Eigen::Index rows = in[0].rows(), cols = in[0].cols();
  const bool down = cols == 1 || (rows != 1 && in[0].innerStride() <= in[0].outerStride());
  const Eigen::Index inner = down ? rows : cols, outer = down ? cols : rows;
  auto flat = [&](Eigen::Index row_step, Eigen::Index col_step) {
    return (down ? row_step : col_step) == 1 && (outer <= 1 || (down ? col_step : row_step) == inner);
  };
  bool all = true;
  for (std::size_t k = 0; k < NI; ++k) all = all && flat(in[k].innerStride(), in[k].outerStride());
  for (std::size_t k = 0; k < NO; ++k) all = all && flat(out[k].innerStride(), out[k].outerStride());
  return all;
}

/// The kernel over any layout: the pieces of the traversal, contiguous (lanes) or
/// strided. Kept out of line: inlined beside the flat path, its register pressure
/// made GCC spill the flat path's pointers and counters (10-25 ns per call at 1e3).
template <class Acc, class Op, class S, std::size_t NI, std::size_t NO>
EIGEN_DONT_INLINE Acc run_pieces(const Op& op, const std::array<view_t<S>, NI>& in, std::array<mut_view_t<S>, NO> out) {
  using R = block_sum_t<S, Op::negative_terms>;
  std::array<Eigen::Index, NI + NO> row_step{}, col_step{};
  for (std::size_t k = 0; k < NI; ++k) {
    row_step[k] = in[k].innerStride();
    col_step[k] = in[k].outerStride();
  }
  for (std::size_t k = 0; k < NO; ++k) {
    row_step[NI + k] = out[k].innerStride();
    col_step[NI + k] = out[k].outerStride();
  }
  const Traversal<NI + NO> walk = traversal(in[0].rows(), in[0].cols(), row_step, col_step);
  std::array<Eigen::Index, NI> x_step{};
  std::array<Eigen::Index, NO> y_step{};
  for (std::size_t k = 0; k < NI; ++k) x_step[k] = walk.step[k];
  for (std::size_t k = 0; k < NO; ++k) y_step[k] = walk.step[NI + k];
  Acc total(0);
  for (Eigen::Index o = 0; o < walk.outer; ++o) {
    for (Eigen::Index start = 0; start < walk.inner; start += kBlock) {
      const Eigen::Index n = std::min(kBlock, walk.inner - start);
      std::array<const S*, NI> x{};
      std::array<S*, NO> y{};
      for (std::size_t k = 0; k < NI; ++k) x[k] = in[k].data() + o * walk.across[k] + start * walk.step[k];
      for (std::size_t k = 0; k < NO; ++k) y[k] = out[k].data() + o * walk.across[NI + k] + start * walk.step[NI + k];
      const Pieces<strided_piece_t<S>, const S*, NI> x_strided{x, n, x_step};
      R fast;
      if (walk.contiguous) {
        fast = sweep_contiguous<R>(op, x, y, n);
      } else {
        Pieces<mut_strided_piece_t<S>, S*, NO> y_strided{y, n, y_step};
        fast = op.template step<true>(R(0), x_strided, y_strided);
      }
      add_piece(total, fast, op, x_strided);
    }
  }
  return total;
}

/// The elementwise kernel: runs op over every coefficient of the views (all of
/// in[0]'s shape; broadcast operands have steps of 0) and returns the sum of its
/// terms in Acc (0 for an operation that does not sum). Flat operands (the usual
/// case: whole arrays of one storage order) take a loop of their own, consecutive
/// blocks of the flat vectors; anything else goes to run_pieces.
template <class Acc, class Op, class S, std::size_t NI, std::size_t NO>
Acc run_elementwise(const Op& op, const std::array<view_t<S>, NI>& in, std::array<mut_view_t<S>, NO> out) {
  using R = block_sum_t<S, Op::negative_terms>;
  if (!all_flat(in, out)) return run_pieces<Acc>(op, in, out);
  const Eigen::Index size = in[0].rows() * in[0].cols();
  Acc total(0);
  for (Eigen::Index start = 0; start < size; start += kBlock) {
    const Eigen::Index n = std::min(kBlock, size - start);
    std::array<const S*, NI> x{};
    std::array<S*, NO> y{};
    for (std::size_t k = 0; k < NI; ++k) x[k] = in[k].data() + start;
    for (std::size_t k = 0; k < NO; ++k) y[k] = out[k].data() + start;
    const R fast = sweep_contiguous<R>(op, x, y, n);
    add_piece(total, fast, op, Pieces<piece_t<S>, const S*, NI>{x, n});
  }
  return total;
}

// ---- operations of functions of (pred, target) ----------------------------------

/// Whether a math declares `static constexpr bool negative_terms = true`.
template <class Math, class = void>
struct declares_negative_terms : std::false_type {};
template <class Math>
struct declares_negative_terms<Math, std::enable_if_t<Math::negative_terms>> : std::true_type {};

/// What an elementwise operation writes into out[0] (and out[1]). A weighted
/// operation reads the weights as its last input and multiplies every term and
/// every output by them.
enum class Emit {
  nothing,                 ///< forward of Sum and Mean
  scaled_slope,            ///< scale * d(term)/dpred: the gradient of Sum and Mean
  value,                   ///< the term itself: None's forward
  upstream_slope,          ///< in[2] * d(term)/dpred: None's backward (the VJP)
  scaled_curvature,        ///< scale * d2(term)/dpred2: the Hessian diagonal of Sum and Mean
  upstream_curvature,      ///< in[2] * d2(term)/dpred2: None's Hessian diagonal
  scaled_slope_curvature,  ///< out[0] the gradient, out[1] the Hessian diagonal: forward_backward_hessian
};

/// The operands of a per-term math: 2 (pred, target), or what it declares as
/// `static constexpr std::size_t operands` (3: a third input of pred's shape after
/// the target, e.g. BinaryCrossEntropy's pos_weight broadcast down the rows).
template <class Math, class = void>
struct operand_count : std::integral_constant<std::size_t, 2> {};
template <class Math>
struct operand_count<Math, std::void_t<decltype(Math::operands)>>
    : std::integral_constant<std::size_t, Math::operands> {};

/// The inputs of an unweighted operation of E on a math of A operands: the operands
/// (and None's upstream, input A).
template <Emit E, std::size_t A = 2>
constexpr std::size_t unweighted_inputs = E == Emit::upstream_slope || E == Emit::upstream_curvature ? A + 1 : A;

/// The adapter from a per-term math of e = pred - target (`value(e)`, `slope(e)`
/// = d/de = d/dpred, `curvature(e)` = d2/de2 = d2/dpred2) to the kernel's
/// functions of (pred, target).
template <class Loss>
struct OfError {
  Loss loss;
  template <class P, class T>
  EIGEN_ALWAYS_INLINE auto value(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return loss.value(p - t);
  }
  template <class P, class T>
  EIGEN_ALWAYS_INLINE auto slope(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return loss.slope(p - t);
  }
  template <class P, class T>
  EIGEN_ALWAYS_INLINE auto curvature(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return loss.curvature(p - t);
  }
};

// ---- building blocks of vectorised piecewise math ------------------------------------
// Eigen 3.4 vectorises min and max but neither select nor sign (a 10x difference):
// steps and signs are written as clamps. With the array as first operand, min/max
// return its NaN (like std::min), so a NaN input stays NaN.

/// 2^k with k half the exponent range of T: huge * huge >= 1 / denorm_min, huge finite.
template <class T>
constexpr T huge_scale() {
  T x(1);
  for (int i = 0; i < (std::numeric_limits<T>::digits - std::numeric_limits<T>::min_exponent + 1) / 2; ++i) x *= T(2);
  return x;
}

/// 1 where x > 0, 0 where x <= 0 (every nonzero x, down to the smallest denormal,
/// scaled to >= 1 in magnitude, then clamped), NaN where x is NaN.
template <class X>
EIGEN_ALWAYS_INLINE auto positive_step(const Eigen::ArrayBase<X>& x) {
  using T = typename X::Scalar;
  constexpr T big = huge_scale<T>();
  return (x * big * big).max(T(0)).min(T(1));
}

/// 0 where x is a number (infinities included), NaN where it is NaN: what a constant
/// second derivative adds so that a NaN error still gives NaN.
template <class X>
EIGEN_ALWAYS_INLINE auto zero_or_nan(const Eigen::ArrayBase<X>& x) {
  using T = typename X::Scalar;
  return x.min(T(0)).max(T(0));
}

template <class Math>
struct is_of_error : std::false_type {};
template <class Loss>
struct is_of_error<OfError<Loss>> : std::true_type {};

/// A fixed-size expression (one 64-byte lane) evaluated into its plain array, a
/// dynamic one (a strided piece, a piece summed again) kept as an expression.
template <class X>
EIGEN_ALWAYS_INLINE auto lane_or_expression(const X& x) {
  if constexpr (X::SizeAtCompileTime != Eigen::Dynamic) {
    return typename X::PlainObject(x);
  } else {
    return x;
  }
}

/// The kernel operation of a per-term math of (pred, target): `value(p, t)`, the
/// term, `slope(p, t)`, its derivative in pred, and `curvature(p, t)`, its second
/// derivative, all array expressions (a math of 3 operands takes (p, t, c)). For a
/// math of e (OfError), e is computed once per lane and the loss's value(e) and
/// slope(e) read that lane: what GCC inlines (an expression of two maps handed to
/// Huber's value measured 9x slower, a call per lane); the operands of other maths
/// are read into lanes the same way. None's upstream is the input after the math's operands. Weighted: the weights are
/// input unweighted_inputs<E, operands> and multiply the terms and the outputs.
template <class Math, class S, bool Sums, Emit E, bool Weighted = false>
struct TermOp {
  static constexpr bool sums = Sums;
  static constexpr bool negative_terms = declares_negative_terms<Math>::value;
  static constexpr std::size_t operands = operand_count<Math>::value;  ///< the math's operands: inputs 0 .. operands-1
  Math math;
  S scale;                     ///< the reduction's factor, for Emit::scaled_slope
  S weight_multiplier = S(1);  ///< Weighted: a power of two every weight is read times (WeightsView)

  template <bool Write, class A, class In, class Out>
  EIGEN_ALWAYS_INLINE A step(A acc, const In& in, Out& out) const {
    if constexpr (is_of_error<Math>::value) {
      const auto e = lane_or_expression(in[0] - in[1]);
      const auto& loss = math.loss;
      if constexpr (Write) write(out, in, loss, e);
      if constexpr (Sums) {
        return add_terms(acc, weighted(in, loss.value(e)));
      } else {
        return acc;
      }
    } else if constexpr (operands == 2) {
      // the operands evaluated into lanes once, for the same reason as e above
      const auto p = lane_or_expression(in[0]);
      const auto t = lane_or_expression(in[1]);
      if constexpr (Write) write(out, in, math, p, t);
      if constexpr (Sums) {
        return add_terms(acc, weighted(in, math.value(p, t)));
      } else {
        return acc;
      }
    } else {
      static_assert(operands == 3, "a per-term math has 2 or 3 operands");
      const auto p = lane_or_expression(in[0]);
      const auto t = lane_or_expression(in[1]);
      const auto c = lane_or_expression(in[2]);
      if constexpr (Write) write(out, in, math, p, t, c);
      if constexpr (Sums) {
        return add_terms(acc, weighted(in, math.value(p, t, c)));
      } else {
        return acc;
      }
    }
  }

 private:
  /// x times the weights (x itself unweighted).
  template <class In, class X>
  EIGEN_ALWAYS_INLINE auto weighted(const In& in, const X& x) const {
    if constexpr (Weighted) {
      using T = typename std::decay_t<decltype(in[unweighted_inputs<E, operands>])>::Scalar;
      return x * (in[unweighted_inputs<E, operands>] * static_cast<T>(weight_multiplier));
    } else {
      static_cast<void>(in);
      return x;
    }
  }

  /// The outputs of E from m's value, slope and curvature at x... (e, or pred and
  /// target); only what E writes is instantiated, so a math without curvature serves
  /// every other emit.
  template <class Out, class In, class M, class... X>
  EIGEN_ALWAYS_INLINE void write(Out& out, const In& in, const M& m, const X&... x) const {
    if constexpr (E == Emit::value) out[0] = weighted(in, m.value(x...));
    if constexpr (E == Emit::scaled_slope) out[0] = weighted(in, m.slope(x...) * scale);
    if constexpr (E == Emit::upstream_slope) out[0] = weighted(in, m.slope(x...) * in[operands]);
    if constexpr (E == Emit::scaled_curvature) out[0] = weighted(in, m.curvature(x...) * scale);
    if constexpr (E == Emit::upstream_curvature) out[0] = weighted(in, m.curvature(x...) * in[operands]);
    if constexpr (E == Emit::scaled_slope_curvature) {
      out[0] = weighted(in, m.slope(x...) * scale);
      out[1] = weighted(in, m.curvature(x...) * scale);
    }
  }
};

// ---- the elementwise losses ----------------------------------------------------------

/// The loss whose value(e) and slope(e) the kernels of Derived = L<R> call: L<Sum>
/// when L has no options (an empty class: its math cannot depend on R), so that
/// MSE<Mean>, MSE<Sum> and MSE<None> share one set of kernel instantiations, and
/// RMSE's sum of squares is MSE<Sum>'s; Derived itself when it carries options.
template <class Derived>
struct shared_math {
  using type = Derived;
};
template <template <class> class L, class R>
struct shared_math<L<R>> {
  using type = std::conditional_t<std::is_empty<L<Sum>>::value && std::is_empty<L<R>>::value, L<Sum>, L<R>>;
};

/// What an elementwise kernel program reads: the inputs, each a canonical view of
/// pred's shape (pred, target, then None's upstream, then the weights broadcast to
/// pred's shape).
template <class S, std::size_t N>
struct Inputs {
  std::array<view_t<S>, N> x;  ///< pred first
  S weight_multiplier = S(1);  ///< a weighted call: the power of two its weights are read times (WeightsView)
};

/// What an elementwise kernel program writes: one view per output (dL/dpred, or
/// None's per-term losses).
template <class S, std::size_t N>
struct Outputs {
  std::array<mut_view_t<S>, N> grad;
};

/// Base of the elementwise losses: the public calls of PredTargetCalls, and the
/// call driver's hooks (detail/driver.hpp).
/// Derived supplies `name`, the per-term `value(e)` and its derivative `slope(e)`
/// as array expressions of e = pred - target. A loss with other math (RMSE: a root
/// after the reduction) replaces the kernel programs below (total,
/// total_and_gradient, gradient, terms_of, vjp, hessian, vjp_hessian,
/// total_gradient_and_hessian) with its own; each takes Inputs of any length N, the
/// call being weighted when N exceeds unweighted_inputs of its emit. The Hessian
/// calls need the loss's `curvature(e)` = d2(term)/de2.
///
/// @tparam Derived the loss (CRTP)
/// @tparam Reduction Sum, Mean or None
template <class Derived, class Reduction>
class ElementwiseLoss : public PredTargetCalls<Derived, Reduction> {
 protected:
  friend struct Driver;

  // ---- the driver's hooks (see Driver) ----
  static constexpr Terms terms = Terms::per_entry;
  static constexpr const char* first = "pred";
  static constexpr std::array<const char*, 1> gradient_names{{"grad_out"}};
  static constexpr std::array<const char*, 1> hessian_names{{"hess_out"}};

  template <class P, class T>
  static void check(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) {
    static_assert(same_scalar<P, T>::value);
    check_same_shape(Derived::name, function, "pred", pred.rows(), pred.cols(), "target", target.rows(), target.cols());
  }
  template <class P, class T>
  static Inputs<scalar_t<P>, 2> inputs(const P& pred, const T& target) {
    return {{view_of(pred), view_of(target)}};
  }
  /// The number of entries, or (WeightedMean) the weights summed over them (an
  /// m x 1 or 1 x d weight counted once per entry it covers).
  template <class S>
  static double count(const char* /*function*/, const Inputs<S, 2>& in, const WeightsView<S>* weights) {
    if (weights == nullptr) return static_cast<double>(in.x[0].size());
    return (broadcast(weights->values, in.x[0].rows(), in.x[0].cols()) * weights->multiplier)
        .template cast<double>()
        .sum();
  }
  template <class G>
  static auto output_view(G& out) {
    return mut_view_of(out);
  }
  template <class U>
  static auto upstream_view(const U& upstream) {
    return view_of(upstream);
  }
  /// Picks the kernel program of the call (below, or Derived's own), its inputs
  /// pred, target, None's upstream and the weights broadcast to pred's shape, for
  /// the loss's kernel_math(). A loss whose math depends on an option at run time
  /// (BinaryCrossEntropy's pos_weight: a third operand) declares its own run, which
  /// calls run_with with the math and the extra operand.
  template <class S, class W>
  accumulator_t<S> run(const Inputs<S, 2>& in, const W& work) const {
    return run_with(self().kernel_math(), in, work);
  }
  /// run for the math m, its operands pred, target and `extra` (views of pred's
  /// shape: m's third operand), then None's upstream, then the weights.
  template <class Math, class S, class W, class... Extra>
  accumulator_t<S> run_with(const Math& m, const Inputs<S, 2>& in, const W& work, const Extra&... extra) const {
    static_assert(operand_count<Math>::value == 2 + sizeof...(Extra), "one extra view per operand beyond pred, target");
    if constexpr (W::weighted) {
      const view_t<S> w = broadcast(work.weights.values, in.x[0].rows(), in.x[0].cols());
      const S p = work.weights.multiplier;
      if constexpr (W::has_upstream) {
        return program(m, Inputs<S, 4 + sizeof...(Extra)>{{in.x[0], in.x[1], extra..., work.factor, w}, p}, work);
      } else {
        return program(m, Inputs<S, 3 + sizeof...(Extra)>{{in.x[0], in.x[1], extra..., w}, p}, work);
      }
    } else if constexpr (W::has_upstream) {
      return program(m, Inputs<S, 3 + sizeof...(Extra)>{{in.x[0], in.x[1], extra..., work.factor}}, work);
    } else {
      return program(m, Inputs<S, 2 + sizeof...(Extra)>{{in.x[0], in.x[1], extra...}}, work);
    }
  }
  template <class Math, class S, std::size_t N, class W>
  accumulator_t<S> program(const Math& m, const Inputs<S, N>& in, const W& work) const {
    if constexpr (W::writes_terms) {
      self().terms_of(m, in, Outputs<S, 1>{{work.terms}});
      return 0;
    } else if constexpr (W::writes_hessians && W::writes_gradients) {
      return self().total_gradient_and_hessian(m, in, Outputs<S, 2>{{std::get<0>(work.grad), std::get<0>(work.hess)}},
                                               work.factor);
    } else if constexpr (W::writes_hessians && W::has_upstream) {
      self().vjp_hessian(m, in, Outputs<S, 1>{{std::get<0>(work.hess)}});
      return 0;
    } else if constexpr (W::writes_hessians) {
      self().hessian(m, in, Outputs<S, 1>{{std::get<0>(work.hess)}}, work.factor);
      return 0;
    } else if constexpr (!W::writes_gradients) {
      return self().total(m, in);
    } else if constexpr (W::has_upstream) {
      self().vjp(m, in, Outputs<S, 1>{{std::get<0>(work.grad)}});
      return 0;
    } else if constexpr (W::sums) {
      return self().total_and_gradient(m, in, Outputs<S, 1>{{std::get<0>(work.grad)}}, work.factor);
    } else {
      self().gradient(m, in, Outputs<S, 1>{{std::get<0>(work.grad)}}, work.factor);
      return 0;
    }
  }

  /// The per-term math the kernels call: the loss's value(e), slope(e) and
  /// curvature(e) through OfError, shared by every reduction of a loss without
  /// options (shared_math). A loss whose terms are not functions of e alone
  /// (BinaryCrossEntropy, Hinge, ...) declares its own kernel_math(), a small
  /// copyable struct with value(p, t), slope(p, t) and curvature(p, t) (see TermOp)
  /// that does not depend on the reduction, so every reduction shares its kernels.
  auto kernel_math() const {
    using Math = typename shared_math<Derived>::type;
    if constexpr (std::is_same<Math, Derived>::value) {
      return OfError<Math>{self()};
    } else {
      return OfError<Math>{Math{}};
    }
  }

  // The kernel programs: one sweep each of the math m over N inputs (weighted when N
  // exceeds the emit's unweighted inputs).
  template <bool Sums, Emit E, class Math, class S, std::size_t N>
  static auto op(const Math& m, const Inputs<S, N>& in, S scale = S(0)) {
    constexpr bool weighted = N > unweighted_inputs<E, operand_count<Math>::value>;
    return TermOp<Math, S, Sums, E, weighted>{m, scale, in.weight_multiplier};
  }
  template <class Math, class S, std::size_t N>
  accumulator_t<S> total(const Math& m, const Inputs<S, N>& in) const {
    return run_elementwise<accumulator_t<S>>(op<true, Emit::nothing>(m, in), in.x, std::array<mut_view_t<S>, 0>{});
  }
  template <class Math, class S, std::size_t N>
  accumulator_t<S> total_and_gradient(const Math& m, const Inputs<S, N>& in, const Outputs<S, 1>& out,
                                      accumulator_t<S> scale) const {
    return run_elementwise<accumulator_t<S>>(op<true, Emit::scaled_slope>(m, in, static_cast<S>(scale)), in.x,
                                             out.grad);
  }
  template <class Math, class S, std::size_t N>
  void gradient(const Math& m, const Inputs<S, N>& in, const Outputs<S, 1>& out, accumulator_t<S> scale) const {
    run_elementwise<accumulator_t<S>>(op<false, Emit::scaled_slope>(m, in, static_cast<S>(scale)), in.x, out.grad);
  }
  template <class Math, class S, std::size_t N>
  void terms_of(const Math& m, const Inputs<S, N>& in, const Outputs<S, 1>& out) const {
    run_elementwise<accumulator_t<S>>(op<false, Emit::value>(m, in), in.x, out.grad);
  }
  template <class Math, class S, std::size_t N>
  void vjp(const Math& m, const Inputs<S, N>& in, const Outputs<S, 1>& out) const {
    run_elementwise<accumulator_t<S>>(op<false, Emit::upstream_slope>(m, in), in.x, out.grad);
  }
  template <class Math, class S, std::size_t N>
  void hessian(const Math& m, const Inputs<S, N>& in, const Outputs<S, 1>& out, accumulator_t<S> scale) const {
    run_elementwise<accumulator_t<S>>(op<false, Emit::scaled_curvature>(m, in, static_cast<S>(scale)), in.x, out.grad);
  }
  template <class Math, class S, std::size_t N>
  void vjp_hessian(const Math& m, const Inputs<S, N>& in, const Outputs<S, 1>& out) const {
    run_elementwise<accumulator_t<S>>(op<false, Emit::upstream_curvature>(m, in), in.x, out.grad);
  }
  template <class Math, class S, std::size_t N>
  accumulator_t<S> total_gradient_and_hessian(const Math& m, const Inputs<S, N>& in, const Outputs<S, 2>& out,
                                              accumulator_t<S> scale) const {
    return run_elementwise<accumulator_t<S>>(op<true, Emit::scaled_slope_curvature>(m, in, static_cast<S>(scale)), in.x,
                                             out.grad);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace lossfn
