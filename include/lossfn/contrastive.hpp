/// @file
/// Contrastive loss over pairs of embeddings, with a pluggable distance.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "detail/accumulate.hpp"
#include "detail/checks.hpp"
#include "detail/driver.hpp"
#include "detail/row_distance.hpp"
#include "detail/row_statistics.hpp"
#include "detail/weights.hpp"
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

/// The kernel program, one pass over the rows. For each row: D (row_distance.hpp),
/// the loss l = (1 - Y) 1/2 D^2 + Y 1/2 max(0, M - D)^2 and, when Out holds
/// gradients, w dl/dD dD/dx1 and w dl/dD dD/dx2, where
///   dl/dD = (1 - Y) D - Y max(0, M - D)     (the notes' -D for Y = 1 is wrong: DESIGN.md)
/// and w = in.weight (the reduction's scale, or upstream_i for None), each times
/// the row's sample weight v_i when given (a row of weight 0 adds exactly 0).
/// Returns sum_i v_i l_i in the accumulation type.
template <Distance Dist, class In, class Out, class V>
auto sweep(double margin, const In& in, Out out, const RowWeights<V>& sample) {
  using S = typename decltype(in.x1)::Scalar;
  using Acc = accumulator_t<S>;
  constexpr bool row_major = decltype(in.x1)::IsRowMajor;
  constexpr int kRows = max_rows_per_block<row_major>;
  using Buf = RowBuffer<Acc, kRows>;
  const Acc M = static_cast<Acc>(margin);
  Acc total(0);
  sweep_distances<Dist>(
      [&](Eigen::Index r0, Eigen::Index n, const RowDistances<Acc, kRows>& distance) {
        const Buf& D = distance.D;
        const Buf label = in.row.segment(r0, n).template cast<Acc>();
        const auto dissimilar = label != Acc(0);
        const Buf hinge = (M - D).max(Acc(0));
        // select rather than (1 - Y) x ..., so that a far dissimilar pair (D = inf) costs 0, not 0 x inf
        Buf loss = Acc(0.5) * dissimilar.select(hinge.square(), D.square());
        Buf v;  // the sample weights of the block's rows
        if (sample.given()) {
          v.resize(n);
          for (Eigen::Index j = 0; j < n; ++j) v(j) = static_cast<Acc>(sample(r0 + j));
          loss = (v == Acc(0)).select(Acc(0), v * loss);
        }
        total += loss.sum();
        if constexpr (!std::is_same<decltype(out.terms), Skip>::value) {
          out.terms.middleRows(r0, n) = loss.template cast<S>();
        }
        constexpr bool gradients = !std::is_same<decltype(out.dx1), Skip>::value;
        constexpr bool hessians = !std::is_same<decltype(out.h1), Skip>::value;
        if constexpr (gradients || hessians) {
          Buf w;
          if constexpr (std::is_arithmetic<decltype(in.weight)>::value) {
            w.setConstant(n, in.weight);
          } else {
            w = in.weight.segment(r0, n).template cast<Acc>();
          }
          if (sample.given()) w *= v;
          const Buf dl_dD = dissimilar.select(-hinge, D);
          const auto a = in.x1.middleRows(r0, n);
          const auto b = in.x2.middleRows(r0, n);
          if constexpr (gradients) {
            auto g1 = out.dx1.middleRows(r0, n);
            auto g2 = out.dx2.middleRows(r0, n);
            if constexpr (Dist == Distance::Cosine) {
              write_cosine_gradients<row_major>(g1, g2, a, b, distance, Buf(w * dl_dD));
            } else if constexpr (Dist == Distance::Euclidean) {
              // a similar pair's 1/2 D^2 = 1/2 |a - b|^2 has the gradient a - b itself:
              // factor 1, without dividing D by D (inf / inf for a far pair)
              const Buf factor = dissimilar.select(difference_factor<Dist>(distance, dl_dD), Buf::Ones(n));
              write_difference_gradients<row_major>(g1, g2, a, b, Buf(w * factor));
            } else {
              write_difference_gradients<row_major>(g1, g2, a, b, Buf(w * difference_factor<Dist>(distance, dl_dD)));
            }
          }
          if constexpr (hessians) {
            auto h1 = out.h1.middleRows(r0, n);
            auto h2 = out.h2.middleRows(r0, n);
            // d^2l/dD^2: 1 for a similar pair and for a dissimilar one inside the margin
            // (D < M); 0 beyond it and at D = M (the flat piece, where the gradient is 0
            // from both sides). nan_of_D: 0, or NaN for a NaN D, so that a NaN input
            // gives NaN where a constant would hide it.
            const Buf d2l_dD2 = dissimilar.select((D < M).template cast<Acc>(), Buf::Ones(n));
            const Buf nan_of_D = D.min(Acc(0)).max(Acc(0));
            if constexpr (Dist == Distance::Cosine) {
              write_cosine_hessians<row_major>(h1, h2, a, b, distance, Buf(w * dl_dD + nan_of_D), Buf(w * d2l_dD2));
            } else if constexpr (Dist == Distance::Euclidean) {
              // r = (a - b)/D: d^2l/da_k^2 = l'/D + (l'' - l'/D) r_k^2. A similar pair: 1
              // (the Hessian of 1/2 |a - b|^2, no division). D = 0 (a = b): l'' along
              // every axis, the second derivative of t -> l(a + t e_k) on both sides of 0.
              const auto at_zero = D == Acc(0);
              const Buf inv_D = at_zero.select(Acc(0), D.inverse());
              const Buf slope = dl_dD * inv_D;
              const Buf c0 = dissimilar.select(at_zero.select(d2l_dD2, slope), Buf::Ones(n));
              const Buf c1 = dissimilar.select(d2l_dD2 - slope, Buf::Zero(n));
              write_difference_hessians<row_major>(h1, h2, a, b, Buf(w * c0 + nan_of_D), Buf(w * c1), inv_D);
            } else {
              // dD/da_k = 2 (a_k - b_k), d^2D/da_k^2 = 2: 2 l' + 4 l'' (a_k - b_k)^2
              write_difference_hessians<row_major>(h1, h2, a, b, Buf(Acc(2) * w * dl_dD + nan_of_D),
                                                   Buf(Acc(4) * w * d2l_dD2), Buf(Buf::Ones(n)));
            }
          }
        }
      },
      in.x1, in.x2);
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
/// Hessian diagonals (hessian_diagonal, forward_backward_hessian; docs/contrastive.md):
/// the exact diagonals of the full Hessians d^2L/dx1^2 and d^2L/dx2^2, each entry
///   w (l''(D) (dD/dx_k)^2 + l'(D) d^2D/dx_k^2),
/// l'' = 1 for a similar pair and for a dissimilar one with D < M, else 0. Per entry k,
/// with r = (x1_i - x2_i)/D:
/// - Euclidean: similar 1; dissimilar, D < M: 1 - (M/D)(1 - r_k^2) (the same for x2).
/// - SquaredEuclidean: 2 l'(D) + 4 l''(D) (x1_ik - x2_ik)^2 (the same for x2).
/// - Cosine (u = x1_i/|x1_i|, v = x2_i/|x2_i|, c = cos): for x1,
///   (l'' (c u_k - v_k)^2 + l' (c - 3 c u_k^2 + 2 u_k v_k)) / |x1_i|^2; for x2 swap u and v
///   and divide by |x2_i|^2.
/// At the kinks: at D = M a dissimilar pair takes the flat piece (0; the gradient is 0
/// from both sides there); Euclidean at D = 0 takes l'' (1 similar; 1 dissimilar with
/// M > 0, the second derivative of t -> l(x + t e_k) on both sides of the tip, while the
/// gradient takes the subgradient 0); a cosine zero row gives 0 in both diagonals, as
/// in the gradients. Entries are formed in the accumulation type and rounded once; one
/// beyond the scalar type's range (a float pair at a denormal distance) is its largest
/// finite value of that sign. A NaN input gives NaN.
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
    return detail::Driver::forward(*this, detail::NoWeights{}, x1, x2, y);
  }

  /// Sum/Mean: {dL/dx1, dL/dx2}, each of x1's plain type, dL/dx = w dl/dD dD/dx with w = 1 or 1/m.
  template <class X1, class X2, class Y>
  ContrastiveGradients<typename X1::PlainObject> backward(const Eigen::DenseBase<X1>& x1,
                                                          const Eigen::DenseBase<X2>& x2,
                                                          const Eigen::DenseBase<Y>& y) const {
    return detail::Driver::backward(*this, detail::NoWeights{}, x1, x2, y);
  }

  /// None: the vector-Jacobian products {sum_i upstream_i dl_i/dx1, ... /dx2}; upstream is m x 1.
  template <class X1, class X2, class Y, class U>
  ContrastiveGradients<typename X1::PlainObject> backward(const Eigen::DenseBase<X1>& x1,
                                                          const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                                                          const Eigen::DenseBase<U>& upstream) const {
    return detail::Driver::backward_upstream(*this, detail::NoWeights{}, upstream, x1, x2, y);
  }

  /// Sum/Mean, one pass: returns L and writes dL/dx1 into g1 and dL/dx2 into g2 (an
  /// Array or Matrix, resized if needed, or a Map, Block or Ref of x1's shape). No heap
  /// allocation for inputs with direct access. g1 and g2 must not alias x1 or x2.
  template <class X1, class X2, class Y, class G1, class G2>
  S<X1> forward_backward(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                         const Eigen::DenseBase<G1>& g1, const Eigen::DenseBase<G2>& g2) const {
    return detail::Driver::forward_backward(*this, detail::NoWeights{}, detail::outputs(g1, g2), x1, x2, y);
  }

  /// Sum/Mean: the diagonals of the Hessians d^2L/dx1^2 and d^2L/dx2^2, in backward's
  /// pair type: `auto [h1, h2] = loss.hessian_diagonal(x1, x2, y);` (the members are
  /// named dx1 and dx2 as in backward; here they hold the diagonals). Exact diagonals
  /// of the full Hessian, scaled by w = 1 (Sum) or 1/m (Mean) as the gradients are;
  /// the values at the kinks are in the class comment and docs/contrastive.md.
  template <class X1, class X2, class Y>
  ContrastiveGradients<typename X1::PlainObject> hessian_diagonal(const Eigen::DenseBase<X1>& x1,
                                                                  const Eigen::DenseBase<X2>& x2,
                                                                  const Eigen::DenseBase<Y>& y) const {
    return detail::Driver::hessian(*this, detail::NoWeights{}, x1, x2, y);
  }

  /// None: the diagonals of the Hessians of sum_i upstream_i l_i in x1 and in x2; upstream is m x 1.
  template <class X1, class X2, class Y, class U>
  ContrastiveGradients<typename X1::PlainObject> hessian_diagonal(const Eigen::DenseBase<X1>& x1,
                                                                  const Eigen::DenseBase<X2>& x2,
                                                                  const Eigen::DenseBase<Y>& y,
                                                                  const Eigen::DenseBase<U>& upstream) const {
    return detail::Driver::hessian_upstream(*this, detail::NoWeights{}, upstream, x1, x2, y);
  }

  /// Sum/Mean, one pass: returns L, writes dL/dx1 into g1, dL/dx2 into g2 and the
  /// Hessian diagonals into h1 and h2 (each as forward_backward's g1). No heap
  /// allocation when all four have x1's shape and the inputs have direct access;
  /// every check runs before any output is written. No output may alias x1 or x2.
  template <class X1, class X2, class Y, class G1, class G2, class H1, class H2>
  S<X1> forward_backward_hessian(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                                 const Eigen::DenseBase<Y>& y, const Eigen::DenseBase<G1>& g1,
                                 const Eigen::DenseBase<G2>& g2, const Eigen::DenseBase<H1>& h1,
                                 const Eigen::DenseBase<H2>& h2) const {
    return detail::Driver::forward_backward_hessian(*this, detail::NoWeights{}, detail::outputs(g1, g2),
                                                    detail::outputs(h1, h2), x1, x2, y);
  }

  /// Mean: what it divides by, the number of pairs m (in the accumulation type), for
  /// sharded batches (docs/sharding.md); 0 for no pair.
  template <class X1, class X2, class Y>
  detail::accumulator_t<S<X1>> denominator(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                                           const Eigen::DenseBase<Y>& y) const {
    return detail::Driver::denominator(*this, detail::NoWeights{}, x1, x2, y);
  }

  /// forward with one weight per pair (an m x 1 column, docs/weights.md): L = R_i v_i l_i.
  template <class X1, class X2, class Y, class W>
  auto forward(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
               const Weights<W>& weights) const {
    return detail::Driver::forward(*this, weights, x1, x2, y);
  }
  /// backward with weights (Sum, Mean, WeightedMean).
  template <class X1, class X2, class Y, class W>
  ContrastiveGradients<typename X1::PlainObject> backward(const Eigen::DenseBase<X1>& x1,
                                                          const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                                                          const Weights<W>& weights) const {
    return detail::Driver::backward(*this, weights, x1, x2, y);
  }
  /// None's backward with weights: the vector-Jacobian products of the weighted terms.
  template <class X1, class X2, class Y, class W, class U>
  ContrastiveGradients<typename X1::PlainObject> backward(const Eigen::DenseBase<X1>& x1,
                                                          const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                                                          const Weights<W>& weights,
                                                          const Eigen::DenseBase<U>& upstream) const {
    return detail::Driver::backward_upstream(*this, weights, upstream, x1, x2, y);
  }
  /// forward_backward with weights.
  template <class X1, class X2, class Y, class W, class G1, class G2>
  S<X1> forward_backward(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                         const Weights<W>& weights, const Eigen::DenseBase<G1>& g1,
                         const Eigen::DenseBase<G2>& g2) const {
    return detail::Driver::forward_backward(*this, weights, detail::outputs(g1, g2), x1, x2, y);
  }
  /// denominator with weights: WeightedMean's sum of the weights (Mean's m does not
  /// depend on them).
  template <class X1, class X2, class Y, class W>
  detail::accumulator_t<S<X1>> denominator(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                                           const Eigen::DenseBase<Y>& y, const Weights<W>& weights) const {
    return detail::Driver::denominator(*this, weights, x1, x2, y);
  }
  /// hessian_diagonal with weights (Sum, Mean, WeightedMean): each row's diagonals times its weight.
  template <class X1, class X2, class Y, class W>
  ContrastiveGradients<typename X1::PlainObject> hessian_diagonal(const Eigen::DenseBase<X1>& x1,
                                                                  const Eigen::DenseBase<X2>& x2,
                                                                  const Eigen::DenseBase<Y>& y,
                                                                  const Weights<W>& weights) const {
    return detail::Driver::hessian(*this, weights, x1, x2, y);
  }
  /// None's hessian_diagonal with weights: the diagonals of sum_i upstream_i v_i l_i.
  template <class X1, class X2, class Y, class W, class U>
  ContrastiveGradients<typename X1::PlainObject> hessian_diagonal(const Eigen::DenseBase<X1>& x1,
                                                                  const Eigen::DenseBase<X2>& x2,
                                                                  const Eigen::DenseBase<Y>& y,
                                                                  const Weights<W>& weights,
                                                                  const Eigen::DenseBase<U>& upstream) const {
    return detail::Driver::hessian_upstream(*this, weights, upstream, x1, x2, y);
  }
  /// forward_backward_hessian with weights.
  template <class X1, class X2, class Y, class W, class G1, class G2, class H1, class H2>
  S<X1> forward_backward_hessian(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                                 const Eigen::DenseBase<Y>& y, const Weights<W>& weights,
                                 const Eigen::DenseBase<G1>& g1, const Eigen::DenseBase<G2>& g2,
                                 const Eigen::DenseBase<H1>& h1, const Eigen::DenseBase<H2>& h2) const {
    return detail::Driver::forward_backward_hessian(*this, weights, detail::outputs(g1, g2), detail::outputs(h1, h2),
                                                    x1, x2, y);
  }
  /// Same as forward with weights.
  template <class X1, class X2, class Y, class W>
  auto operator()(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y,
                  const Weights<W>& weights) const {
    return forward(x1, x2, y, weights);
  }

  /// Same as forward.
  template <class X1, class X2, class Y>
  auto operator()(const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y) const {
    return forward(x1, x2, y);
  }

 private:
  // ---- the call driver's hooks (detail/driver.hpp) ----
  friend struct detail::Driver;
  static constexpr detail::Terms terms = detail::Terms::per_row;
  static constexpr const char* first = "x1";
  static constexpr std::array<const char*, 2> gradient_names{{"g1", "g2"}};
  static constexpr std::array<const char*, 2> hessian_names{{"h1", "h2"}};
  template <class P>
  using gradients = ContrastiveGradients<P>;

  template <class X1, class X2, class Y>
  static void check(const char* function, const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                    const Eigen::DenseBase<Y>& labels) {
    detail::require_same_scalar<X1, X2>();
    static_assert(std::is_arithmetic<S<Y>>::value,
                  "lossfn: Contrastive labels must have an arithmetic scalar type (integer or floating point)");
    detail::check_same_shape(name, function, "x1", x1, "x2", x2);
    detail::check_column_per_row(name, function, "x1", x1, "labels", labels);
  }
  /// x1 and x2 as ordered views (storage order and unit inner stride kept at compile
  /// time, so the row pieces stay vectorised), the labels as a strided column.
  template <class A, class B, class Y>
  static auto inputs(const A& a, const B& b, const Y& labels) {
    using In = detail::RowInputs<decltype(detail::ordered_view_of(a)), decltype(detail::ordered_view_of(b)),
                                 decltype(detail::strided_column_of(labels)), detail::Skip>;
    return In{detail::ordered_view_of(a), detail::ordered_view_of(b), detail::strided_column_of(labels), {}};
  }
  /// Every label exactly 0 or 1 (else std::out_of_range naming the row and the value).
  template <class In, class V>
  static double count(const char* function, const In& in, const detail::WeightsView<V>* weights) {
    for (Eigen::Index i = 0; i < in.row.rows(); ++i) {
      const auto v = in.row.coeff(i);
      using Y = std::decay_t<decltype(v)>;
      if (!(v == Y(0) || v == Y(1))) {
        detail::raise(error_kind::out_of_range, detail::where(name, function) + "label at row " + std::to_string(i) +
                                                    " is " + detail::number_string(static_cast<double>(v)) +
                                                    " (expected 0 = similar pair or 1 = dissimilar pair)");
      }
    }
    if (weights == nullptr) return static_cast<double>(in.x1.rows());
    return (weights->values * weights->multiplier).template cast<double>().sum();
  }
  template <class G>
  static auto output_view(G& out) {
    return detail::ordered_mut_view_of(out);
  }
  template <class U>
  static auto upstream_view(const U& upstream) {
    return detail::strided_column_of(upstream);
  }
  /// The kernel program's views for one call, then rows().
  template <class In, class W>
  auto run(const In& in, const W& work) const {
    const detail::RowInputs<decltype(in.x1), decltype(in.x2), decltype(in.row), decltype(work.factor)> with_weight{
        in.x1, in.x2, in.row, work.factor};
    using V = typename decltype(in.x1)::Scalar;
    detail::RowWeights<V> sample{};
    if constexpr (W::weighted) sample = detail::RowWeights<V>::of(work.weights);
    if constexpr (W::writes_gradients || W::writes_hessians) {
      auto g1 = output_or_skip<0>(work.grad);
      auto g2 = output_or_skip<1>(work.grad);
      auto h1 = output_or_skip<0>(work.hess);
      auto h2 = output_or_skip<1>(work.hess);
      return rows(
          with_weight,
          detail::RowOutputs<detail::Skip, decltype(g1), decltype(g2), decltype(h1), decltype(h2)>{{}, g1, g2, h1, h2},
          sample);
    } else {
      return rows(with_weight, detail::RowOutputs<decltype(work.terms), detail::Skip, detail::Skip>{work.terms, {}, {}},
                  sample);
    }
  }

  /// Output I of a Work's tuple of views (gradients or Hessian diagonals), or Skip when the call does not write them.
  template <std::size_t I, class Views>
  static auto output_or_skip(const Views& views) {
    if constexpr (I < std::tuple_size<Views>::value) {
      return std::get<I>(views);
    } else {
      return detail::Skip{};
    }
  }

  /// The kernel program: the one switch on the distance per call;
  /// the kernels are compiled per distance.
  template <class In, class Out, class V>
  auto rows(const In& in, const Out& out, const detail::RowWeights<V>& sample) const {
    using detail::contrastive::sweep;
    switch (options_.distance) {
      case Distance::SquaredEuclidean:
        return sweep<Distance::SquaredEuclidean>(options_.margin, in, out, sample);
      case Distance::Cosine:
        return sweep<Distance::Cosine>(options_.margin, in, out, sample);
      case Distance::Euclidean:
        break;
    }
    return sweep<Distance::Euclidean>(options_.margin, in, out, sample);
  }

  ContrastiveOptions options_;
};

}  // namespace lossfn
