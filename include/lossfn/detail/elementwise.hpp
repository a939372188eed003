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

/// Where one piece of every operand starts (offset from its data pointer) and the
/// step between its coefficients; `length` coefficients in all.
template <std::size_t N>
struct Piece {
  std::array<Eigen::Index, N> offset;
  std::array<Eigen::Index, N> step;
  Eigen::Index length;
  bool contiguous;  ///< every step is 1
};

/// Calls fn(piece) over pieces of at most kBlock coefficients that cover a rows x
/// cols shape once, for N operands given by their row and column steps. The
/// pieces run along the storage order of operand 0 (down its columns unless its
/// column step is the smaller). When every operand is one flat vector in that
/// order (contiguous, and the same order for all unless the shape is a vector) the
/// pieces are consecutive segments of the flat vectors, whatever the row length.
template <std::size_t N, class Fn>
void for_each_piece(Eigen::Index rows, Eigen::Index cols, const std::array<Eigen::Index, N>& row_step,
                    const std::array<Eigen::Index, N>& col_step, Fn&& fn) {
  const bool down = cols == 1 || (rows != 1 && row_step[0] <= col_step[0]);
  const Eigen::Index inner = down ? rows : cols, outer = down ? cols : rows;
  Piece<N> piece{};
  bool flat = true, contiguous = true;
  for (std::size_t k = 0; k < N; ++k) {
    piece.step[k] = down ? row_step[k] : col_step[k];
    const Eigen::Index across = down ? col_step[k] : row_step[k];
    contiguous = contiguous && piece.step[k] == 1;
    flat = flat && piece.step[k] == 1 && (outer <= 1 || across == inner);
  }
  if (flat) {
    const Eigen::Index n = inner * outer;
    piece.contiguous = true;
    for (Eigen::Index start = 0; start < n; start += kBlock) {
      piece.offset.fill(start);
      piece.length = std::min(kBlock, n - start);
      fn(static_cast<const Piece<N>&>(piece));
    }
    return;
  }
  piece.contiguous = contiguous;
  for (Eigen::Index o = 0; o < outer; ++o) {
    for (Eigen::Index start = 0; start < inner; start += kBlock) {
      for (std::size_t k = 0; k < N; ++k)
        piece.offset[k] = o * (down ? col_step[k] : row_step[k]) + start * piece.step[k];
      piece.length = std::min(kBlock, inner - start);
      fn(static_cast<const Piece<N>&>(piece));
    }
  }
}

/// std::array{make(integral_constant<k>)...} for k < N (the operands of one piece).
template <std::size_t N, class Make, std::size_t... K>
auto array_of_each(const Make& make, std::index_sequence<K...>) {
  using M = decltype(make(std::integral_constant<std::size_t, 0>{}));
  return std::array<M, N>{{make(std::integral_constant<std::size_t, K>{})...}};
}
template <class M, std::size_t N, class Make>
std::array<M, N> array_of(const Make& make) {
  if constexpr (N == 0) {
    return {};
  } else {
    return array_of_each<N>(make, std::make_index_sequence<N>{});
  }
}

template <class S>
using piece_t = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>;
template <class S>
using mut_piece_t = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>>;
template <class S>
using strided_piece_t = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>, Eigen::Unaligned, Eigen::InnerStride<>>;
template <class S>
using mut_strided_piece_t = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>, Eigen::Unaligned, Eigen::InnerStride<>>;

// ---- sweeps -----------------------------------------------------------------------

/// An operation of the kernel (what MSE's forward_backward, None's forward, RMSE's
/// gradient pass... do to each coefficient) is an object with
///   static constexpr bool sums;            whether the kernel returns the sum of its terms
///   static constexpr bool negative_terms;  whether a term may be < 0 (see block_sum_t)
///   template <bool Write, class A, class In, class Out>
///   A step(A acc, const In& in, Out& out) const;
/// step writes its outputs out[k] (when Write) from its inputs in[k] (arrays of
/// Eigen array pieces of one length: 64-byte lanes, vector segments or strided
/// segments, or the inputs cast to the accumulation type with Write false), and
/// returns add_terms(acc, its terms), or acc when it does not sum.

/// Runs op over n contiguous coefficients of every operand; returns the sum of its
/// terms in R. Four accumulators of 64 bytes each (one AVX-512 register): separate
/// small objects, because GCC keeps those in registers but spills a 256-byte array
/// to the stack on every chunk once the loop also stores the gradient.
template <class R, class Op, class S, std::size_t NI, std::size_t NO>
R sweep_contiguous(const Op& op, const std::array<const S*, NI>& in, const std::array<S*, NO>& out, Eigen::Index n) {
  constexpr Eigen::Index V = 64 / static_cast<Eigen::Index>(sizeof(S));
  constexpr Eigen::Index W = 4 * V;
  using Lane = Eigen::Array<S, V, 1>;
  using Sum = Eigen::Array<R, V, 1>;
  const Op local = op;  // a local copy: the output stores cannot alias its options
  const std::array<const S*, NI> ip = in;
  const std::array<S*, NO> outp = out;
  const Eigen::Index whole = n - n % W;
  Sum a0 = Sum::Zero(), a1 = Sum::Zero(), a2 = Sum::Zero(), a3 = Sum::Zero();
  // acc by value, not by reference: an accumulator whose address is never taken
  // stays in a register (GCC otherwise stores it back on every chunk).
  auto step = [&](Sum acc, Eigen::Index i) -> Sum {
    const auto x = array_of<Eigen::Map<const Lane>, NI>([&](auto k) { return Eigen::Map<const Lane>(ip[k] + i); });
    auto y = array_of<Eigen::Map<Lane>, NO>([&](auto k) { return Eigen::Map<Lane>(outp[k] + i); });
    return local.template step<true>(acc, x, y);
  };
  for (Eigen::Index i = 0; i < whole; i += W) {
    a0 = step(a0, i);
    a1 = step(a1, i + V);
    a2 = step(a2, i + 2 * V);
    a3 = step(a3, i + 3 * V);
  }
  const Eigen::Index rest = n - whole;
  const auto x = array_of<piece_t<S>, NI>([&](auto k) { return piece_t<S>(ip[k] + whole, rest); });
  auto y = array_of<mut_piece_t<S>, NO>([&](auto k) { return mut_piece_t<S>(outp[k] + whole, rest); });
  const R tail = local.template step<true>(R(0), x, y);
  return ((a0 + a1) + (a2 + a3)).sum() + tail;
}

/// The terms of one piece summed again in the accumulation type (settle_block's resum).
template <class Acc, class Op, class Pieces>
Acc resum(const Op& op, const Pieces& pieces) {
  using P = typename Pieces::value_type;
  using Cast = std::decay_t<decltype(std::declval<const P&>().template cast<Acc>())>;
  const auto cast =
      array_of<Cast, std::tuple_size<Pieces>::value>([&](auto k) { return pieces[k].template cast<Acc>(); });
  std::array<int, 0> none{};
  return op.template step<false>(Acc(0), cast, none);
}

/// The elementwise kernel: runs op over every coefficient of the views (all of
/// in[0]'s shape; broadcast operands have steps of 0) and returns the sum of its
/// terms in Acc (0 for an operation that does not sum).
template <class Acc, class Op, class S, std::size_t NI, std::size_t NO>
Acc run_elementwise(const Op& op, const std::array<view_t<S>, NI>& in, std::array<mut_view_t<S>, NO> out) {
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
  Acc total(0);
  for_each_piece(in[0].rows(), in[0].cols(), row_step, col_step, [&](const Piece<NI + NO>& piece) {
    const Eigen::Index n = piece.length;
    if (piece.contiguous) {
      const auto x = array_of<const S*, NI>([&](auto k) { return in[k].data() + piece.offset[k]; });
      const auto y = array_of<S*, NO>([&](auto k) { return out[k].data() + piece.offset[NI + k]; });
      const R fast = sweep_contiguous<R>(op, x, y, n);
      if constexpr (Op::sums && std::is_same<R, Acc>::value) total += fast;
      if constexpr (Op::sums && !std::is_same<R, Acc>::value) {
        total += settle_block<Acc>(fast, [&] {
          return resum<Acc>(op, array_of<piece_t<S>, NI>([&](auto k) { return piece_t<S>(x[k], n); }));
        });
      }
    } else {
      const auto x = array_of<strided_piece_t<S>, NI>([&](auto k) {
        return strided_piece_t<S>(in[k].data() + piece.offset[k], n, Eigen::InnerStride<>(piece.step[k]));
      });
      auto y = array_of<mut_strided_piece_t<S>, NO>([&](auto k) {
        return mut_strided_piece_t<S>(out[k].data() + piece.offset[NI + k], n,
                                      Eigen::InnerStride<>(piece.step[NI + k]));
      });
      const R fast = op.template step<true>(R(0), x, y);
      if constexpr (Op::sums && std::is_same<R, Acc>::value) total += fast;
      if constexpr (Op::sums && !std::is_same<R, Acc>::value) {
        total += settle_block<Acc>(fast, [&] { return resum<Acc>(op, x); });
      }
    }
  });
  return total;
}

// ---- operations of functions of (pred, target) ----------------------------------

/// Whether a math declares `static constexpr bool negative_terms = true`.
template <class Math, class = void>
struct declares_negative_terms : std::false_type {};
template <class Math>
struct declares_negative_terms<Math, std::enable_if_t<Math::negative_terms>> : std::true_type {};

/// What an elementwise operation writes into out[0].
enum class Emit {
  nothing,         ///< forward of Sum and Mean
  scaled_slope,    ///< scale * d(term)/dpred: the gradient of Sum and Mean
  value,           ///< the term itself: None's forward
  upstream_slope,  ///< in[2] * d(term)/dpred: None's backward (the VJP)
};

/// The kernel operation of a per-term math of (pred, target): `value(p, t)`, the
/// term, and `slope(p, t)`, its derivative in pred, both array expressions.
template <class Math, class S, bool Sums, Emit E>
struct TermOp {
  static constexpr bool sums = Sums;
  static constexpr bool negative_terms = declares_negative_terms<Math>::value;
  Math math;
  S scale;  ///< the reduction's factor, for Emit::scaled_slope

  template <bool Write, class A, class In, class Out>
  A step(A acc, const In& in, Out& out) const {
    if constexpr (Write && E == Emit::scaled_slope) out[0] = math.slope(in[0], in[1]) * scale;
    if constexpr (Write && E == Emit::value) out[0] = math.value(in[0], in[1]);
    if constexpr (Write && E == Emit::upstream_slope) out[0] = math.slope(in[0], in[1]) * in[2];
    if constexpr (Sums) {
      return add_terms(acc, math.value(in[0], in[1]));
    } else {
      return acc;
    }
  }
};

/// The adapter from a per-term math of e = pred - target (`value(e)`, `slope(e)`
/// = d/de = d/dpred) to the kernel's functions of (pred, target).
template <class Loss>
struct OfError {
  Loss loss;
  template <class P, class T>
  auto value(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return loss.value(p - t);
  }
  template <class P, class T>
  auto slope(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return loss.slope(p - t);
  }
};

// ---- the elementwise losses ----------------------------------------------------------

/// Base of the elementwise losses: the public calls, through the call driver.
/// Derived supplies `name`, the per-term `value(e)` and its derivative `slope(e)`
/// as array expressions of e = pred - target. A loss with other math (RMSE: a root
/// after the reduction) replaces the kernel programs below with its own.
///
/// @tparam Derived the loss (CRTP)
/// @tparam Reduction Sum, Mean or None
template <class Derived, class Reduction>
class ElementwiseLoss {
 public:
  /// The reduction policy.
  using reduction = Reduction;

  /// Sum/Mean: the reduced loss (a scalar of pred's type). None: the per-term
  /// losses, an array of pred's shape and kind.
  template <class P, class T>
  auto forward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return Driver::forward(self(), pred, target);
  }

  /// Sum/Mean: dL/dpred, of pred's shape and kind.
  template <class P, class T>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return Driver::backward(self(), pred, target);
  }

  /// None: the vector-Jacobian product upstream * d(per-term loss)/dpred.
  template <class P, class T, class U>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                   const Eigen::DenseBase<U>& upstream) const {
    return Driver::backward(self(), pred, target, upstream);
  }

  /// Sum/Mean, in one pass: returns the loss and writes dL/dpred into grad_out
  /// (an Array or Matrix, resized if needed, or a Map, Block or Ref of pred's shape).
  template <class P, class T, class G>
  scalar_t<P> forward_backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                               const Eigen::DenseBase<G>& grad_out) const {
    return Driver::forward_backward(self(), pred, target, grad_out);
  }

  /// Same as forward.
  template <class P, class T>
  auto operator()(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return forward(pred, target);
  }

 protected:
  friend struct Driver;

  // The kernel programs the driver runs (see Driver): one sweep each.
  template <class S, bool Sums, Emit E>
  TermOp<OfError<Derived>, S, Sums, E> op(S scale = S(0)) const {
    return {OfError<Derived>{self()}, scale};
  }
  template <class S>
  accumulator_t<S> total(const Inputs<S, 2>& in) const {
    return run_elementwise<accumulator_t<S>>(op<S, true, Emit::nothing>(), in.x, std::array<mut_view_t<S>, 0>{});
  }
  template <class S>
  accumulator_t<S> total_and_gradient(const Inputs<S, 2>& in, const Outputs<S, 1>& out, accumulator_t<S> scale) const {
    return run_elementwise<accumulator_t<S>>(op<S, true, Emit::scaled_slope>(static_cast<S>(scale)), in.x, out.grad);
  }
  template <class S>
  void gradient(const Inputs<S, 2>& in, const Outputs<S, 1>& out, accumulator_t<S> scale) const {
    run_elementwise<accumulator_t<S>>(op<S, false, Emit::scaled_slope>(static_cast<S>(scale)), in.x, out.grad);
  }
  template <class S>
  void terms(const Inputs<S, 2>& in, const Outputs<S, 1>& out) const {
    run_elementwise<accumulator_t<S>>(op<S, false, Emit::value>(), in.x, out.grad);
  }
  template <class S>
  void vjp(const Inputs<S, 3>& in, const Outputs<S, 1>& out) const {
    run_elementwise<accumulator_t<S>>(op<S, false, Emit::upstream_slope>(), in.x, out.grad);
  }
  template <class Acc>
  static Acc finish(Acc total, Acc scale) {
    return total * scale;
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace lossfn
