/// @file
/// Distances between row i of a and row i of b (Distance: Euclidean, squared
/// Euclidean, cosine), measured by the per-row statistics kernel, and the writing
/// of their gradients: for the losses of pairs of embeddings (Contrastive, later
/// the cosine embedding and triplet losses).
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "../options.hpp"
#include "accumulate.hpp"
#include "driver.hpp"
#include "row_statistics.hpp"

namespace lossfn {
namespace detail {

/// The row sums a distance is measured from (see row_statistics.hpp).
template <Distance Dist>
struct DistanceSums {  // Euclidean and squared Euclidean: |a - b|^2
  static constexpr std::size_t count = 1;
  static constexpr std::array<bool, count> negative_terms{{false}};
  template <std::size_t I, class A, class B>
  static auto term(const A& a, const B& b) {
    return (a - b).square();
  }
};

template <>
struct DistanceSums<Distance::Cosine> {  // |a|^2, |b|^2, a.b
  static constexpr std::size_t count = 3;
  static constexpr std::array<bool, count> negative_terms{{false, false, true}};
  template <std::size_t I, class A, class B>
  static auto term(const A& a, const B& b) {
    if constexpr (I == 0) {
      return a.square();
    } else if constexpr (I == 1) {
      return b.square();
    } else {
      return a * b;
    }
  }
};

/// The distances D of a block's rows, and for cosine what its gradient needs: cos and
/// the inverse norms (0 for a zero row).
template <class Acc, int N>
struct RowDistances {
  RowBuffer<Acc, N> D, cos, inv_a, inv_b;
};

/// D from the row sums. Cosine: a zero row has inverse norm 0, so cos = 0, D = 1 and
/// its gradient is 0 (`== 0` rather than `> 0`, so that a NaN propagates).
template <Distance Dist, class Acc, int N, class Stats>
void measure(RowDistances<Acc, N>& out, const Stats& sums) {
  if constexpr (Dist == Distance::Cosine) {
    const auto& aa = sums[0];
    const auto& bb = sums[1];
    out.inv_a = (aa == Acc(0)).select(Acc(0), aa.sqrt().inverse());
    out.inv_b = (bb == Acc(0)).select(Acc(0), bb.sqrt().inverse());
    // (a.b / |a|) / |b|: each factor stays within range even for tiny or huge norms
    out.cos = sums[2] * out.inv_a * out.inv_b;
    out.D = Acc(1) - out.cos;
  } else if constexpr (Dist == Distance::Euclidean) {
    out.D = sums[0].sqrt();
  } else {
    out.D = sums[0];
  }
}

/// The distances of every row of a and b (views of one shape), a block of rows at a
/// time: on_rows(r0, n, distances) for rows [r0, r0 + n), while the block is in cache.
template <Distance Dist, class OnRows, class A, class B>
void sweep_distances(OnRows&& on_rows, const A& a, const B& b) {
  using Acc = accumulator_t<typename A::Scalar>;
  constexpr int kRows = max_rows_per_block<A::IsRowMajor>;
  RowDistances<Acc, kRows> distances;
  sweep_row_statistics<DistanceSums<Dist>>(
      [&](Eigen::Index r0, Eigen::Index n, const auto& sums) {
        measure<Dist>(distances, sums);
        on_rows(r0, n, static_cast<const RowDistances<Acc, kRows>&>(distances));
      },
      a, b);
}

/// Euclidean and squared Euclidean: dD/da = c (a - b) = -dD/db per row, with
/// c = 1/D (Euclidean; at D = 0, a = b, the subgradient 0 is taken) or 2 (squared,
/// smooth). Returns t c, the factor of (a - b) in t dD/da for a per-row t.
template <Distance Dist, class Acc, int N>
RowBuffer<Acc, N> difference_factor(const RowDistances<Acc, N>& distances, const RowBuffer<Acc, N>& t) {
  static_assert(Dist != Distance::Cosine, "lossfn internal: the cosine gradient is not along a - b");
  if constexpr (Dist == Distance::Euclidean) {
    return (distances.D == Acc(0)).select(Acc(0), t / distances.D);
  } else {
    return Acc(2) * t;
  }
}

/// out_a = k (a - b) and out_b = -out_a for a block's rows (k per row). k may exceed
/// the inputs' float range (a dissimilar pair at D ~ 1e-45 has (M - D)/D ~ 1e49): then
/// the products are formed in k's type; otherwise k is rounded to the inputs' type
/// and the block is written in it.
template <bool RowMajor, class OA, class OB, class A, class B, class K>
void write_difference_gradients(OA& out_a, OB& out_b, const A& a, const B& b, const K& k) {
  using S = typename A::Scalar;
  using Acc = typename K::Scalar;
  auto write = [&](const auto& factor) {
    using T = typename std::decay_t<decltype(factor)>::Scalar;
    apply_per_entry<RowMajor>(a.rows(), a.cols(), [&](auto slice, auto per_row) {
      const auto diff = slice(a).template cast<T>() - slice(b).template cast<T>();
      slice(out_a) = (per_row(factor) * diff).template cast<S>();
      slice(out_b) = (-per_row(factor) * diff).template cast<S>();
    });
  };
  if (std::is_same<S, Acc>::value || k.abs().maxCoeff() <= static_cast<Acc>(std::numeric_limits<S>::max())) {
    const RowBuffer<S, K::MaxRowsAtCompileTime> k_s = k.template cast<S>();
    write(k_s);
  } else {
    write(k);
  }
}

/// Cosine: out_a = t dD/da, out_b = t dD/db for a per-row t, where
/// dD/da = -(b/(|a||b|) - cos a/|a|^2) and likewise for b: out_a = p a + q b,
/// out_b = q a + r b. The factors stay in the accumulation type (for a float row of
/// norm 1e-20, 1/|a|^2 overflows a float while p a itself does not).
template <bool RowMajor, class OA, class OB, class A, class B, class Acc, int N>
void write_cosine_gradients(OA& out_a, OB& out_b, const A& a, const B& b, const RowDistances<Acc, N>& distances,
                            const RowBuffer<Acc, N>& t) {
  using S = typename A::Scalar;
  const RowBuffer<Acc, N> p = t * distances.cos * distances.inv_a * distances.inv_a;
  const RowBuffer<Acc, N> q = -t * distances.inv_a * distances.inv_b;
  const RowBuffer<Acc, N> r = t * distances.cos * distances.inv_b * distances.inv_b;
  apply_per_entry<RowMajor>(a.rows(), a.cols(), [&](auto slice, auto per_row) {
    const auto a_s = slice(a).template cast<Acc>();
    const auto b_s = slice(b).template cast<Acc>();
    slice(out_a) = (per_row(p) * a_s + per_row(q) * b_s).template cast<S>();
    slice(out_b) = (per_row(q) * a_s + per_row(r) * b_s).template cast<S>();
  });
}

/// v in the output scalar type S, clamped to S's finite range (a NaN stays NaN): a
/// Hessian entry of a float pair can exceed the float range (1/|a|^2 of a row of norm
/// 1e-20, M/D at a denormal distance) while the same pair in double is finite.
template <class S, class V>
auto finite_as(const V& v) {
  using Acc = typename V::Scalar;
  // max and min with the array first keep its NaN (as detail::zero_or_nan relies on)
  return v.max(static_cast<Acc>(std::numeric_limits<S>::lowest()))
      .min(static_cast<Acc>(std::numeric_limits<S>::max()))
      .template cast<S>();
}

/// Euclidean and squared Euclidean: the diagonals of d^2l/da^2 and d^2l/db^2 for a
/// block's rows, equal for a and b (l depends on a - b only), written as
///   out_a = out_b = c0 + c1 (s (a - b))^2   per entry, c0, c1 and s per row,
/// from d^2l/da_k^2 = l''(D) (dD/da_k)^2 + l'(D) d^2D/da_k^2 (contrastive.hpp derives
/// c0, c1, s). Formed in the accumulation type and rounded once (finite_as).
template <bool RowMajor, class OA, class OB, class A, class B, class Acc, int N>
void write_difference_hessians(OA& out_a, OB& out_b, const A& a, const B& b, const RowBuffer<Acc, N>& c0,
                               const RowBuffer<Acc, N>& c1, const RowBuffer<Acc, N>& s) {
  using S = typename A::Scalar;
  apply_per_entry<RowMajor>(a.rows(), a.cols(), [&](auto slice, auto per_row) {
    const auto r = per_row(s) * (slice(a).template cast<Acc>() - slice(b).template cast<Acc>());
    slice(out_a) = finite_as<S>(per_row(c0) + per_row(c1) * r.square());
    slice(out_b) = slice(out_a);
  });
}

/// Cosine: the diagonals of d^2l/da^2 and d^2l/db^2 for a block's rows, with
/// l1 = t dl/dD and l2 = t d^2l/dD^2 per row (t the row's weight). With
/// u = a/|a|, v = b/|b| (0 for a zero row) and c = cos:
///   dD/da_k = (c u_k - v_k)/|a|,  d^2D/da_k^2 = (c - 3 c u_k^2 + 2 u_k v_k)/|a|^2
/// (the diagonal of -d^2cos/da^2), and the same for b with u and v (|a| and |b|)
/// swapped; out_a = l2 (dD/da_k)^2 + l1 d^2D/da_k^2. A zero row has inverse norm 0,
/// so both rows' entries are 0, as their gradients. In the accumulation type.
template <bool RowMajor, class OA, class OB, class A, class B, class Acc, int N>
void write_cosine_hessians(OA& out_a, OB& out_b, const A& a, const B& b, const RowDistances<Acc, N>& distances,
                           const RowBuffer<Acc, N>& l1, const RowBuffer<Acc, N>& l2) {
  using S = typename A::Scalar;
  const RowBuffer<Acc, N> inv_a2 = distances.inv_a.square();
  const RowBuffer<Acc, N> inv_b2 = distances.inv_b.square();
  const RowBuffer<Acc, N>& c = distances.cos;
  apply_per_entry<RowMajor>(a.rows(), a.cols(), [&](auto slice, auto per_row) {
    const auto u = per_row(distances.inv_a) * slice(a).template cast<Acc>();
    const auto v = per_row(distances.inv_b) * slice(b).template cast<Acc>();
    const auto uv = Acc(2) * u * v;
    slice(out_a) = finite_as<S>(per_row(inv_a2) * (per_row(l2) * (per_row(c) * u - v).square() +
                                                   per_row(l1) * (per_row(c) - Acc(3) * per_row(c) * u.square() + uv)));
    slice(out_b) = finite_as<S>(per_row(inv_b2) * (per_row(l2) * (per_row(c) * v - u).square() +
                                                   per_row(l1) * (per_row(c) - Acc(3) * per_row(c) * v.square() + uv)));
  });
}

/// What the kernel program of a pair loss (Contrastive) reads. weight is the factor of every row's gradient: the
/// reduction's scale (an Acc: 1 for Sum, 1/m for Mean) or the upstream column (None).
template <class X1, class X2, class Y, class W>
struct RowInputs {
  X1 x1;     ///< m x d
  X2 x2;     ///< m x d
  Y row;     ///< m x 1, the per-row operand (labels)
  W weight;  ///< an Acc or an m x 1 column view
};

/// What the kernel program of a pair loss writes, each a view or Skip (driver.hpp): the per-row terms (None's
/// forward), then one gradient per differentiated input, then one Hessian diagonal per differentiated input.
template <class L, class G1, class G2, class H1 = Skip, class H2 = Skip>
struct RowOutputs {
  L terms;  ///< m x 1
  G1 dx1;   ///< m x d, dL/dx1
  G2 dx2;   ///< m x d, dL/dx2
  H1 h1{};  ///< m x d, the diagonal of d^2L/dx1^2
  H2 h2{};  ///< m x d, the diagonal of d^2L/dx2^2
};

}  // namespace detail
}  // namespace lossfn
