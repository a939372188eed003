// The row kernels below Contrastive (include/lossfn/detail/row_statistics.hpp and
// row_distance.hpp), against naive double references: the per-row statistics
// (K row sums, one of them with terms of both signs) and the per-entry apply, the
// row distances and their gradients. Both storage orders; Array, Block and Map
// inputs (plain and strided); float and double; row counts that cross the block
// sizes (64 rows row-major, 512 column-major) with a tail, and rows that cross the
// float piece of 256 columns.
#include <lossfn/detail/row_distance.hpp>
#include <lossfn/detail/row_statistics.hpp>
#include <lossfn/detail/view.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include "catch.hpp"

namespace {

using lossfn::Distance;
using lossfn::detail::accumulator_t;
using lossfn::detail::ordered_mut_view_of;
using lossfn::detail::ordered_view_of;

template <class S, int Order>
using Plain = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Order>;
using Reference = Eigen::ArrayXXd;

template <class P>
P random_plain(Eigen::Index m, Eigen::Index d, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  P x(m, d);
  for (Eigen::Index i = 0; i < m; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) x(i, j) = static_cast<typename P::Scalar>(uniform(engine));
  }
  return x;
}

/// Three row sums: sum a (either sign), sum b^2 (>= 0), sum a b (either sign).
struct ThreeSums {
  static constexpr std::size_t count = 3;
  static constexpr std::array<bool, count> negative_terms{{true, false, true}};
  template <std::size_t I, class A, class B>
  static auto term(const A& a, const B& b) {
    if constexpr (I == 0) {
      (void)b;
      return a;
    } else if constexpr (I == 1) {
      return b.square();
    } else {
      return a * b;
    }
  }
};

/// Row r of x in double.
template <class X>
Eigen::ArrayXd row_of(const X& x, Eigen::Index r) {
  Eigen::ArrayXd v(x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) v(j) = static_cast<double>(x(r, j));
  return v;
}

double tolerance_for(bool is_float) { return is_float ? 1e-5 : 1e-13; }

/// Runs the statistics kernel over views a and b (of any kind): the sums of each row
/// against the naive ones (relative to the sum of |terms|), every row visited once,
/// and the per-entry apply writing out_ij = sum0_i a_ij + sum1_i.
template <class A, class B>
void check_statistics(const A& a, const B& b) {
  using S = typename A::Scalar;
  using Acc = accumulator_t<S>;
  const Eigen::Index m = a.rows(), d = a.cols();
  CAPTURE(m, d, A::IsRowMajor, B::IsRowMajor, sizeof(S));
  const auto va = ordered_view_of(a);
  const auto vb = ordered_view_of(b);
  Eigen::Array<Acc, Eigen::Dynamic, 3> sums(m, 3);
  Plain<S, A::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor> out(m, d);
  auto vout = ordered_mut_view_of(out);
  std::vector<int> visits(static_cast<std::size_t>(m), 0);
  Eigen::Index next = 0;
  lossfn::detail::sweep_row_statistics<ThreeSums>(
      [&](Eigen::Index r0, Eigen::Index n, const auto& block_sums) {
        CHECK(r0 == next);
        CHECK(n >= 1);
        CHECK(n <= lossfn::detail::max_rows_per_block<A::IsRowMajor>);
        next = r0 + n;
        for (Eigen::Index i = 0; i < n; ++i) {
          ++visits[static_cast<std::size_t>(r0 + i)];
          for (std::size_t k = 0; k < 3; ++k) sums(r0 + i, static_cast<Eigen::Index>(k)) = block_sums[k](i);
        }
        const auto rows_a = va.middleRows(r0, n);
        auto rows_out = vout.middleRows(r0, n);
        const Eigen::Array<S, Eigen::Dynamic, 1> s0 = block_sums[0].template cast<S>();
        const Eigen::Array<S, Eigen::Dynamic, 1> s1 = block_sums[1].template cast<S>();
        lossfn::detail::apply_per_entry<A::IsRowMajor>(
            n, d, [&](auto slice, auto per_row) { slice(rows_out) = per_row(s0) * slice(rows_a) + per_row(s1); });
      },
      va, vb);
  CHECK(next == m);
  for (const int v : visits) CHECK(v == 1);
  const double tol = tolerance_for(sizeof(S) < sizeof(double));
  for (Eigen::Index i = 0; i < m; ++i) {
    const Eigen::ArrayXd ra = row_of(a, i), rb = row_of(b, i);
    const double naive[3] = {ra.sum(), rb.square().sum(), (ra * rb).sum()};
    const double scale[3] = {ra.abs().sum(), rb.square().sum(), (ra * rb).abs().sum()};
    for (Eigen::Index k = 0; k < 3; ++k) {
      CHECK(std::abs(static_cast<double>(sums(i, k)) - naive[k]) <= tol * (scale[k] + 1e-300));
    }
    for (Eigen::Index j = 0; j < d; ++j) {
      const double expected =
          static_cast<double>(static_cast<S>(sums(i, 0))) * ra(j) + static_cast<double>(static_cast<S>(sums(i, 1)));
      CHECK(std::abs(static_cast<double>(out(i, j)) - expected) <= 4 * tol * (std::abs(expected) + 1));
    }
  }
}

/// D and dD/da, dD/db of every row in double, naively.
struct NaiveDistance {
  Eigen::ArrayXd D;
  Reference da, db;
};

template <class A, class B>
NaiveDistance naive_distance(Distance dist, const A& a, const B& b) {
  const Eigen::Index m = a.rows(), d = a.cols();
  NaiveDistance r{Eigen::ArrayXd(m), Reference(m, d), Reference(m, d)};
  for (Eigen::Index i = 0; i < m; ++i) {
    const Eigen::ArrayXd u = row_of(a, i), v = row_of(b, i);
    if (dist == Distance::Cosine) {
      const double nu = std::sqrt(u.square().sum()), nv = std::sqrt(v.square().sum());
      if (nu == 0 || nv == 0) {
        r.D(i) = 1;
        r.da.row(i).setZero();
        r.db.row(i).setZero();
      } else {
        const double c = (u * v).sum() / (nu * nv);
        r.D(i) = 1 - c;
        r.da.row(i) = -(v / (nu * nv) - c * u / (nu * nu)).transpose();
        r.db.row(i) = -(u / (nu * nv) - c * v / (nv * nv)).transpose();
      }
    } else {
      const double s = (u - v).square().sum();
      const bool squared = dist == Distance::SquaredEuclidean;
      r.D(i) = squared ? s : std::sqrt(s);
      const double c = squared ? 2.0 : (s == 0 ? 0.0 : 1.0 / std::sqrt(s));
      r.da.row(i) = (c * (u - v)).transpose();
      r.db.row(i) = -r.da.row(i);
    }
  }
  return r;
}

/// The distances and their gradients (with a per-row outer factor t_i = 1 + i % 3)
/// of the kernel against the naive ones.
template <Distance Dist, class A, class B>
void check_distance(const A& a, const B& b) {
  using S = typename A::Scalar;
  using Acc = accumulator_t<S>;
  constexpr int kRows = lossfn::detail::max_rows_per_block<A::IsRowMajor>;
  using Buf = lossfn::detail::RowBuffer<Acc, kRows>;
  const Eigen::Index m = a.rows(), d = a.cols();
  CAPTURE(static_cast<int>(Dist), m, d, A::IsRowMajor, B::IsRowMajor, sizeof(S));
  const auto va = ordered_view_of(a);
  const auto vb = ordered_view_of(b);
  Eigen::ArrayXd D(m);
  Plain<S, Eigen::ColMajor> ga(m, d);
  Plain<S, Eigen::RowMajor> gb(m, d);  // outputs of either order
  auto vga = ordered_mut_view_of(ga);
  auto vgb = ordered_mut_view_of(gb);
  lossfn::detail::sweep_distances<Dist>(
      [&](Eigen::Index r0, Eigen::Index n, const lossfn::detail::RowDistances<Acc, kRows>& distances) {
        for (Eigen::Index i = 0; i < n; ++i) D(r0 + i) = static_cast<double>(distances.D(i));
        Buf t(n);
        for (Eigen::Index i = 0; i < n; ++i) t(i) = Acc(1 + (r0 + i) % 3);
        auto out_a = vga.middleRows(r0, n);
        auto out_b = vgb.middleRows(r0, n);
        const auto rows_a = va.middleRows(r0, n);
        const auto rows_b = vb.middleRows(r0, n);
        if constexpr (Dist == Distance::Cosine) {
          lossfn::detail::write_cosine_gradients<A::IsRowMajor>(out_a, out_b, rows_a, rows_b, distances, t);
        } else {
          const Buf k = lossfn::detail::difference_factor<Dist>(distances, t);
          lossfn::detail::write_difference_gradients<A::IsRowMajor>(out_a, out_b, rows_a, rows_b, k);
        }
      },
      va, vb);
  const NaiveDistance naive = naive_distance(Dist, a, b);
  const double tol = tolerance_for(sizeof(S) < sizeof(double));
  for (Eigen::Index i = 0; i < m; ++i) {
    CHECK(std::abs(D(i) - naive.D(i)) <= 4 * tol * (std::abs(naive.D(i)) + 1));
    const double t = static_cast<double>(1 + i % 3);
    const double size = naive.da.row(i).abs().maxCoeff() + naive.db.row(i).abs().maxCoeff() + 1;
    for (Eigen::Index j = 0; j < d; ++j) {
      CHECK(std::abs(static_cast<double>(ga(i, j)) - t * naive.da(i, j)) <= 8 * tol * t * size);
      CHECK(std::abs(static_cast<double>(gb(i, j)) - t * naive.db(i, j)) <= 8 * tol * t * size);
    }
  }
}

template <class A, class B>
void check_all_distances(const A& a, const B& b) {
  check_statistics(a, b);
  check_distance<Distance::Euclidean>(a, b);
  check_distance<Distance::SquaredEuclidean>(a, b);
  check_distance<Distance::Cosine>(a, b);
}

/// Shapes: one row, rows across the block sizes with a tail, rows across the float piece.
constexpr std::array<std::array<Eigen::Index, 2>, 7> kShapes{
    {{{1, 1}}, {{1, 5}}, {{63, 7}}, {{130, 3}}, {{1030, 4}}, {{70, 300}}, {{0, 3}}}};

template <class S, int OrderA, int OrderB>
void check_plain_inputs() {
  unsigned seed = 1;
  for (const auto& shape : kShapes) {
    const auto a = random_plain<Plain<S, OrderA>>(shape[0], shape[1], seed++);
    const auto b = random_plain<Plain<S, OrderB>>(shape[0], shape[1], seed++);
    check_all_distances(a, b);
  }
}

}  // namespace

TEST_CASE("row kernels: Array inputs of both storage orders, float and double") {
  check_plain_inputs<double, Eigen::ColMajor, Eigen::ColMajor>();
  check_plain_inputs<double, Eigen::RowMajor, Eigen::RowMajor>();
  check_plain_inputs<float, Eigen::ColMajor, Eigen::ColMajor>();
  check_plain_inputs<float, Eigen::RowMajor, Eigen::RowMajor>();
  check_plain_inputs<double, Eigen::RowMajor, Eigen::ColMajor>();  // mixed: x1's order leads
}

TEST_CASE("row kernels: Block and Map inputs (outer and inner strides)") {
  const Eigen::Index m = 600, d = 5;
  const auto big_a = random_plain<Plain<double, Eigen::RowMajor>>(m + 3, d + 4, 11);
  const auto big_b = random_plain<Plain<double, Eigen::ColMajor>>(m + 2, d + 1, 12);
  check_all_distances(big_a.block(2, 3, m, d), big_b.block(1, 1, m, d));
  // a column-major Map over every other column of a wider array (outer stride), and a
  // Map with an inner stride of 2 (every other row)
  const auto wide = random_plain<Plain<float, Eigen::ColMajor>>(m, 2 * d, 13);
  const Eigen::Map<const Plain<float, Eigen::ColMajor>, 0, Eigen::OuterStride<>> every_other(
      wide.data(), m, d, Eigen::OuterStride<>(2 * m));
  const auto tall = random_plain<Plain<float, Eigen::ColMajor>>(2 * m, d, 14);
  const Eigen::Map<const Plain<float, Eigen::ColMajor>, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> strided(
      tall.data(), m, d, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(2 * m, 2));
  check_all_distances(every_other, strided);
}

TEST_CASE("row kernels: distances at the edges") {
  SECTION("a = b: D = 0 and the Euclidean subgradient 0; a zero row: cosine D = 1, gradient 0") {
    Plain<double, Eigen::ColMajor> a(3, 2), b(3, 2);
    a << 1, 2, 0, 0, 3, -1;
    b << 1, 2, 4, 5, 0, 0;
    check_all_distances(a, b);
  }
  SECTION("float rows whose squares overflow or underflow a float are measured in double, either order") {
    // per row, a term beyond the float range: squares of 3e19 (> FLT_MAX), of 1e-25
    // (< FLT_MIN, and in the first piece of 256 columns or the second), and a NaN-free
    // row of ordinary values; the reference is the same rows in double
    const Eigen::Index m = 5, d = 300;
    Plain<float, Eigen::RowMajor> a = Plain<float, Eigen::RowMajor>::Zero(m, d);
    Plain<float, Eigen::RowMajor> b = Plain<float, Eigen::RowMajor>::Zero(m, d);
    a(0, 0) = 3e19f;
    b(0, 1) = 2e19f;
    a(1, 0) = 1e-25f;
    a(1, 1) = 2e-25f;
    b(1, 0) = 2e-25f;
    b(1, 1) = 1e-25f;
    a(2, 280) = 3e19f;
    b(2, 290) = 1e-25f;
    a(2, 3) = 1.0f;
    b(2, 3) = 0.5f;
    a(3, 270) = 1e-25f;
    b(3, 271) = 3e-25f;
    a(4, 0) = 0.25f;
    b(4, 299) = -0.75f;
    const Plain<float, Eigen::ColMajor> a_col = a, b_col = b;
    // (not check_statistics: its apply check forms sum * a in float, which overflows here)
    check_distance<Distance::Euclidean>(a, b);
    check_distance<Distance::SquaredEuclidean>(a, b);
    check_distance<Distance::Cosine>(a, b);
    check_distance<Distance::Euclidean>(a_col, b_col);
    check_distance<Distance::SquaredEuclidean>(a_col, b_col);
    check_distance<Distance::Cosine>(a_col, b_col);
    for (Eigen::Index i = 0; i < m; ++i) {
      CAPTURE(i);
      const Eigen::ArrayXd diff = row_of(a, i) - row_of(b, i);
      Eigen::ArrayXd D_row(1), D_col(1);
      auto euclidean_of = [&](const auto& x, const auto& y, Eigen::ArrayXd& D) {
        lossfn::detail::sweep_distances<Distance::Euclidean>(
            [&](Eigen::Index, Eigen::Index, const auto& distances) { D(0) = static_cast<double>(distances.D(0)); },
            ordered_view_of(x.middleRows(i, 1)), ordered_view_of(y.middleRows(i, 1)));
      };
      euclidean_of(a, b, D_row);
      euclidean_of(a_col, b_col, D_col);
      const double reference = std::sqrt(diff.square().sum());
      CHECK(D_row(0) == Approx(reference).epsilon(1e-6));
      CHECK(D_col(0) == Approx(reference).epsilon(1e-6));
    }
  }
  SECTION("a float factor beyond the float range forms the products in double") {
    // k = 1e40 does not fit a float, k (a - b) = 1e40 x 1e-39 = 10 does
    Plain<float, Eigen::RowMajor> a(2, 2), b(2, 2), ga(2, 2), gb(2, 2);
    a << 1e-39f, 0.0f, 1.0f, 2.0f;
    b.setZero();
    lossfn::detail::RowBuffer<double, 64> k(2);
    k << 1e40, 1.0;
    auto out_a = ordered_mut_view_of(ga);
    auto out_b = ordered_mut_view_of(gb);
    lossfn::detail::write_difference_gradients<true>(out_a, out_b, ordered_view_of(a), ordered_view_of(b), k);
    CHECK(ga.allFinite());
    CHECK(static_cast<double>(ga(0, 0)) == Approx(1e40 * static_cast<double>(1e-39f)).epsilon(1e-6));
    CHECK(gb(0, 0) == -ga(0, 0));
    CHECK(ga(1, 1) == 2.0f);
  }
}
