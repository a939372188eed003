/// @file
/// Contrastive loss over pairs of embeddings, with a pluggable distance.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>

#include "detail/accumulate.hpp"
#include "detail/checks.hpp"
#include "detail/operand.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "reduction.hpp"

namespace lossfn {

/// Options of Contrastive (a plain aggregate).
struct ContrastiveOptions {
  double margin = 1.0;                      ///< M: finite and >= 0
  Distance distance = Distance::Euclidean;  ///< how D is measured
};

/// What Contrastive::backward returns: dL/dx1 and dL/dx2 (structured bindings work:
/// `auto [dx1, dx2] = loss.backward(x1, x2, y);`).
///
/// @tparam Plain the plain Eigen type of x1 (its PlainObject: Array or Matrix, storage order kept)
template <class Plain>
struct ContrastiveGradients {
  Plain dx1;  ///< dL/dx1, m x d
  Plain dx2;  ///< dL/dx2, m x d
};

namespace detail {
namespace contrastive {

/// Rows per block, at most. The per-row quantities of a block live in fixed-capacity
/// stack buffers (no heap), and the block's rows of x1 and x2 stay in cache between the
/// pass that measures the distances and the pass that writes the gradients. Row-major:
/// up to 64 rows, read along the rows. Column-major: each column of a block is one
/// contiguous run, so taller blocks (up to 512 rows) give longer runs; measured ~1.5x
/// faster than 64 rows at d = 100.
template <class A>
constexpr Eigen::Index max_rows_per_block = A::IsRowMajor ? 64 : 512;

/// Rows per block for rows of d coefficients of `bytes` each: the block's share of x1
/// and x2 fits ~256 KB (row-major) or ~1 MB (column-major, L2), and at least one row.
template <class A>
Eigen::Index rows_per_block(Eigen::Index d, std::size_t bytes) {
  const Eigen::Index budget = A::IsRowMajor ? (Eigen::Index(1) << 18) : (Eigen::Index(1) << 20);
  const Eigen::Index rows = budget / std::max<Eigen::Index>(1, 2 * d * static_cast<Eigen::Index>(bytes));
  return std::clamp<Eigen::Index>(rows, 1, max_rows_per_block<A>);
}

/// One value per row of a block: dynamic size, at most N, on the stack.
template <class T, Eigen::Index N>
using RowBuffer = Eigen::Array<T, Eigen::Dynamic, 1, Eigen::ColMajor, N, 1>;

/// A column of m values of x1's kind (Array or Matrix) and scalar.
template <class P>
using column_t = std::conditional_t<std::is_base_of<Eigen::ArrayBase<P>, P>::value,
                                    Eigen::Array<typename P::Scalar, Eigen::Dynamic, 1>,
                                    Eigen::Matrix<typename P::Scalar, Eigen::Dynamic, 1>>;

/// Placeholder for an output a sweep does not write.
struct Skip {};

/// out1 = p a + q b and out2 = q a + r b for a block of rows, with p, q, r one
/// coefficient per row: row by row when the inputs are row-major, column by column
/// otherwise, so that every statement is a contiguous (vectorised) vector operation.
/// The coefficients may be of a wider type than a and b (cosine keeps them in the
/// accumulator type: for a float row of norm 1e-20 the factor 1/|a|^2 overflows a
/// float while p a itself does not); then the products are formed in that type.
template <bool RowMajor, class O1, class O2, class A, class B, class C>
void combine(O1& out1, O2& out2, const A& a, const B& b, const C& p, const C& q, const C& r) {
  using T = typename C::Scalar;
  using S = typename A::Scalar;
  if constexpr (RowMajor) {
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const auto ai = a.row(i).template cast<T>();
      const auto bi = b.row(i).template cast<T>();
      assign(out1.row(i), (p(i) * ai + q(i) * bi).template cast<S>());
      assign(out2.row(i), (q(i) * ai + r(i) * bi).template cast<S>());
    }
  } else {
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      const auto aj = a.col(j).template cast<T>();
      const auto bj = b.col(j).template cast<T>();
      assign(out1.col(j), (p * aj + q * bj).template cast<S>());
      assign(out2.col(j), (q * aj + r * bj).template cast<S>());
    }
  }
}

/// out1 = k (a - b) and out2 = -out1, traversed as in combine.
/// As in combine, k may be of a wider type than a and b; the products are then formed
/// in that type (a dissimilar float pair at D ~ 1e-45 has k = (M - D)/D ~ 1e49).
template <bool RowMajor, class O1, class O2, class A, class B, class C>
void difference(O1& out1, O2& out2, const A& a, const B& b, const C& k) {
  using T = typename C::Scalar;
  using S = typename A::Scalar;
  if constexpr (RowMajor) {
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const auto d = (a.row(i).template cast<T>() - b.row(i).template cast<T>());
      assign(out1.row(i), (k(i) * d).template cast<S>());
      assign(out2.row(i), (-k(i) * d).template cast<S>());
    }
  } else {
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      const auto d = (a.col(j).template cast<T>() - b.col(j).template cast<T>());
      assign(out1.col(j), (k * d).template cast<S>());
      assign(out2.col(j), (-k * d).template cast<S>());
    }
  }
}

/// Per-row sums of f(a_row, b_row) over the columns, into out (accumulator type).
/// Row-major: a horizontal reduction per row; float rows are summed in chunks of 256
/// columns in float (vectorised; converting every term to double first measured ~1.6x
/// slower at d = 100) and the chunk sums in double, as the row-wise kernel of
/// CrossEntropy does. Column-major: one column at a time added to the running sums in
/// the accumulator type (contiguous runs, instead of Eigen's rowwise() walking across
/// all d columns for every packet of rows).
template <bool RowMajor, class Out, class A, class B, class F>
void row_sums(Out& out, const A& a, const B& b, const F& f) {
  using Acc = typename Out::Scalar;
  if constexpr (!RowMajor) {
    out.setZero(a.rows());
    for (Eigen::Index j = 0; j < a.cols(); ++j) out += f(a.col(j).template cast<Acc>(), b.col(j).template cast<Acc>());
  } else if constexpr (std::is_same<typename A::Scalar, Acc>::value) {
    out = f(a, b).rowwise().sum();
  } else {
    constexpr Eigen::Index chunk = 256;
    out.setZero(a.rows());
    for (Eigen::Index j0 = 0; j0 < a.cols(); j0 += chunk) {
      const Eigen::Index w = std::min(chunk, a.cols() - j0);
      out += f(a.middleCols(j0, w), b.middleCols(j0, w)).rowwise().sum().template cast<Acc>();
    }
  }
}

/// One pass over the rows, a block of rows at a time. For each row: measure D, the loss
///   l = (1 - Y) 1/2 D^2 + Y 1/2 max(0, M - D)^2,
/// and, when g1/g2 are given, write w_i dl/dx1 and w_i dl/dx2, where
///   dl/dD = (1 - Y) D - Y max(0, M - D)     (the notes' -D for Y = 1 is wrong: DESIGN.md)
/// and w_i = `weight` (a scalar: the reduction's scale) or upstream_i (None).
/// Writes l_i into `losses` when given; returns sum_i l_i in the accumulator type.
/// Outputs must not alias x1 or x2 (the block's inputs are read after g1 is written).
template <Distance Dist, class A, class B, class Y, class W, class L, class G1, class G2>
accumulator_t<scalar_t<A>> sweep(double margin, const A& x1, const B& x2, const Y& y, const W& weight, L& losses,
                                 G1& g1, G2& g2) {
  using S = scalar_t<A>;
  using Acc = accumulator_t<S>;
  constexpr Eigen::Index kRows = max_rows_per_block<A>;
  using Buf = RowBuffer<Acc, kRows>;  // per-row values in the accumulator type
  using BufS = RowBuffer<S, kRows>;   // per-row coefficients in the inputs' type
  constexpr bool with_grad = !std::is_same<G1, Skip>::value;
  const Acc M = static_cast<Acc>(margin);
  const Eigen::Index m = x1.rows();
  const Eigen::Index block = rows_per_block<A>(x1.cols(), sizeof(S));
  Acc total(0);
  for (Eigen::Index r0 = 0; r0 < m; r0 += block) {
    const Eigen::Index n = std::min(block, m - r0);
    const auto rows1 = x1.middleRows(r0, n);
    const auto rows2 = x2.middleRows(r0, n);
    const auto& a = as_array(rows1);
    const auto& b = as_array(rows2);
    const auto label_rows = y.middleRows(r0, n);
    const Buf label = as_array(label_rows).template cast<Acc>();
    const auto dissimilar = label != Acc(0);

    // D, and for cosine the inverse norms (0 for a zero row: then cos = 0, D = 1 and
    // the row's gradient is 0; `== 0` rather than `> 0` so that a NaN propagates).
    Buf D, cos, inv_a, inv_b;
    if constexpr (Dist == Distance::Cosine) {
      Buf aa, bb, ab;
      row_sums<A::IsRowMajor>(aa, a, b, [](const auto& u, const auto&) { return u.square(); });
      row_sums<A::IsRowMajor>(bb, a, b, [](const auto&, const auto& v) { return v.square(); });
      row_sums<A::IsRowMajor>(ab, a, b, [](const auto& u, const auto& v) { return u * v; });
      inv_a = (aa == Acc(0)).select(Acc(0), aa.sqrt().inverse());
      inv_b = (bb == Acc(0)).select(Acc(0), bb.sqrt().inverse());
      // (a.b / |a|) / |b|: each factor stays within range even for tiny or huge norms
      cos = ab * inv_a * inv_b;
      D = Acc(1) - cos;
    } else {
      Buf s;
      row_sums<A::IsRowMajor>(s, a, b, [](const auto& u, const auto& v) { return (u - v).square(); });
      if constexpr (Dist == Distance::Euclidean) {
        D = s.sqrt();
      } else {
        D = s;
      }
    }
    const Buf hinge = (M - D).max(Acc(0));
    // select rather than (1 - Y) x ..., so that a far dissimilar pair (D = inf) costs 0, not 0 x inf
    const Buf loss = Acc(0.5) * dissimilar.select(hinge.square(), D.square());
    total += loss.sum();
    if constexpr (!std::is_same<L, Skip>::value) {
      assign(losses.middleRows(r0, n), loss.template cast<S>());
    }

    if constexpr (with_grad) {
      Buf w;
      if constexpr (std::is_arithmetic<W>::value) {
        w.setConstant(n, static_cast<Acc>(weight));
      } else {
        const auto upstream_rows = weight.middleRows(r0, n);
        w = as_array(upstream_rows).template cast<Acc>();
      }
      const Buf dl_dD = dissimilar.select(-hinge, D);
      auto out1 = g1.middleRows(r0, n);
      auto out2 = g2.middleRows(r0, n);
      if constexpr (Dist == Distance::Cosine) {
        // dD/da = -(b/(|a||b|) - cos a/|a|^2), dD/db likewise: g1 = p a + q b, g2 = q a + r b
        const Buf t = -w * dl_dD;
        const Buf p = -t * cos * inv_a * inv_a;
        const Buf q = t * inv_a * inv_b;
        const Buf r = -t * cos * inv_b * inv_b;
        combine<A::IsRowMajor>(out1, out2, a, b, p, q, r);
      } else {
        // g1 = k (a - b), g2 = -g1. Euclidean: dD/da = (a - b)/D, so k = dl/dD / D, which
        // is exactly 1 for a similar pair; for a dissimilar pair at D = 0 (a = b) the
        // subgradient 0 is taken. Squared Euclidean: dD/da = 2 (a - b), smooth.
        Buf k;
        if constexpr (Dist == Distance::Euclidean) {
          k = dissimilar.select((D == Acc(0)).select(Acc(0), dl_dD / D), Buf::Ones(n));
        } else {
          k = Acc(2) * dl_dD;
        }
        const Buf kw = w * k;
        // the float path, unless a factor does not fit a float (tiny D): then the
        // products are formed in the accumulator type
        if (std::is_same<S, Acc>::value || kw.abs().maxCoeff() <= static_cast<Acc>(std::numeric_limits<S>::max())) {
          const BufS ks = kw.template cast<S>();
          difference<A::IsRowMajor>(out1, out2, a, b, ks);
        } else {
          difference<A::IsRowMajor>(out1, out2, a, b, kw);
        }
      }
    }
  }
  return total;
}

}  // namespace contrastive
}  // namespace detail

/// Contrastive loss (Hadsell, Chopra & LeCun 2006) over m pairs of d-dimensional
/// embeddings, row i of x1 paired with row i of x2, with label Y_i = 0 for a similar
/// pair and 1 for a dissimilar one:
///
///   l_i = (1 - Y_i) 1/2 D_i^2 + Y_i 1/2 max(0, M - D_i)^2
///
/// Sum: L = sum_i l_i; Mean: L = that / m (per pair, PyTorch's 'batchmean'); None:
/// the column of l_i. Gradients, with w = 1 (Sum), 1/m (Mean) or upstream_i (None):
///   dL/dx1_i = w dl/dD dD/dx1_i,  dL/dx2_i = w dl/dD dD/dx2_i,
///   dl/dD = (1 - Y) D - Y max(0, M - D).
///
/// Non-differentiable points (documented choices, tested):
/// - Euclidean, dissimilar pair with x1_i = x2_i (D = 0 < M): the loss is M^2/2 and
///   the gradient is the subgradient 0 (no epsilon). A similar pair has the smooth
///   gradient x1_i - x2_i everywhere.
/// - Cosine with a zero row in x1 or x2: cos is defined as 0 (D = 1, so the loss is
///   1/2 for a similar pair and 1/2 max(0, M - 1)^2 for a dissimilar one) and both
///   rows' gradients are 0 (no epsilon; any nonzero norm is used as it is). Norms are
///   sqrt(sum of squares) in the accumulator type: in double, a row whose norm is below
///   ~1e-154 (squares underflow) counts as zero, above ~1e154 the squares overflow;
///   float inputs are measured in double and have no such limit.
/// - SquaredEuclidean is differentiable everywhere.
///
/// Labels: an m x 1 column of any arithmetic type, each exactly 0 or 1, else
/// std::out_of_range naming the row and the value. x1 and x2 share one floating-point
/// scalar type; either storage order; gradient outputs must not alias the inputs.
///
/// @tparam Reduction Sum, Mean (default; per pair) or None
template <class Reduction = Mean>
class Contrastive {
  template <class X>
  using S = detail::scalar_t<X>;
  template <class X>
  using Acc = detail::accumulator_t<S<X>>;

 public:
  /// The reduction policy: Sum, Mean (per pair) or None.
  using reduction = Reduction;
  /// The loss's name, as it appears in error messages ("lossfn::Contrastive::forward: ...").
  static constexpr const char* name = "Contrastive";

  /// margin M (finite, >= 0) and distance; std::invalid_argument otherwise.
  explicit Contrastive(double margin = 1.0, Distance distance = Distance::Euclidean)
      : Contrastive(ContrastiveOptions{margin, distance}) {}
  /// From options (see ContrastiveOptions).
  explicit Contrastive(const ContrastiveOptions& options) : options_(options) {
    detail::check_option(std::isfinite(options.margin) && options.margin >= 0, name,
                         "margin must be finite and >= 0, got " + detail::number_string(options.margin));
    detail::check_option(options.distance == Distance::Euclidean || options.distance == Distance::SquaredEuclidean ||
                             options.distance == Distance::Cosine,
                         name, "distance must be Euclidean, SquaredEuclidean or Cosine");
  }

  /// The options given at construction.
  const ContrastiveOptions& options() const noexcept { return options_; }
  /// The margin M.
  double margin() const noexcept { return options_.margin; }
  /// The distance D.
  Distance distance() const noexcept { return options_.distance; }

  /// L = R_i l_i. Sum/Mean: a scalar of x1's type; None: the m x 1 column of l_i.
  template <class X1, class X2, class Y>
  auto forward(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y) const {
    check_inputs<X1, X2, Y>("forward", x1, x2, y);
    detail::operand_t<X1> a = x1.derived();
    detail::operand_t<X2> b = x2.derived();
    detail::operand_t<Y> labels = y.derived();
    detail::contrastive::Skip skip;
    if constexpr (Reduction::reduces) {
      const auto total = dispatch(a, b, labels, 0, skip, skip, skip);
      return static_cast<S<X1>>(total * Reduction::scale(static_cast<Acc<X1>>(x1.rows())));
    } else {
      detail::contrastive::column_t<X1> losses(x1.rows());
      dispatch(a, b, labels, 0, losses, skip, skip);
      return losses;
    }
  }

  /// Sum/Mean: {dL/dx1, dL/dx2}, each of x1's plain type, dL/dx = w dl/dD dD/dx with w = 1 or 1/m.
  template <class X1, class X2, class Y>
  ContrastiveGradients<typename X1::PlainObject> backward(const Eigen::DenseBase<X1>& x1,
                                                          const Eigen::DenseBase<X2>& x2,
                                                          const Eigen::DenseBase<Y>& y) const {
    static_assert(Reduction::reduces,
                  "lossfn: with the None reduction, backward takes the upstream gradient: "
                  "backward(x1, x2, y, upstream)");
    check_inputs<X1, X2, Y>("backward", x1, x2, y);
    ContrastiveGradients<typename X1::PlainObject> g{typename X1::PlainObject(x1.rows(), x1.cols()),
                                                     typename X1::PlainObject(x1.rows(), x1.cols())};
    detail::operand_t<X1> a = x1.derived();
    detail::operand_t<X2> b = x2.derived();
    detail::operand_t<Y> labels = y.derived();
    detail::contrastive::Skip skip;
    dispatch(a, b, labels, scale<X1>(x1.rows()), skip, g.dx1, g.dx2);
    return g;
  }

  /// None: the vector-Jacobian products {sum_i upstream_i dl_i/dx1, ... /dx2}; upstream is m x 1.
  template <class X1, class X2, class Y, class U>
  ContrastiveGradients<typename X1::PlainObject> backward(const Eigen::DenseBase<X1>& x1,
                                                          const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                                                          const Eigen::DenseBase<U>& upstream) const {
    static_assert(!Reduction::reduces,
                  "lossfn: backward(x1, x2, y, upstream) is for the None reduction; "
                  "Sum and Mean take backward(x1, x2, y)");
    detail::require_same_scalar<X1, U>();
    check_inputs<X1, X2, Y>("backward", x1, x2, y);
    detail::check_column_per_row(name, "backward", "x1", x1, "upstream", upstream);
    ContrastiveGradients<typename X1::PlainObject> g{typename X1::PlainObject(x1.rows(), x1.cols()),
                                                     typename X1::PlainObject(x1.rows(), x1.cols())};
    detail::operand_t<X1> a = x1.derived();
    detail::operand_t<X2> b = x2.derived();
    detail::operand_t<Y> labels = y.derived();
    detail::operand_t<U> u = upstream.derived();
    detail::contrastive::Skip skip;
    dispatch(a, b, labels, u, skip, g.dx1, g.dx2);
    return g;
  }

  /// Sum/Mean, one pass: returns L and writes dL/dx1 into g1 and dL/dx2 into g2 (an
  /// Array or Matrix, resized if needed, or a Map, Block or Ref of x1's shape). No heap
  /// allocation for inputs with direct access. g1 and g2 must not alias x1 or x2.
  template <class X1, class X2, class Y, class G1, class G2>
  S<X1> forward_backward(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                         const Eigen::DenseBase<G1>& g1, const Eigen::DenseBase<G2>& g2) const {
    static_assert(Reduction::reduces,
                  "lossfn: forward_backward needs a reducing policy (Sum or Mean); with None, "
                  "call forward and backward(x1, x2, y, upstream)");
    detail::require_same_scalar<X1, G1>();
    detail::require_same_scalar<X1, G2>();
    check_inputs<X1, X2, Y>("forward_backward", x1, x2, y);
    detail::check_output(name, "forward_backward", "g1", g1, "x1", x1.rows(), x1.cols());
    detail::check_output(name, "forward_backward", "g2", g2, "x1", x1.rows(), x1.cols());
    detail::operand_t<X1> a = x1.derived();
    detail::operand_t<X2> b = x2.derived();
    detail::operand_t<Y> labels = y.derived();
    G1& out1 = detail::prepare_output(g1, x1.rows(), x1.cols());
    G2& out2 = detail::prepare_output(g2, x1.rows(), x1.cols());
    detail::contrastive::Skip skip;
    const auto total = dispatch(a, b, labels, scale<X1>(x1.rows()), skip, out1, out2);
    return static_cast<S<X1>>(total * Reduction::scale(static_cast<Acc<X1>>(x1.rows())));
  }

  /// Same as forward.
  template <class X1, class X2, class Y>
  auto operator()(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y) const {
    return forward(x1, x2, y);
  }

 private:
  /// The reduction's factor for m pairs (1 for Sum, 1/m for Mean).
  template <class X1>
  static Acc<X1> scale(Eigen::Index m) {
    if constexpr (Reduction::reduces) {
      return Reduction::scale(static_cast<Acc<X1>>(m));
    } else {
      return Acc<X1>(1);
    }
  }

  /// Every check of a call, O(m), before anything is written.
  template <class X1, class X2, class Y>
  void check_inputs(const char* function, const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                    const Eigen::DenseBase<Y>& y) const {
    detail::require_same_scalar<X1, X2>();
    static_assert(std::is_arithmetic<S<Y>>::value,
                  "lossfn: Contrastive labels must have an arithmetic scalar type (integer or floating point)");
    detail::check_same_shape(name, function, "x1", x1, "x2", x2);
    detail::check_column_per_row(name, function, "x1", x1, "labels", y);
    detail::check_terms<Reduction>(name, function, x1.rows());
    const auto& labels = y.derived();
    for (Eigen::Index i = 0; i < labels.rows(); ++i) {
      const auto v = labels.coeff(i, 0);
      if (!(v == S<Y>(0) || v == S<Y>(1))) {
        detail::raise(error_kind::out_of_range, detail::where(name, function) + "label at row " + std::to_string(i) +
                                                    " is " + detail::number_string(static_cast<double>(v)) +
                                                    " (expected 0 = similar pair or 1 = dissimilar pair)");
      }
    }
  }

  /// The one switch on the distance per call; the kernels are compiled per distance.
  template <class A, class B, class Y, class W, class L, class G1, class G2>
  auto dispatch(const A& a, const B& b, const Y& y, const W& weight, L& losses, G1& g1, G2& g2) const {
    using detail::contrastive::sweep;
    switch (options_.distance) {
      case Distance::SquaredEuclidean:
        return sweep<Distance::SquaredEuclidean>(options_.margin, a, b, y, weight, losses, g1, g2);
      case Distance::Cosine:
        return sweep<Distance::Cosine>(options_.margin, a, b, y, weight, losses, g1, g2);
      case Distance::Euclidean:
        break;
    }
    return sweep<Distance::Euclidean>(options_.margin, a, b, y, weight, losses, g1, g2);
  }

  ContrastiveOptions options_;
};

}  // namespace lossfn
