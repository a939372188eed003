/// @file
/// The row-wise kernel shared by CrossEntropy and KLDivergence: a stable
/// log-softmax per row (the row max subtracted before exp), the three input forms
/// of a prediction, and one pass over pred that yields each row's loss and,
/// when asked, its gradient and the diagonal of its Hessian.
///
/// Both losses are "cross entropy against a per-row weight vector c":
///   loss_i = -sum_k c_ik log q_ik (+ a term of the target alone, for KL)
/// with q the predicted distribution. c is split into a dense part D (smoothing,
/// soft targets, KL's P) and a sparse part a_i at one class t_i (class-index
/// targets), so the common case of index targets without smoothing reads one
/// target entry per row and no K-long target row.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>

#include "../options.hpp"
#include "accumulate.hpp"
#include "checks.hpp"
#include "driver.hpp"
#include "operand.hpp"
#include "view.hpp"
#include "weights.hpp"

namespace lossfn {
namespace detail {

/// True for the three named input forms (an Input cast from a stray integer is not).
inline bool is_input_form(Input input) {
  return input == Input::Logits || input == Input::Probabilities || input == Input::LogProbabilities;
}

/// Rows per block when pred (of scalar S) is column-major: a block's column piece
/// is contiguous (256 bytes), so every per-element operation below runs on short
/// contiguous vectors, and a block of K columns (256 K bytes of pred, as much of
/// the gradient) can stay in L2 between the passes. The per-row state lives in
/// fixed-capacity stack arrays (no heap). A tuning knob: on 4096 x 1000 floats,
/// 64 rows ran forward_backward about 1.3x faster than 128, and 16 rows was 2-3x
/// slower than either (per-piece overhead).
template <class S>
constexpr Eigen::Index kRowBlock = 256 / static_cast<Eigen::Index>(sizeof(S));

/// Elements per piece of a row-major row. A piece's sums are taken in pred's own
/// scalar type (vectorised) and added to the row's sums in the accumulator type;
/// a piece's target weights are evaluated once into a stack buffer of this size.
constexpr Eigen::Index kRowPiece = 256;

/// Column pieces added in pred's scalar type before the partial sums move into
/// the accumulator type (column-major pred): converting every piece to double
/// costs as much as its exp, and a float sum of this few terms loses nothing.
constexpr int kColumnsPerFlush = 16;

/// Per-row values of a column-major block of pred of scalar S, stored as T.
template <class T, class S = T>
using row_values = Eigen::Array<T, Eigen::Dynamic, 1, Eigen::ColMajor, kRowBlock<S>, 1>;

/// One piece of a block: elements [start, start + length) of row `row` (row-major
/// pred) ...
struct RowLine {
  Eigen::Index row, start, length;
};
/// ... or the piece of column `col` in rows [first, first + count) (column-major pred).
struct ColLine {
  Eigen::Index first, count, col;
};

// Per-row state is a scalar in row mode and a short array in column mode; these
// helpers let one kernel body serve both.
template <class V, bool = std::is_arithmetic<V>::value>
struct value_of {
  using type = V;
};
template <class V>
struct value_of<V, false> {
  using type = typename V::Scalar;
};
template <class V>
V filled(Eigen::Index count, typename value_of<V>::type value) {
  if constexpr (std::is_arithmetic<V>::value) {
    static_cast<void>(count);
    return value;
  } else {
    return V::Constant(count, value);
  }
}
template <class V>
auto& at(V& v, Eigen::Index j) {
  if constexpr (std::is_arithmetic<V>::value) {
    static_cast<void>(j);
    return v;
  } else {
    return v(j);
  }
}
template <class V>
bool all_finite(const V& v) {
  if constexpr (std::is_arithmetic<V>::value) {
    using std::isfinite;
    return isfinite(v);
  } else {
    return v.allFinite();
  }
}

/// Running per-row sums of a block in the accumulator type A of pred's scalar S.
/// Row mode (V = S): each piece is summed in S and the piece sums in A. Column
/// mode (V = an array of S, one per row): pieces are added in S and moved into
/// A every kColumnsPerFlush columns.
template <class V, class A>
class RowSums {
 public:
  explicit RowSums(Eigen::Index count)
      : count_(count), total_(filled<Total>(count, A(0))), partial_(filled<V>(count, 0)) {}

  template <class E>
  void add(const E& piece) {
    if constexpr (std::is_arithmetic<V>::value) {
      total_ += static_cast<A>(piece.sum());
    } else if constexpr (std::is_same<typename V::Scalar, A>::value) {
      total_ += piece;
    } else {
      partial_ += piece;
      if (++pending_ == kColumnsPerFlush) flush();
    }
  }
  /// The sums so far (call once the pieces are added).
  const auto& totals() {
    flush();
    return total_;
  }
  /// Back to 0 (after totals()).
  void reset() { total_ = filled<Total>(count_, A(0)); }

 private:
  template <class T, bool = std::is_arithmetic<T>::value>
  struct total_of {
    using type = A;
  };
  template <class T>
  struct total_of<T, false> {
    using type = Eigen::Array<A, T::RowsAtCompileTime, 1, Eigen::ColMajor, T::MaxRowsAtCompileTime, 1>;
  };
  using Total = typename total_of<V>::type;
  void flush() {
    if constexpr (!std::is_arithmetic<V>::value && !std::is_same<typename value_of<V>::type, A>::value) {
      if (pending_ == 0) return;
      total_ += partial_.template cast<A>();
      partial_.setZero();
      pending_ = 0;
    }
  }

  Eigen::Index count_;
  Total total_;
  V partial_;
  int pending_ = 0;
};

/// Prefetch hints (GCC and Clang; nothing elsewhere). Row-major: the piece of the
/// next row where `l` lies in this one, so the next row's max pass reads from
/// cache while this row's exp pass computes. Column-major: the piece a few columns
/// ahead; each pass over a block strides across K columns, a pattern the hardware
/// prefetcher does not follow. ForWrite = 1 for the gradient (its lines are read
/// for ownership before they are written).
template <int ForWrite, class Z>
void prefetch_next(const Z& z, RowLine l) {
#if defined(__GNUC__) || defined(__clang__)
  if (l.row + 1 >= z.rows()) return;
  using S = typename Z::Scalar;
  constexpr Eigen::Index line = 64 / static_cast<Eigen::Index>(sizeof(S));
  const S* p = z.data() + (l.row + 1) * z.rowStride() + l.start * z.colStride();
  for (Eigen::Index k = 0; k < l.length; k += line) __builtin_prefetch(p + k * z.colStride(), ForWrite);
#else
  static_cast<void>(z);
  static_cast<void>(l);
#endif
}
template <int ForWrite, class Z>
void prefetch_next(const Z& z, ColLine l) {
#if defined(__GNUC__) || defined(__clang__)
  constexpr Eigen::Index ahead = 8;
  if (l.col + ahead >= z.cols()) return;
  using S = typename Z::Scalar;
  constexpr Eigen::Index line = 64 / static_cast<Eigen::Index>(sizeof(S));
  const S* p = z.data() + l.first * z.rowStride() + (l.col + ahead) * z.colStride();
  for (Eigen::Index k = 0; k < l.count; k += line) __builtin_prefetch(p + k * z.rowStride(), ForWrite);
#else
  static_cast<void>(z);
  static_cast<void>(l);
#endif
}

/// The length of a row's first piece: up to the 64-byte boundary after which the
/// row's pieces of kRowPiece (a whole number of 64-byte vectors) start aligned.
/// Eigen assigns a piece of unknown alignment one scalar at a time up to the first
/// aligned address and after the last whole vector: with exp, as costly as the rest
/// of the piece. Aligned pieces leave that to the row's two ends.
template <class Row>
Eigen::Index first_piece_length(const Row& row) {
  using S = typename Row::Scalar;
  constexpr Eigen::Index lanes = 64 / static_cast<Eigen::Index>(sizeof(S));
  const auto address = reinterpret_cast<std::uintptr_t>(row.data());
  if (row.innerStride() != 1 || address % sizeof(S) != 0) return kRowPiece;
  const auto lead = static_cast<Eigen::Index>((64 - address % 64) % 64 / sizeof(S));
  return lead + kRowPiece - lanes;
}

/// x log x with 0 log 0 = 0, vectorised (no select): log's argument is
/// max(x, smallest normal) + min(x, 0) 2 / epsilon, which is x for normal x, the
/// smallest normal for x = 0 (so the term is 0 x finite = 0) and for subnormal x
/// (as Eigen's vectorised log takes it anyway), and negative for every negative x,
/// even -denorm_min (so NaN, as log x would be).
template <class E>
auto x_log_x(const E& x) {
  using S = typename E::Scalar;
  return x * (x.max(std::numeric_limits<S>::min()) + x.min(S(0)) * (S(2) / std::numeric_limits<S>::epsilon())).log();
}

template <class V, class E>
void max_line(V& acc, const E& e) {
  if constexpr (std::is_arithmetic<V>::value) {
    acc = std::max(acc, e.maxCoeff());
  } else {
    acc = acc.max(e);
  }
}
template <class V, class E>
void min_line(V& acc, const E& e) {
  if constexpr (std::is_arithmetic<V>::value) {
    acc = std::min(acc, e.minCoeff());
  } else {
    acc = acc.min(e);
  }
}
template <class V>
bool any_below_normal(const V& v) {
  using S = typename value_of<V>::type;
  if constexpr (std::is_arithmetic<V>::value) {
    return v < std::numeric_limits<S>::min();
  } else {
    return (v < std::numeric_limits<S>::min()).any();
  }
}
/// True when some |v_j| exceeds bound or is NaN.
template <class V>
bool any_beyond(const V& v, typename value_of<V>::type bound) {
  if constexpr (std::is_arithmetic<V>::value) {
    using std::abs;
    return !(abs(v) <= bound);
  } else {
    return !(v.abs() <= bound).all();
  }
}

/// The largest |u_i sum_k c_ik / sum_k exp(z_ik - max_i)| (the logits gradient's
/// factor) by which the unguarded gradient pass multiplies the numerators
/// exp(z - max) of the exp pass. Those come from Eigen's vectorised exp where the
/// gradient buffer is aligned and from std::exp at its unaligned ends (which
/// entries are which depends on the buffer's address and stride). The two agree to
/// an ulp or so in the normal range, but below it the vectorised exp returns its
/// floor (about 2.9e-39 in float, 5.6e-309 in double) where std::exp gives the IEEE
/// value, a smaller subnormal or 0: an absolute difference below the smallest
/// normal number. Up to this factor it stays below min / epsilon in the gradient
/// (1e-31 in float, 1e-292 in double); a larger or non-finite factor (out-of-domain
/// targets or multipliers) would show it, or turn IEEE's 0 x inf = NaN into inf,
/// so such a block's numerators are computed again with std::exp.
template <class S>
constexpr S kMaxExactFactor = S(1) / std::numeric_limits<S>::epsilon();

/// No gradient (or no Hessian diagonal) wanted.
struct NoGrad {};

/// No dense target part: class indices without label smoothing.
struct NoDense {
  static constexpr bool active = false;
  static constexpr bool has_extra = false;
  void begin(Eigen::Index /*first*/, Eigen::Index /*count*/) {}
};

/// No sparse target part: dense (soft) targets.
struct NoSparse {
  static constexpr bool active = false;
};

/// The per-class term of the row-wise kernel: loss_i = -sum_k c_ik phi(q_ik), q the
/// predicted distribution. LogTerm is phi = log q (cross entropy): the kernel's own
/// vectorised path. Any other term (PolyCrossEntropy, Focal) is plain = false and
/// supplies at(q, lq, x) -> TermValues with accurate q, lq = log q and x = 1 - q:
///   phi, psi = q phi'(q), chi = q psi'(q), kappa = x^2 chi
/// (kappa written without negative powers of x: it stays finite at x = 0 where chi
/// may not). From logits, with S = sum_k c_k psi_k and T = sum_k c_k chi_k:
///   grad_j = u (q_j S - c_j psi_j)
///   hess_j = u (q_j (1 - q_j) S - c_j chi_j (1 - 2 q_j) - q_j^2 T)
/// from probabilities grad = -u c psi / p, hess = u c (psi - chi) / p^2, from
/// log-probabilities grad = -u c psi, hess = -u c chi. (LogTerm: psi = 1, chi = 0.)
struct LogTerm {
  static constexpr bool plain = true;
};

/// A non-plain term's values at one class (see LogTerm).
template <class T>
struct TermValues {
  T phi, psi, chi, kappa;
};

/// log q_ik up to the row's log-normaliser: z - max for logits (the normaliser
/// log sum exp(z - max) is added once per row), log p for probabilities, and
/// the entry itself for log-probabilities.
template <Input Form, class E, class M>
auto log_term(const E& z, const M& row_max) {
  if constexpr (Form == Input::Logits) {
    return z - row_max;
  } else if constexpr (Form == Input::Probabilities) {
    static_cast<void>(row_max);
    return z.log();
  } else {
    static_cast<void>(row_max);
    return z;
  }
}
template <Input Form, class S>
S log_term_at(S z, S row_max) {
  using std::log;
  if constexpr (Form == Input::Logits) return z - row_max;
  if constexpr (Form == Input::Probabilities) return log(z);
  return z;
}

/// Rows sink of Sum and Mean: sums the row losses (times their weights); every
/// row's gradient is scaled by the reduction's factor (times the row's weight). A
/// row of weight 0 adds exactly 0, whatever its loss (as an ignored sample).
template <class S>
struct TotalRows {
  S scale;
  RowWeights<S> weights{};
  accumulator_t<S> total{0};
  S multiplier(Eigen::Index row) const { return weights.times(scale, row); }
  void record(Eigen::Index row, accumulator_t<S> loss) {
    if (!weights.given()) {
      total += loss;
    } else if (weights(row) != S(0)) {
      total += static_cast<accumulator_t<S>>(weights(row)) * loss;
    }
  }
};

/// Rows sink of None's forward: writes each row's loss (times its weight) into a column.
template <class Out>
struct ColumnRows {
  Out& out;
  RowWeights<typename Out::Scalar> weights{};
  typename Out::Scalar multiplier(Eigen::Index /*row*/) const { return 0; }
  template <class A>
  void record(Eigen::Index row, A loss) {
    out(row, 0) = static_cast<typename Out::Scalar>(weights.times(loss, row));
  }
};

/// Rows sink of None's backward: row i's gradient is scaled by upstream_i (times
/// the row's weight).
template <class U>
struct UpstreamRows {
  const U& upstream;
  RowWeights<typename U::Scalar> weights{};
  typename U::Scalar multiplier(Eigen::Index row) const { return weights.times(upstream(row, 0), row); }
  template <class A>
  void record(Eigen::Index /*row*/, A /*loss*/) {}
};

/// Elements of a chunk of logits_derivatives: 64 bytes.
template <class S>
constexpr Eigen::Index kChunk = 64 / static_cast<Eigen::Index>(sizeof(S));

/// x's chunk [c, c + W) (a fixed-size segment), or x itself when x is a scalar (row mode).
template <Eigen::Index W, class X>
decltype(auto) chunk_of(const X& x, Eigen::Index c) {
  if constexpr (std::is_arithmetic<X>::value) {
    static_cast<void>(c);
    return x;
  } else {
    return x.template segment<W>(c);
  }
}
/// x's piece [c, c + n), or x itself when x is a scalar.
template <class X>
decltype(auto) rest_of(const X& x, Eigen::Index c, Eigen::Index n) {
  if constexpr (std::is_arithmetic<X>::value) {
    static_cast<void>(c);
    static_cast<void>(n);
    return x;
  } else {
    return x.segment(c, n);
  }
}

/// The logits Hessian diagonal of one piece whose numerators e = exp(z - max) are in
/// g, in one loop over 64-byte chunks: each chunk of e is read once into a fixed-size
/// array (registers) and
///   h = e factor (1 - e inv_norm)  (u C q (1 - q), q = e inv_norm)
/// is written from it, and with ScaleGradient (no dense target part) also
///   g = e factor                   (forward_backward's operation: the same gradient)
/// factor and inv_norm are scalars (row mode) or per-row arrays (column mode, one
/// piece per column).
template <bool ScaleGradient, class G, class H, class F>
void logits_derivatives(G&& g, H&& h, const F& factor, const F& inv_norm) {
  using S = scalar_t<std::decay_t<G>>;
  constexpr Eigen::Index W = kChunk<S>;
  const Eigen::Index n = g.size();
  Eigen::Index c = 0;
  for (; c + W <= n; c += W) {
    const auto e = as_array(g.template segment<W>(c)).eval();
    const auto& fc = chunk_of<W>(factor, c);
    assign(h.template segment<W>(c), e * fc * (S(1) - e * chunk_of<W>(inv_norm, c)));
    if constexpr (ScaleGradient) assign(g.template segment<W>(c), e * fc);
  }
  if (c < n) {
    const Eigen::Index r = n - c;
    const auto& fr = rest_of(factor, c, r);
    assign(h.segment(c, r),
           as_array(g.segment(c, r)) * fr * (S(1) - as_array(g.segment(c, r)) * rest_of(inv_norm, c, r)));
    if constexpr (ScaleGradient) assign(g.segment(c, r), as_array(g.segment(c, r)) * fr);
  }
}

/// A non-plain term at a row's target class t (class-index targets): the class's
/// weight a, q_t, x = 1 - q_t, o = the other classes' numerators summed (logits:
/// 1 - q_t = o / norm) and the term's values there.
template <class S, class A>
struct SparseTerm {
  Eigen::Index t = 0;
  S a_s = S(0);
  A a = 0, q = 0, x = 0, o = 0;
  TermValues<A> v{};
};

/// Fills r's q, x, o and values for row i of z (r.t and r.a set). From logits, when t
/// is the row's unique max and q_t > 2/3, 1 - q_t is the other classes' numerators
/// summed again one by one (o, not norm - 1: the rounded norm loses them) and log q_t
/// = -log1p(o); else q_t = e_t / norm, x = (norm - e_t) / norm (no cancellation: q_t
/// <= 1/2 unless t is the unique max). Probabilities: x = 1 - p (exact near 1).
/// Log-probabilities: x = -expm1(l).
template <Input Form, class Z, class S, class A, class Term>
void sparse_term(const Z& z, Eigen::Index i, S row_max, A norm, const Term& term, SparseTerm<S, A>& r) {
  using std::exp;
  using std::expm1;
  using std::log;
  using std::log1p;
  const S zt = z(i, r.t);
  A lq(0);
  if constexpr (Form == Input::Logits) {
    const A d = static_cast<A>(zt - row_max);
    if (d == A(0) && norm - A(1) < A(0.5)) {
      A o(0);
      for (Eigen::Index k = 0; k < z.cols(); ++k) {
        if (k != r.t) o += exp(static_cast<A>(z(i, k) - row_max));
      }
      r.q = A(1) / (A(1) + o);
      lq = -log1p(o);
      r.x = o / (A(1) + o);
      r.o = o;
    } else {
      const A e = exp(d);
      r.q = e / norm;
      lq = d - log(norm);
      r.o = norm - e;
      r.x = r.o / norm;
    }
  } else if constexpr (Form == Input::Probabilities) {
    r.q = static_cast<A>(zt);
    lq = log(r.q);
    r.x = A(1) - r.q;
  } else {
    lq = static_cast<A>(zt);
    r.q = exp(lq);
    r.x = -expm1(lq);
  }
  r.v = term.at(r.q, lq, r.x);
}

/// The derivatives of a non-plain term at a row's class t, after the block's sweeps
/// (logits: they wrote grad = u a psi q and hess = u a psi q (1 - q) everywhere):
///   logits, at t:  grad = -u a psi x (from x, not q - 1), hess = u a (q x psi - kappa)
///   logits, k != t: hess -= u a kappa (e_k / o)^2  (= u a chi q_k^2: e_k <= o, no overflow)
///   probabilities: grad = -u a psi / p, hess = u a (psi - chi) / p^2
///   log-probabilities: grad = -u a psi, hess = -u a chi
template <Input Form, class Z, class S, class A, class Grad, class Hess>
void sparse_term_derivatives(const Z& z, Eigen::Index i, S row_max, A u, const SparseTerm<S, A>& r, Grad* grad,
                             Hess* hess) {
  using std::exp;
  constexpr bool want_grad = !std::is_same<Grad, NoGrad>::value;
  constexpr bool want_hess = !std::is_same<Hess, NoGrad>::value;
  const A ua = u * r.a;
  const Eigen::Index t = r.t;
  if constexpr (Form == Input::Logits) {
    static_cast<void>(z);
    if constexpr (want_grad) grad->coeffRef(i, t) = static_cast<S>(-(ua * r.v.psi) * r.x);
    if constexpr (want_hess) {
      const A k = ua * r.v.kappa;
      if (k != A(0) && r.o > A(0)) {
        for (Eigen::Index c = 0; c < z.cols(); ++c) {
          if (c == t) continue;
          const A ratio = exp(static_cast<A>(z(i, c) - row_max)) / r.o;
          hess->coeffRef(i, c) = static_cast<S>(static_cast<A>(hess->coeffRef(i, c)) - k * ratio * ratio);
        }
      }
      hess->coeffRef(i, t) = static_cast<S>(ua * (r.q * r.x * r.v.psi - r.v.kappa));
    }
  } else if constexpr (Form == Input::Probabilities) {
    static_cast<void>(row_max);
    if constexpr (want_grad) grad->coeffRef(i, t) -= static_cast<S>(ua * r.v.psi / r.q);
    if constexpr (want_hess) hess->coeffRef(i, t) += static_cast<S>(ua * (r.v.psi - r.v.chi) / r.q / r.q);
  } else {
    static_cast<void>(row_max);
    if constexpr (want_grad) grad->coeffRef(i, t) -= static_cast<S>(ua * r.v.psi);
    if constexpr (want_hess) hess->coeffRef(i, t) = static_cast<S>(-ua * r.v.chi);
  }
}

/// A non-plain term with a dense target part (label smoothing, soft targets): row by
/// row, one scalar at a time (std::exp, std::log, the term's pow), in the accumulator
/// type. Logits: the row's unique max m (if any) takes 1 - q_m = o / norm and log q_m =
/// -log1p(o), o the other numerators; its chi, which may be unbounded where x -> 0
/// (Focal, gamma < 1), enters only as kappa = x^2 chi:
///   hess_m = u (q_m x_m S - c_m kappa_m - q_m^2 T')
///   hess_k = u (q_k x_k S - c_k chi_k (1 - 2 q_k) - q_k^2 T' - c_m kappa_m (e_k / o)^2)
/// with T' = sum_{k != m} c_k chi_k.
template <Input Form, class Z, class Dense, class Sparse, class Grad, class Hess, class Rows, class Term>
void rowwise_term_rows(const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Hess* hess, Rows& rows,
                       const Term& term) {
  using S = scalar_t<Z>;
  using A = accumulator_t<S>;
  using std::exp;
  using std::expm1;
  using std::log;
  using std::log1p;
  constexpr bool want_grad = !std::is_same<Grad, NoGrad>::value;
  constexpr bool want_hess = !std::is_same<Hess, NoGrad>::value;
  using Piece = Eigen::Array<S, 1, Eigen::Dynamic, Eigen::RowMajor, 1, kRowPiece>;
  const Eigen::Index K = z.cols();
  Piece d;
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    Eigen::Index t = -1;
    S a_s(0);
    if constexpr (Sparse::active) {
      if (!sparse.get(i, t, a_s)) t = -1;
    }
    const A a = t >= 0 ? static_cast<A>(a_s) : A(0);
    const A u = static_cast<A>(rows.multiplier(i));
    // f(k, c_k) over the row, the dense part a piece at a time
    const auto each = [&](auto&& f) {
      for (Eigen::Index start = 0; start < K; start += kRowPiece) {
        const Eigen::Index length = std::min(kRowPiece, K - start);
        d = dense.line(RowLine{i, start, length});
        for (Eigen::Index j = 0; j < length; ++j) {
          const Eigen::Index k = start + j;
          f(k, static_cast<A>(d(j)) + (k == t ? a : A(0)));
        }
      }
    };
    A loss(0);
    if constexpr (Form == Input::Logits) {
      S top = -std::numeric_limits<S>::infinity();
      Eigen::Index arg = 0, ties = 0;
      for (Eigen::Index k = 0; k < K; ++k) {
        const S v = z(i, k);
        if (v > top) {
          top = v;
          arg = k;
          ties = 1;
        } else if (v == top) {
          ++ties;
        }
      }
      const bool unique = ties == 1;
      A norm(0), o(0);
      for (Eigen::Index k = 0; k < K; ++k) {
        const A e = exp(static_cast<A>(z(i, k) - top));
        norm += e;
        if (k != arg) o += e;
      }
      if (unique) norm = A(1) + o;
      const A log_norm = log(norm);
      // q, log q, x = 1 - q and the numerator e of class k
      const auto values = [&](Eigen::Index k, A& q, A& lq, A& x, A& e) {
        const A dk = static_cast<A>(z(i, k) - top);
        e = exp(dk);
        if (unique && k == arg) {
          q = A(1) / norm;
          lq = -log1p(o);
          x = o / norm;
        } else {
          q = e / norm;
          lq = dk - log_norm;
          x = A(1) - q;
        }
      };
      A s_psi(0), t_chi(0), c_kappa(0);  // S, T', c_m kappa_m
      each([&](Eigen::Index k, A c) {
        if (c == A(0)) return;
        A q, lq, x, e;
        values(k, q, lq, x, e);
        const TermValues<A> v = term.at(q, lq, x);
        loss -= c * v.phi;
        s_psi += c * v.psi;
        if (unique && k == arg) {
          c_kappa = c * v.kappa;
        } else {
          t_chi += c * v.chi;
        }
      });
      if constexpr (want_grad || want_hess) {
        each([&](Eigen::Index k, A c) {
          A q, lq, x, e;
          values(k, q, lq, x, e);
          TermValues<A> v{};
          if (c != A(0)) v = term.at(q, lq, x);
          if constexpr (want_grad) grad->coeffRef(i, k) = static_cast<S>(u * (q * s_psi - c * v.psi));
          if constexpr (want_hess) {
            A h = q * x * s_psi - q * q * t_chi;
            if (unique && k == arg) {
              h -= c_kappa;
            } else {
              h -= c * v.chi * (A(1) - A(2) * q);
              if (c_kappa != A(0) && o > A(0)) {
                const A ratio = e / o;
                h -= c_kappa * ratio * ratio;
              }
            }
            hess->coeffRef(i, k) = static_cast<S>(u * h);
          }
        });
      }
    } else {
      each([&](Eigen::Index k, A c) {
        const S zk = z(i, k);
        if (c == A(0)) {
          if constexpr (want_grad) grad->coeffRef(i, k) = S(0);
          if constexpr (want_hess) hess->coeffRef(i, k) = S(0);
          return;
        }
        A q, lq, x;
        if constexpr (Form == Input::Probabilities) {
          q = static_cast<A>(zk);
          lq = log(q);
          x = A(1) - q;
        } else {
          lq = static_cast<A>(zk);
          q = exp(lq);
          x = -expm1(lq);
        }
        const TermValues<A> v = term.at(q, lq, x);
        loss -= c * v.phi;
        if constexpr (Form == Input::Probabilities) {
          if constexpr (want_grad) grad->coeffRef(i, k) = static_cast<S>(-(u * c * v.psi) / q);
          if constexpr (want_hess) hess->coeffRef(i, k) = static_cast<S>((u * c * (v.psi - v.chi)) / q / q);
        } else {
          if constexpr (want_grad) grad->coeffRef(i, k) = static_cast<S>(-(u * c * v.psi));
          if constexpr (want_hess) hess->coeffRef(i, k) = static_cast<S>(-(u * c * v.chi));
        }
      });
    }
    rows.record(i, loss);
  }
}

/// One block of rows: a single row when pred is row-major (RowMode: per-row state
/// is a scalar, the row is visited in pieces of at most kRowPiece elements), else
/// up to kRowBlock<S> rows (per-row state is a short array, a piece is one
/// contiguous column piece; Fixed = kRowBlock<S> for the full blocks, sizes known
/// at compile time, Dynamic for the tail).
/// Per row i, with c = D + a e_t, C_i = sum_k c_ik and q the predicted distribution:
///   loss_i = -sum_k c_ik log q_ik + extra_i, terms with c_ik = 0 are exactly 0
///   logits:            grad = u_i (q_i C_i - c_i),      hess = u_i C_i q_ik (1 - q_ik)
///   probabilities:     grad = -u_i c / p (0 where c = 0), hess = u_i c / p^2 (0 where c = 0)
///   log-probabilities: grad = -u_i c,                    hess = 0
/// with u_i the sink's multiplier (the reduction's scale or None's upstream), and
/// the Hessian the diagonal of the full Hessian in pred. grad and hess are NoGrad*
/// (nullptr) when not wanted; when both are, the Hessian is written in the same
/// sweep as the gradient, from the same numerators and guards.
/// The terms D_ik log q_ik are summed unguarded
/// (vectorised). Only a block where that sum is not finite (a D_ik = 0 met a
/// log q_ik of -inf, or the loss is infinite anyway) or, for probabilities, where
/// some q_ik is below the smallest normal number (Eigen's vectorised log takes it
/// as that number) or some u_i is not finite, is summed again with a select, one
/// scalar at a time: the guard costs nothing on finite, normal input (rows with
/// -inf logits or zero probabilities beside zero target weights take the slow path).
/// Likewise the logits derivatives reuse the exp pass's numerators exp(z - max)
/// (kept in the gradient, or in the Hessian when no gradient is wanted), q = that x
/// 1 / sum_k exp(z_ik - max_i), unless some row's factor u_i C_i / sum_k exp(z_ik -
/// max_i) is beyond kMaxExactFactor or not finite: that block's numerators are then
/// computed again with std::exp.
template <Input Form, bool RowMode, Eigen::Index Fixed, class Z, class Dense, class Sparse, class Grad, class Hess,
          class Rows, class Term = LogTerm>
void rowwise_block(const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Hess* hess, Rows& rows,
                   Eigen::Index first, Eigen::Index count, const Term& term = Term{}) {
  using S = scalar_t<Z>;
  using Acc = accumulator_t<S>;
  using VS = std::conditional_t<RowMode, S, Eigen::Array<S, Fixed, 1, Eigen::ColMajor, kRowBlock<S>, 1>>;
  using Piece = std::conditional_t<RowMode, Eigen::Array<S, 1, Eigen::Dynamic, Eigen::RowMajor, 1, kRowPiece>, VS>;
  using Sums = RowSums<VS, Acc>;
  constexpr bool want_grad = !std::is_same<Grad, NoGrad>::value;
  constexpr bool want_hess = !std::is_same<Hess, NoGrad>::value;
  constexpr bool logits = Form == Input::Logits;
  constexpr bool probabilities = Form == Input::Probabilities;
  // a term other than log q runs here with class-index targets alone (no dense part);
  // with a dense part it takes rowwise_term_rows
  constexpr bool plain = Term::plain;
  static_assert(plain || !Dense::active, "a non-plain term with a dense target part runs in rowwise_term_rows");

  // the row the exp pass writes (grad, else hess) or reads (pred): its pieces after the first start aligned
  const auto written_row_or = [&](const auto& pred_row) {
    if constexpr (want_grad) {
      static_cast<void>(pred_row);
      return grad->row(first);
    } else if constexpr (want_hess) {
      static_cast<void>(pred_row);
      return hess->row(first);
    } else {
      return pred_row;
    }
  };
  // the piece of an output (grad or hess) at a line, or NoGrad
  const auto piece_of = [](auto* out, auto line) {
    if constexpr (std::is_same<std::remove_pointer_t<decltype(out)>, NoGrad>::value) {
      static_cast<void>(out);
      static_cast<void>(line);
      return NoGrad{};
    } else if constexpr (RowMode) {
      return out->row(line.row).segment(line.start, line.length);
    } else {
      return out->template block<Fixed, 1>(line.first, line.col, line.count, 1);
    }
  };
  // f(z_piece, grad_piece, hess_piece, line) for each piece of the block; in column
  // mode, the pieces a few columns ahead in what the sweep reads (pred, grad, hess,
  // target) are prefetched (row mode prefetches the next row in the exp sweep only)
  const auto visit = [&](auto&& f, bool reads_pred, bool reads_grad, bool reads_hess, bool reads_target) {
    if constexpr (RowMode) {
      static_cast<void>(reads_pred);
      static_cast<void>(reads_grad);
      static_cast<void>(reads_hess);
      static_cast<void>(reads_target);
      const Eigen::Index k = z.cols();
      Eigen::Index length = std::min(k, first_piece_length(written_row_or(z.row(first))));
      for (Eigen::Index start = 0; start < k; start += length, length = std::min(kRowPiece, k - start)) {
        const RowLine line{first, start, length};
        auto gl = piece_of(grad, line);
        auto hl = piece_of(hess, line);
        f(as_array(z.row(first).segment(start, length)), gl, hl, line);
      }
    } else {
      for (Eigen::Index k = 0; k < z.cols(); ++k) {
        const ColLine line{first, count, k};
        if (reads_pred) prefetch_next<0>(z, line);
        if constexpr (Dense::active) {
          if (reads_target) dense.prefetch(line);
        }
        if constexpr (want_grad) {
          if (reads_grad) prefetch_next<1>(*grad, line);
        }
        if constexpr (want_hess) {
          if (reads_hess) prefetch_next<1>(*hess, line);
        }
        auto gl = piece_of(grad, line);
        auto hl = piece_of(hess, line);
        f(as_array(z.template block<Fixed, 1>(first, k, count, 1)), gl, hl, line);
      }
    }
  };

  dense.begin(first, count);
  VS u = filled<VS>(count, 0);  // the derivatives' multiplier per row
  for (Eigen::Index j = 0; j < count; ++j) at(u, j) = rows.multiplier(first + j);
  // logits: the row max; probabilities: the row min (below the smallest normal: guarded sum)
  VS row_max = filled<VS>(count, logits ? -std::numeric_limits<S>::infinity() : S(0));
  VS row_min = filled<VS>(count, std::numeric_limits<S>::infinity());
  if constexpr (logits) {
    visit([&](const auto& za, auto&, auto&, auto) { max_line(row_max, za); }, true, false, false, false);
  }

  // the logits' numerators exp(z - max) are kept in grad, else in hess
  const bool numerators_in_hess = logits && !want_grad && want_hess;
  Sums norm(count), c_sum(count), dot(count), extra(count);
  Piece d;  // a piece's target weights D, evaluated once
  visit(
      [&](const auto& za, auto& gl, auto& hl, auto line) {
        if constexpr (RowMode) {
          prefetch_next<0>(z, line);
          if constexpr (want_grad) {
            prefetch_next<1>(*grad, line);
          } else if constexpr (want_hess && logits) {
            prefetch_next<1>(*hess, line);
          }
        }
        if constexpr (logits) {
          if constexpr (want_grad) {
            assign(gl, (za - row_max).exp());  // exp(z - max), kept for the derivative pass
            norm.add(as_array(gl));
          } else if constexpr (want_hess) {
            assign(hl, (za - row_max).exp());
            norm.add(as_array(hl));
          } else {
            norm.add((za - row_max).exp());
          }
        }
        if constexpr (want_hess && Form == Input::LogProbabilities) hl.setZero();
        if constexpr (Dense::active) {
          d = dense.line(line);
          if constexpr (logits) c_sum.add(d);
          dot.add(d * log_term<Form>(za, row_max));
          if constexpr (Dense::has_extra) extra.add(dense.extra(line, d));
          if constexpr (probabilities) min_line(row_min, za);
          if constexpr (want_grad && probabilities) assign(gl, -(u * d) / za);
          if constexpr (want_grad && Form == Input::LogProbabilities) assign(gl, -(u * d));
          // u c / p^2 as (u c / p) / p: p^2 would underflow first
          if constexpr (want_hess && want_grad && probabilities) assign(hl, -as_array(gl) / za);
          if constexpr (want_hess && !want_grad && probabilities) assign(hl, ((u * d) / za) / za);
        } else if constexpr (!logits) {
          if constexpr (want_grad) gl.setZero();
          if constexpr (want_hess && probabilities) hl.setZero();
        }
      },
      true, want_grad, numerators_in_hess || (want_hess && !logits), true);
  if constexpr (Dense::active) {
    // also when u is not finite: u x 0 in -u d / p would be NaN where d = 0
    if (!all_finite(dot.totals()) || (probabilities && (any_below_normal(row_min) || !all_finite(u)))) {
      dot.reset();
      visit(
          [&](const auto& za, auto& gl, auto& hl, auto line) {
            // the expression, not the buffer: select evaluates it one scalar at a time,
            // with std::exp and std::log
            const auto dl = dense.line(line);
            dot.add((dl != S(0)).select(dl * log_term<Form>(za, row_max), S(0)));
            if constexpr (want_grad && probabilities) assign(gl, (dl != S(0)).select(-(u * dl) / za, S(0)));
            if constexpr (want_hess && probabilities) assign(hl, (dl != S(0)).select(((u * dl) / za) / za, S(0)));
            static_cast<void>(hl);
          },
          true, want_grad && probabilities, want_hess && probabilities, true);
    }
  }

  auto total_c = c_sum.totals();
  auto total_dot = dot.totals();
  // a non-plain term: each counted row's values at its class (sparse_term), its loss
  // -a phi in total_dot (total_c stays 0) and a psi, the derivatives' mass, in total_psi
  using RowTerm = SparseTerm<S, Acc>;
  std::array<RowTerm, plain ? 1 : static_cast<std::size_t>(RowMode ? 1 : kRowBlock<S>)> row_terms{};
  auto total_psi = total_c;
  if constexpr (!plain && Sparse::active) {
    const auto& total_norm = norm.totals();
    for (Eigen::Index j = 0; j < count; ++j) {
      RowTerm& r = row_terms[static_cast<std::size_t>(j)];
      if (!sparse.get(first + j, r.t, r.a_s)) continue;
      r.a = static_cast<Acc>(r.a_s);
      sparse_term<Form>(z, first + j, at(row_max, j), at(total_norm, j), term, r);
      at(total_dot, j) = r.a * r.v.phi;
      at(total_psi, j) = r.a * r.v.psi;
    }
  } else if constexpr (Sparse::active) {
    for (Eigen::Index j = 0; j < count; ++j) {
      Eigen::Index t = 0;
      S a(0);
      if (!sparse.get(first + j, t, a)) continue;
      at(total_c, j) += static_cast<Acc>(a);
      at(total_dot, j) += static_cast<Acc>(a) * static_cast<Acc>(log_term_at<Form>(z(first + j, t), S(at(row_max, j))));
    }
  }
  {
    const auto& total_extra = extra.totals();
    const auto& total_norm = norm.totals();
    for (Eigen::Index j = 0; j < count; ++j) {
      using std::log;
      Acc loss = at(total_extra, j) - at(total_dot, j);
      if constexpr (logits) loss += at(total_c, j) * log(at(total_norm, j));
      rows.record(first + j, loss);
    }
  }

  if constexpr (logits && (want_grad || want_hess)) {
    const auto& total_norm = norm.totals();
    VS factor = filled<VS>(count, 0);    // u sum_k c_k / sum_k exp(z_k - max)
    VS inv_norm = filled<VS>(count, 0);  // 1 / sum_k exp(z_k - max): q = numerator x inv_norm
    for (Eigen::Index j = 0; j < count; ++j) {
      at(factor, j) =
          static_cast<S>(static_cast<Acc>(at(u, j)) * at(plain ? total_c : total_psi, j) / at(total_norm, j));
      if constexpr (want_hess) at(inv_norm, j) = static_cast<S>(Acc(1) / at(total_norm, j));
    }
    // a factor that would magnify the vectorised exp's floor (see kMaxExactFactor):
    // the numerators again from z, with std::exp one scalar at a time (a unaryExpr
    // has no packet path), so the derivatives do not depend on the buffer's alignment
    const bool exact = any_beyond(factor, kMaxExactFactor<S>);
    const auto exact_exp = [](S x) {
      using std::exp;
      return exp(x);
    };
    if constexpr (!want_hess) {
      // the gradient alone (forward_backward, backward): as before the Hessian joined
      // this pass, so its code and inlining do not change
      if (!exact) {
        visit(
            [&](const auto&, auto& gl, auto&, auto line) {
              if constexpr (Dense::active) {
                assign(gl, as_array(gl) * factor - u * dense.line(line));
              } else {
                static_cast<void>(line);
                assign(gl, as_array(gl) * factor);
              }
            },
            false, true, false, Dense::active);
      } else {
        visit(
            [&](const auto& za, auto& gl, auto&, auto line) {
              if constexpr (Dense::active) {
                assign(gl, (za - row_max).unaryExpr(exact_exp) * factor - u * dense.line(line));
              } else {
                static_cast<void>(line);
                assign(gl, (za - row_max).unaryExpr(exact_exp) * factor);
              }
            },
            true, true, false, Dense::active);
      }
    } else {
      if (exact) {
        visit(
            [&](const auto& za, auto& gl, auto& hl, auto) {
              if constexpr (want_grad) {
                static_cast<void>(hl);
                assign(gl, (za - row_max).unaryExpr(exact_exp));
              } else {
                static_cast<void>(gl);
                assign(hl, (za - row_max).unaryExpr(exact_exp));
              }
            },
            true, want_grad, !want_grad, false);
      }
      // one sweep: the Hessian u C q (1 - q) = numerator x factor x (1 - numerator x
      // inv_norm) from the numerators, then the gradient over them (the same
      // operations as above: the same gradient, bit for bit)
      visit(
          [&](const auto&, auto& gl, auto& hl, auto line) {
            if constexpr (want_grad) {
              if constexpr (Dense::active) {
                logits_derivatives<false>(gl, hl, factor, inv_norm);
                // forward_backward's expression, evaluated as there (the target's part may
                // hold an exp: its packet and scalar entries must be the same), times an
                // exact 1 so that the two calls do not share one instantiation (shared, it
                // is no longer inlined into forward_backward's pass)
                assign(gl, (as_array(gl) * factor - u * dense.line(line)) * S(1));
              } else {
                logits_derivatives<true>(gl, hl, factor, inv_norm);
              }
            } else {
              static_cast<void>(gl);
              assign(hl, as_array(hl) * factor * (S(1) - as_array(hl) * inv_norm));
            }
            static_cast<void>(line);
          },
          false, want_grad, true, want_grad && Dense::active);
    }
  }
  if constexpr (!plain && Sparse::active && (want_grad || want_hess)) {
    for (Eigen::Index j = 0; j < count; ++j) {
      const RowTerm& r = row_terms[static_cast<std::size_t>(j)];
      if (r.a == Acc(0)) continue;
      sparse_term_derivatives<Form>(z, first + j, at(row_max, j), static_cast<Acc>(at(u, j)), r, grad, hess);
    }
  } else if constexpr (Sparse::active && (want_grad || (want_hess && probabilities))) {
    for (Eigen::Index j = 0; j < count; ++j) {
      Eigen::Index t = 0;
      S a(0);
      if (!sparse.get(first + j, t, a)) continue;
      const Eigen::Index i = first + j;
      if constexpr (probabilities) {
        const S step = at(u, j) * a / z(i, t);
        if constexpr (want_grad) grad->coeffRef(i, t) -= step;
        if constexpr (want_hess) hess->coeffRef(i, t) += step / z(i, t);
      } else if constexpr (want_grad) {
        grad->coeffRef(i, t) -= at(u, j) * a;
      }
    }
  }
}

/// The whole kernel: every row of z once, in blocks that follow z's storage order.
/// grad and hess are nullptr (with Grad or Hess = NoGrad) when not wanted.
/// A non-plain term (see LogTerm) with class-index targets alone runs in the same
/// blocks; with a dense target part it runs in rowwise_term_rows.
template <Input Form, class Z, class Dense, class Sparse, class Grad, class Hess, class Rows, class Term = LogTerm>
void rowwise_kernel(const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Hess* hess, Rows& rows,
                    const Term& term = Term{}) {
  const Eigen::Index m = z.rows();
  if constexpr (!Term::plain && Dense::active) {
    rowwise_term_rows<Form>(z, dense, sparse, grad, hess, rows, term);
  } else if constexpr (bool(Z::IsRowMajor)) {
    for (Eigen::Index i = 0; i < m; ++i) rowwise_block<Form, true, 1>(z, dense, sparse, grad, hess, rows, i, 1, term);
  } else {
    constexpr Eigen::Index block = kRowBlock<scalar_t<Z>>;
    Eigen::Index first = 0;
    for (; first + block <= m; first += block)
      rowwise_block<Form, false, block>(z, dense, sparse, grad, hess, rows, first, block, term);
    if (first < m)
      rowwise_block<Form, false, Eigen::Dynamic>(z, dense, sparse, grad, hess, rows, first, m - first, term);
  }
}

/// Runs the kernel for the input form chosen at run time.
template <class Z, class Dense, class Sparse, class Grad, class Hess, class Rows>
void rowwise_kernel(Input form, const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Hess* hess, Rows& rows) {
  switch (form) {
    case Input::Probabilities:
      rowwise_kernel<Input::Probabilities>(z, dense, sparse, grad, hess, rows);
      return;
    case Input::LogProbabilities:
      rowwise_kernel<Input::LogProbabilities>(z, dense, sparse, grad, hess, rows);
      return;
    case Input::Logits:
      break;
  }
  rowwise_kernel<Input::Logits>(z, dense, sparse, grad, hess, rows);
}

/// The same with a per-class term other than log q (PolyCrossEntropy, Focal).
template <class Z, class Dense, class Sparse, class Grad, class Hess, class Rows, class Term>
void rowwise_kernel(Input form, const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Hess* hess, Rows& rows,
                    const Term& term) {
  switch (form) {
    case Input::Probabilities:
      rowwise_kernel<Input::Probabilities>(z, dense, sparse, grad, hess, rows, term);
      return;
    case Input::LogProbabilities:
      rowwise_kernel<Input::LogProbabilities>(z, dense, sparse, grad, hess, rows, term);
      return;
    case Input::Logits:
      break;
  }
  rowwise_kernel<Input::Logits>(z, dense, sparse, grad, hess, rows, term);
}

/// A row-wise pred needs at least one class when it has rows.
template <class P>
void check_classes(const char* loss, const char* function, const Eigen::EigenBase<P>& pred) {
  if (pred.rows() > 0 && pred.cols() == 0) {
    raise(error_kind::shape, where(loss, function) + "pred is " + shape_string(pred.rows(), pred.cols()) +
                                 ": it needs at least one class (column)");
  }
}

/// What the row-wise kernel reads: ordered views (detail::ordered_view_of) of pred
/// and the target, so the kernel is compiled once per scalar and storage order
/// whatever Eigen wrappers the caller passes.
template <class Z, class T>
struct RowwiseInputs {
  Z pred;
  T target;
};

/// Base of the row-wise losses: the public calls of PredTargetCalls, and the call
/// driver's hooks (detail/driver.hpp). Derived supplies `check` (compile-time
/// and shape checks), `divisor` (the O(m) checks that read the target; returns what
/// Mean divides by, or with RowWeights given what WeightedMean divides by) and
/// `kernel(z, target, grad, rows, hess = nullptr)` (runs rowwise_kernel with its
/// target adapters; grad and hess are NoGrad* when not wanted).
///
/// @tparam Derived the loss (CRTP)
/// @tparam Reduction Sum, Mean, WeightedMean or None
template <class Derived, class Reduction>
class RowwiseLoss : public PredTargetCalls<Derived, Reduction> {
 protected:
  friend struct Driver;

  // ---- the driver's hooks (see Driver) ----
  static constexpr Terms terms = Terms::per_row;
  static constexpr const char* first = "pred";
  static constexpr std::array<const char*, 1> gradient_names{{"grad_out"}};
  static constexpr std::array<const char*, 1> hessian_names{{"hess_out"}};

  template <class P, class T>
  static auto inputs(const P& pred, const T& target) {
    return RowwiseInputs<decltype(ordered_view_of(pred)), decltype(ordered_view_of(target))>{ordered_view_of(pred),
                                                                                             ordered_view_of(target)};
  }
  template <class In, class S>
  double count(const char* function, const In& in, const WeightsView<S>* weights) const {
    return self().divisor(function, in.pred, in.target, weights ? RowWeights<S>::of(*weights) : RowWeights<S>{});
  }
  template <class G>
  static auto output_view(G& out) {
    return ordered_mut_view_of(out);
  }
  template <class U>
  static auto upstream_view(const U& upstream) {
    return ordered_view_of(upstream);
  }
  /// The row sink of the call (TotalRows, ColumnRows, UpstreamRows) and the kernel.
  template <class In, class W>
  auto run(const In& in, const W& work) const {
    using S = scalar_t<decltype(in.pred)>;
    using Acc = accumulator_t<S>;
    constexpr NoGrad* no_grad = nullptr;
    RowWeights<S> weights{};
    if constexpr (W::weighted) weights = RowWeights<S>::of(work.weights);
    if constexpr (W::writes_terms) {
      auto terms_out = work.terms;
      ColumnRows<decltype(terms_out)> rows{terms_out, weights};
      self().kernel(in.pred, in.target, no_grad, rows);
      return Acc(0);
    } else if constexpr (W::writes_hessians) {
      // one pass: the Hessian diagonal beside the gradient (forward_backward_hessian),
      // or alone (hessian_diagonal)
      auto hess = std::get<0>(work.hess);
      if constexpr (W::writes_gradients) {
        auto grad = std::get<0>(work.grad);
        TotalRows<S> rows{static_cast<S>(work.factor), weights};
        self().kernel(in.pred, in.target, &grad, rows, &hess);
        return rows.total;
      } else if constexpr (W::has_upstream) {
        UpstreamRows<std::decay_t<decltype(work.factor)>> rows{work.factor, weights};
        self().kernel(in.pred, in.target, no_grad, rows, &hess);
        return Acc(0);
      } else {
        TotalRows<S> rows{static_cast<S>(work.factor), weights};
        self().kernel(in.pred, in.target, no_grad, rows, &hess);
        return Acc(0);
      }
    } else if constexpr (!W::writes_gradients) {
      TotalRows<S> rows{static_cast<S>(work.factor), weights};
      self().kernel(in.pred, in.target, no_grad, rows);
      return rows.total;
    } else if constexpr (W::has_upstream) {
      auto grad = std::get<0>(work.grad);
      UpstreamRows<std::decay_t<decltype(work.factor)>> rows{work.factor, weights};
      self().kernel(in.pred, in.target, &grad, rows);
      return Acc(0);
    } else {
      auto grad = std::get<0>(work.grad);
      TotalRows<S> rows{static_cast<S>(work.factor), weights};
      self().kernel(in.pred, in.target, &grad, rows);
      return rows.total;
    }
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace lossfn
