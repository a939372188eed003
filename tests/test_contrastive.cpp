// Contrastive: the math against hand computations and a per-row reference written
// from the formula, gradients of both inputs against finite differences, the
// properties the issue lists, the conventions at the non-differentiable points,
// errors, and the absence of heap allocation in the fused pass.

// Eigen's documented switch for catching heap allocations; its assertion is turned
// into an exception here so that it also fires under NDEBUG and fails one test only.
#define EIGEN_RUNTIME_NO_MALLOC
#include <stdexcept>
#define eigen_assert(x) ((x) ? static_cast<void>(0) : throw std::logic_error("Eigen assertion failed: " #x))

#include <lossfn/contrastive.hpp>
#include <lossfn/lossfn.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "conformance.hpp"
#include "edge_values.hpp"
#include "gradient_check.hpp"

namespace {

using lossfn::Distance;
using lossfn_test::gradient_error;
using lossfn_test::kGradientTolerance;
using lossfn_test::max_error;
using lossfn_test::random_array;

using ArrayCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Column = Eigen::ArrayXd;

const std::array<Distance, 3> kDistances = {Distance::Euclidean, Distance::SquaredEuclidean, Distance::Cosine};

const char* distance_name(Distance d) {
  switch (d) {
    case Distance::Euclidean:
      return "Euclidean";
    case Distance::SquaredEuclidean:
      return "SquaredEuclidean";
    case Distance::Cosine:
      return "Cosine";
  }
  return "?";
}

/// Contrastive in the conformance registry (support/conformance.hpp).
struct ContrastiveEntry {
  static constexpr const char* name = "Contrastive";
  static constexpr lossfn_test::CallShape shape = lossfn_test::CallShape::Pair;
  using Options = lossfn::ContrastiveOptions;
  static std::vector<lossfn_test::Variant<Options>> variants(Eigen::Index) {
    return {{"Euclidean", {1.0, Distance::Euclidean}},
            {"SquaredEuclidean", {1.0, Distance::SquaredEuclidean}},
            {"Cosine", {1.0, Distance::Cosine}},
            {"Cosine, margin 0.8", {0.8, Distance::Cosine}}};
  }
  template <class R>
  static lossfn::Contrastive<R> make(R, const Options& options) {
    return lossfn::Contrastive<R>(options);
  }
  template <class Plain>
  static lossfn_test::Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed,
                                               lossfn_test::TargetForm) {
    return lossfn_test::pair_operands<Plain>(rows, cols, seed);
  }
};

// ---- an independent reference, written from the formulas ----------------

/// D between row i of x1 and row i of x2, by plain loops in long double.
template <class A, class B>
long double reference_distance(Distance distance, const A& x1, const B& x2, Eigen::Index i) {
  long double s = 0, aa = 0, bb = 0, ab = 0;
  for (Eigen::Index j = 0; j < x1.cols(); ++j) {
    const long double a = x1(i, j), b = x2(i, j);
    s += (a - b) * (a - b);
    aa += a * a;
    bb += b * b;
    ab += a * b;
  }
  switch (distance) {
    case Distance::Euclidean:
      return std::sqrt(s);
    case Distance::SquaredEuclidean:
      return s;
    case Distance::Cosine:
      return (aa == 0 || bb == 0) ? 1.0L : 1.0L - ab / std::sqrt(aa * bb);
  }
  return 0;
}

/// (1 - Y) 1/2 D^2 + Y 1/2 max(0, M - D)^2
long double reference_term(long double D, double label, double margin) {
  const long double hinge = std::max(0.0L, static_cast<long double>(margin) - D);
  return label == 0 ? 0.5L * D * D : 0.5L * hinge * hinge;
}

template <class A, class B>
Column reference_terms(Distance distance, double margin, const A& x1, const B& x2, const Column& y) {
  Column out(x1.rows());
  for (Eigen::Index i = 0; i < x1.rows(); ++i)
    out(i) = static_cast<double>(reference_term(reference_distance(distance, x1, x2, i), y(i), margin));
  return out;
}

template <class A, class B>
std::vector<double> distances(Distance distance, const A& x1, const B& x2) {
  std::vector<double> out;
  for (Eigen::Index i = 0; i < x1.rows(); ++i)
    out.push_back(static_cast<double>(reference_distance(distance, x1, x2, i)));
  return out;
}

/// Labels of a pattern: 0 all similar, 1 all dissimilar, 2 alternating (mixed).
Column make_labels(Eigen::Index m, int pattern) {
  Column y(m);
  for (Eigen::Index i = 0; i < m; ++i) y(i) = pattern == 2 ? static_cast<double>(i % 2) : pattern;
  return y;
}

/// Random pairs whose distances keep away from the points where the loss is not
/// twice differentiable (D = M) or the distance is not differentiable (D = 0 for
/// Euclidean, a zero row for Cosine), so that central differences see a smooth function.
template <class Plain>
std::pair<Plain, Plain> smooth_pairs(Distance distance, double margin, Eigen::Index m, Eigen::Index d, unsigned seed) {
  Plain x1 = random_array<Plain>(m, d, seed, -1, 1);
  Plain x2 = random_array<Plain>(m, d, seed + 500, -1, 1);
  for (Eigen::Index i = 0; i < m; ++i) {
    for (int tries = 0; tries < 100; ++tries) {
      const double D = static_cast<double>(reference_distance(distance, x1, x2, i));
      const bool near_kink = std::abs(D - margin) < 1e-3 || D < 1e-2 || x1.row(i).matrix().norm() < 1e-2 ||
                             x2.row(i).matrix().norm() < 1e-2;
      if (!near_kink) break;
      x1.row(i) += 0.0731;
    }
  }
  return {x1, x2};
}

/// The margins of the battery: below every distance (no dissimilar pair is active),
/// the median distance (both sides of the hinge), above every distance (all active).
std::vector<double> battery_margins(std::vector<double> D) {
  std::sort(D.begin(), D.end());
  return {0.5 * D.front(), D[D.size() / 2] + 1e-2, 2.0 * D.back() + 0.1};
}

// ---- the finite-difference battery ------------------------------------------------

/// Hessian diagonals of both inputs, every reduction, against central differences of
/// backward (Sum, Mean, None with a random upstream); the reduction identities; and
/// forward_backward_hessian equal to forward, backward and hessian_diagonal.
template <class P1, class P2>
void check_all_hessians(Distance distance, double margin, const P1& x1, const P2& x2, const Column& y) {
  const std::string label = std::string("Contrastive ") + distance_name(distance);
  const lossfn::Contrastive<lossfn::Sum> sum(margin, distance);
  const lossfn::Contrastive<lossfn::Mean> mean(margin, distance);
  const lossfn::Contrastive<lossfn::None> none(margin, distance);
  const double m = static_cast<double>(x1.rows());
  using lossfn_test::hessian_error;

  const auto [s1, s2] = sum.hessian_diagonal(x1, x2, y);
  CHECK(hessian_error(
            label, [&](const P1& p) { return sum.backward(p, x2, y).dx1; }, x1, s1) < kGradientTolerance);
  CHECK(hessian_error(
            label, [&](const P2& p) { return sum.backward(x1, p, y).dx2; }, x2, s2) < kGradientTolerance);
  const auto [m1, m2] = mean.hessian_diagonal(x1, x2, y);
  CHECK(hessian_error(
            label, [&](const P1& p) { return mean.backward(p, x2, y).dx1; }, x1, m1) < kGradientTolerance);
  CHECK(hessian_error(
            label, [&](const P2& p) { return mean.backward(x1, p, y).dx2; }, x2, m2) < kGradientTolerance);
  const Column upstream = random_array<Column>(x1.rows(), 1, 78, -2, 2);
  const auto [n1, n2] = none.hessian_diagonal(x1, x2, y, upstream);
  CHECK(hessian_error(
            label, [&](const P1& p) { return none.backward(p, x2, y, upstream).dx1; }, x1, n1) < kGradientTolerance);
  CHECK(hessian_error(
            label, [&](const P2& p) { return none.backward(x1, p, y, upstream).dx2; }, x2, n2) < kGradientTolerance);

  // Sum = m Mean; None with upstream 1 = Sum; None is linear in the upstream
  CHECK(max_error(s1, m * m1) < 1e-14);
  CHECK(max_error(s2, m * m2) < 1e-14);
  const auto [o1, o2] = none.hessian_diagonal(x1, x2, y, Column::Ones(x1.rows()));
  CHECK(max_error(o1, s1) == 0);
  CHECK(max_error(o2, s2) == 0);
  const auto [t1, t2] = none.hessian_diagonal(x1, x2, y, Column(-3.0 * upstream));
  CHECK(max_error(t1, -3.0 * n1) < 1e-14);
  CHECK(max_error(t2, -3.0 * n2) < 1e-14);

  // the fused pass writes exactly what the separate calls return
  P1 g1(x1.rows(), x1.cols()), g2(x1.rows(), x1.cols());
  P2 h1, h2;  // resized by the call (the other storage order when P1 and P2 differ)
  for (int reduction = 0; reduction < 2; ++reduction) {
    const double value = reduction == 0 ? sum.forward_backward_hessian(x1, x2, y, g1, g2, h1, h2)
                                        : mean.forward_backward_hessian(x1, x2, y, g1, g2, h1, h2);
    const double expected = reduction == 0 ? sum.forward(x1, x2, y) : mean.forward(x1, x2, y);
    const auto grads = reduction == 0 ? sum.backward(x1, x2, y) : mean.backward(x1, x2, y);
    const auto& e1 = reduction == 0 ? s1 : m1;
    const auto& e2 = reduction == 0 ? s2 : m2;
    CHECK(value == Approx(expected).epsilon(1e-15));
    CHECK(max_error(g1, grads.dx1) == 0);
    CHECK(max_error(g2, grads.dx2) == 0);
    CHECK(h1.rows() == x1.rows());
    CHECK(h1.cols() == x1.cols());
    CHECK(max_error(h1, e1) == 0);
    CHECK(max_error(h2, e2) == 0);
  }
}

/// Gradients of both inputs, every reduction, one distance/margin/label set, at one
/// pair of storage orders; plus the reduction identities and the Hessian diagonals.
template <class P1, class P2>
void check_all_gradients(Distance distance, double margin, const P1& x1, const P2& x2, const Column& y) {
  const std::string label = "Contrastive";
  CAPTURE(distance_name(distance), margin, x1.rows(), x1.cols(), P1::IsRowMajor, P2::IsRowMajor, y.transpose());
  const lossfn::Contrastive<lossfn::Sum> sum(margin, distance);
  const lossfn::Contrastive<lossfn::Mean> mean(margin, distance);
  const lossfn::Contrastive<lossfn::None> none(margin, distance);
  const double m = static_cast<double>(x1.rows());

  // forward against the reference
  const Column reference = reference_terms(distance, margin, x1, x2, y);
  const Column terms = none.forward(x1, x2, y);
  CHECK(max_error(terms, reference) < 1e-14);
  CHECK(sum.forward(x1, x2, y) == Approx(reference.sum()).epsilon(1e-13));
  CHECK(mean.forward(x1, x2, y) == Approx(reference.sum() / m).epsilon(1e-13));

  // Sum and Mean, both inputs
  const auto [s1, s2] = sum.backward(x1, x2, y);
  CHECK(gradient_error(
            label, [&](const P1& p) { return sum.forward(p, x2, y); }, x1, s1) < kGradientTolerance);
  CHECK(gradient_error(
            label, [&](const P2& p) { return sum.forward(x1, p, y); }, x2, s2) < kGradientTolerance);
  const auto [m1, m2] = mean.backward(x1, x2, y);
  CHECK(gradient_error(
            label, [&](const P1& p) { return mean.forward(p, x2, y); }, x1, m1) < kGradientTolerance);
  CHECK(gradient_error(
            label, [&](const P2& p) { return mean.forward(x1, p, y); }, x2, m2) < kGradientTolerance);

  // None: the vector-Jacobian product of a random upstream
  const Column upstream = random_array<Column>(x1.rows(), 1, 77, -2, 2);
  const auto [n1, n2] = none.backward(x1, x2, y, upstream);
  const auto vjp1 = [&](const P1& p) { return (upstream * Column(none.forward(p, x2, y))).sum(); };
  const auto vjp2 = [&](const P2& p) { return (upstream * Column(none.forward(x1, p, y))).sum(); };
  CHECK(gradient_error(label, vjp1, x1, n1) < kGradientTolerance);
  CHECK(gradient_error(label, vjp2, x2, n2) < kGradientTolerance);

  // the identities: fused = forward + backward, Sum = m Mean, None summed = Sum
  P1 f1(x1.rows(), x1.cols()), f2(x1.rows(), x1.cols());
  CHECK(mean.forward_backward(x1, x2, y, f1, f2) == Approx(mean.forward(x1, x2, y)).epsilon(1e-15));
  CHECK(max_error(f1, m1) == 0);
  CHECK(max_error(f2, m2) == 0);
  CHECK(sum.forward_backward(x1, x2, y, f1, f2) == Approx(sum.forward(x1, x2, y)).epsilon(1e-15));
  CHECK(max_error(f1, s1) == 0);
  CHECK(max_error(f2, s2) == 0);
  CHECK(max_error(s1, m * m1) < 1e-14);
  CHECK(max_error(s2, m * m2) < 1e-14);
  CHECK(terms.sum() == Approx(sum.forward(x1, x2, y)).epsilon(1e-14));
  const auto [o1, o2] = none.backward(x1, x2, y, Column::Ones(x1.rows()));
  CHECK(max_error(o1, s1) < 1e-15);
  CHECK(max_error(o2, s2) < 1e-15);

  check_all_hessians(distance, margin, x1, x2, y);
}

}  // namespace

LOSSFN_CONFORMANCE_TEST_CASES(ContrastiveEntry)

TEST_CASE("Contrastive: hand-computed values and gradients, every distance") {
  // Two pairs in 2-D: pair 0 is a = (1, 0), b = (0, 1), similar; pair 1 is
  // a = (0, 0), b = (0.3, 0.4), dissimilar. Margin 1.
  ArrayCM x1(2, 2), x2(2, 2);
  x1 << 1.0, 0.0, 0.0, 0.0;
  x2 << 0.0, 1.0, 0.3, 0.4;
  Column y(2);
  y << 0, 1;

  SECTION("Euclidean") {
    // pair 0: D = sqrt(2), l = D^2/2 = 1, dl/dx1 = x1 - x2 = (1, -1)
    // pair 1: D = 0.5, l = (1 - 0.5)^2/2 = 0.125, dl/dx1 = -(M - D) (x1 - x2)/D = -0.5 (-0.6, -0.8) = (0.3, 0.4)
    const lossfn::Contrastive<lossfn::Sum> loss;
    CHECK(loss.forward(x1, x2, y) == Approx(1.125).epsilon(1e-15));
    const auto [g1, g2] = loss.backward(x1, x2, y);
    ArrayCM expected(2, 2);
    expected << 1.0, -1.0, 0.3, 0.4;
    CHECK(max_error(g1, expected) < 1e-15);
    CHECK(max_error(g2, -expected) < 1e-15);
    CHECK(lossfn::Contrastive<>{}.forward(x1, x2, y) == Approx(1.125 / 2).epsilon(1e-15));
  }
  SECTION("SquaredEuclidean") {
    // pair 0: D = 2, l = 2, dl/dx1 = D 2 (x1 - x2) = (4, -4)
    // pair 1: D = 0.25, l = 0.75^2/2 = 0.28125, dl/dx1 = -0.75 x 2 (-0.3, -0.4) = (0.45, 0.6)
    const lossfn::Contrastive<lossfn::Sum> loss(1.0, Distance::SquaredEuclidean);
    CHECK(loss.forward(x1, x2, y) == Approx(2.28125).epsilon(1e-15));
    const auto [g1, g2] = loss.backward(x1, x2, y);
    ArrayCM expected(2, 2);
    expected << 4.0, -4.0, 0.45, 0.6;
    CHECK(max_error(g1, expected) < 1e-15);
    CHECK(max_error(g2, -expected) < 1e-15);
  }
  SECTION("Cosine") {
    // pair 0: cos = 0, D = 1, l = 1/2; dD/da = -(b/(|a||b|) - cos a/|a|^2) = -b = (0, -1),
    //   dl/dx1 = D dD/da = (0, -1); by symmetry dl/dx2 = -a = (-1, 0)
    // pair 1: a is zero: cos := 0, D = 1 >= M = 1, l = 0, gradients 0 (the documented convention)
    const lossfn::Contrastive<lossfn::Sum> loss(1.0, Distance::Cosine);
    CHECK(loss.forward(x1, x2, y) == Approx(0.5).epsilon(1e-15));
    const auto [g1, g2] = loss.backward(x1, x2, y);
    ArrayCM e1(2, 2), e2(2, 2);
    e1 << 0.0, -1.0, 0.0, 0.0;
    e2 << -1.0, 0.0, 0.0, 0.0;
    CHECK(max_error(g1, e1) < 1e-15);
    CHECK(max_error(g2, e2) < 1e-15);
    // margin 2: pair 1 is active, l = (2 - 1)^2/2 = 0.5, still no gradient at the zero row
    const lossfn::Contrastive<lossfn::None> wide(2.0, Distance::Cosine);
    const Column terms = wide.forward(x1, x2, y);
    CHECK(terms(1) == 0.5);
  }
}

TEST_CASE("Contrastive: the dissimilar-pair derivative is -(M - D), not the notes' -D") {
  // One dissimilar pair with D = 0.5 < M = 2. Right: dl/dD = -(M - D) = -1.5, so
  // dl/dx1 = -1.5 (x1 - x2)/D = -1.5 (-0.6, -0.8) = (0.9, 1.2). The notes' -D would give
  // dl/dx1 = -0.5 (-0.6, -0.8) = (0.3, 0.4), which this test rejects.
  ArrayCM x1(1, 2), x2(1, 2);
  x1 << 0.0, 0.0;
  x2 << 0.3, 0.4;
  const Column y = Column::Ones(1);
  const lossfn::Contrastive<lossfn::Sum> loss(2.0);
  const auto [g1, g2] = loss.backward(x1, x2, y);
  CHECK(g1(0, 0) == Approx(0.9).epsilon(1e-15));
  CHECK(g1(0, 1) == Approx(1.2).epsilon(1e-15));
  CHECK(g2(0, 0) == Approx(-0.9).epsilon(1e-15));
  CHECK(std::abs(g1(0, 0) - 0.3) > 0.5);
  const auto f = [&](const ArrayCM& p) { return loss.forward(p, x2, y); };
  CHECK(gradient_error("Contrastive", f, x1, g1) < kGradientTolerance);
  // the same for the squared distance: dl/dD = -(M - D) = -(2 - 0.25), dD/dx1 = 2 (x1 - x2)
  const lossfn::Contrastive<lossfn::Sum> squared(2.0, Distance::SquaredEuclidean);
  const auto [h1, h2] = squared.backward(x1, x2, y);
  CHECK(h1(0, 0) == Approx(-1.75 * 2 * -0.3).epsilon(1e-15));
  CHECK(h2(0, 1) == Approx(1.75 * 2 * -0.4).epsilon(1e-15));
}

TEST_CASE("Contrastive: finite-difference gradients of both inputs") {
  // every distance x label set x margin (below, among, above the distances) x
  // storage orders x shapes; all reductions inside check_all_gradients
  const Eigen::Index shapes[][2] = {{1, 1}, {1, 3}, {6, 4}, {9, 1}, {7, 5}};
  unsigned seed = 3;
  int active = 0, inactive = 0;
  for (const Distance distance : kDistances) {
    for (const auto& shape : shapes) {
      const Eigen::Index m = shape[0], d = shape[1];
      if (distance == Distance::Cosine && d == 1) continue;  // 1-D cosine is a step function
      const ArrayCM probe = random_array<ArrayCM>(m, d, seed, -1, 1);
      for (const double margin :
           battery_margins(distances(distance, probe, random_array<ArrayCM>(m, d, seed + 500, -1, 1)))) {
        const auto [x1, x2] = smooth_pairs<ArrayCM>(distance, margin, m, d, seed);
        for (int pattern = 0; pattern < 3; ++pattern) {
          const Column y = make_labels(m, pattern);
          check_all_gradients(distance, margin, x1, x2, y);
          const ArrayRM r1 = x1, r2 = x2;
          check_all_gradients(distance, margin, r1, r2, y);
          check_all_gradients(distance, margin, x1, r2, y);  // mixed orders
          for (Eigen::Index i = 0; i < m; ++i) {
            if (y(i) == 1) (reference_distance(distance, x1, x2, i) < margin ? active : inactive) += 1;
          }
        }
      }
      ++seed;
    }
  }
  // both sides of the hinge were exercised
  CHECK(active > 20);
  CHECK(inactive > 20);
}

TEST_CASE("Contrastive: float agrees with double, long double compiles") {
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const auto [x1, x2] = smooth_pairs<ArrayCM>(distance, 1.0, 70, 5, 21);  // 70 rows: two blocks
    const Column y = make_labels(70, 2);
    const Eigen::ArrayXXf f1 = x1.cast<float>(), f2 = x2.cast<float>();
    const ArrayCM d1 = f1.cast<double>(), d2 = f2.cast<double>();  // the same inputs in double
    const lossfn::Contrastive<> mean(1.0, distance);
    Eigen::ArrayXXf g1, g2;
    const float value = mean.forward_backward(f1, f2, y.cast<float>(), g1, g2);
    const auto [e1, e2] = mean.backward(d1, d2, y);
    CHECK(static_cast<double>(value) == Approx(mean.forward(d1, d2, y)).epsilon(lossfn_test::Tolerance<float>::rel));
    CHECK(max_error(g1, e1) < lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(g2, e2) < lossfn_test::Tolerance<float>::rel);
    using ArrayL = Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic>;
    const ArrayL l1 = x1.cast<long double>(), l2 = x2.cast<long double>();
    CHECK(static_cast<double>(mean.forward(l1, l2, y)) == Approx(mean.forward(x1, x2, y)).epsilon(1e-13));
    const auto [gl1, gl2] = mean.backward(l1, l2, y);
    CHECK(max_error(gl1, mean.backward(x1, x2, y).dx1) < 1e-13);
    CHECK(max_error(gl2, mean.backward(x1, x2, y).dx2) < 1e-13);
  }
}

TEST_CASE("Contrastive: float rows wider than the summing chunk agree with double") {
  // row-major float rows are summed in chunks of 256 floats, the chunks in double
  using ArrayRF = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const ArrayRF f1 = random_array<ArrayRF>(70, 600, 23), f2 = random_array<ArrayRF>(70, 600, 24);
    const ArrayRM d1 = f1.cast<double>(), d2 = f2.cast<double>();
    const Column y = make_labels(70, 2);
    const double margin = distance == Distance::SquaredEuclidean ? 400 : distance == Distance::Euclidean ? 20 : 1;
    const lossfn::Contrastive<> mean(margin, distance);
    ArrayRF g1, g2;
    const float value = mean.forward_backward(f1, f2, y, g1, g2);
    const auto [e1, e2] = mean.backward(d1, d2, y);
    CHECK(static_cast<double>(value) == Approx(mean.forward(d1, d2, y)).epsilon(lossfn_test::Tolerance<float>::rel));
    CHECK(max_error(g1, e1) < lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(g2, e2) < lossfn_test::Tolerance<float>::rel);
  }
}

namespace {

/// Per-row reference for a tall input in storage order Plain. The kernel's row blocks
/// are 64 rows (row-major) or 512 (column-major) for narrow rows, fewer for wide ones
/// (about 256 KB or 1 MB of x1 and x2 per block): the callers cross both kinds.
template <class Plain>
void check_many_rows(Eigen::Index m, Eigen::Index d) {
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance), m, d, Plain::IsRowMajor);
    const Plain x1 = random_array<Plain>(m, d, 8), x2 = random_array<Plain>(m, d, 9);
    const Column y = make_labels(m, 2);
    const lossfn::Contrastive<lossfn::Sum> sum(1.5, distance);
    const Column reference = reference_terms(distance, 1.5, x1, x2, y);
    CHECK(sum.forward(x1, x2, y) == Approx(reference.sum()).epsilon(1e-13));
    const Column terms = lossfn::Contrastive<lossfn::None>(1.5, distance).forward(x1, x2, y);
    CHECK(max_error(terms, reference) < 1e-14);
    // each row's gradient equals the gradient of that row alone (up to the order in
    // which a row's d terms are summed, which may differ for a lone row)
    const auto [g1, g2] = sum.backward(x1, x2, y);
    for (Eigen::Index i = 0; i < m; i += std::min<Eigen::Index>(37, m / 5)) {
      const auto [r1, r2] = sum.backward(x1.middleRows(i, 1), x2.middleRows(i, 1), y.segment(i, 1));
      CHECK(max_error(g1.middleRows(i, 1), r1) < 1e-14);
      CHECK(max_error(g2.middleRows(i, 1), r2) < 1e-14);
    }
  }
}

}  // namespace

TEST_CASE("Contrastive: many rows cross the kernel's row blocks") {
  check_many_rows<ArrayRM>(200, 7);    // blocks of 64 rows
  check_many_rows<ArrayCM>(1100, 7);   // blocks of 512 rows
  check_many_rows<ArrayRM>(11, 5000);  // 256 KB / (2 x 5000 x 8 B): blocks of 3 rows
  check_many_rows<ArrayCM>(30, 5000);  // 1 MB / (2 x 5000 x 8 B): blocks of 13 rows
}

TEST_CASE("Contrastive: swapping x1 and x2 swaps the gradients") {
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const ArrayCM x1 = random_array<ArrayCM>(9, 4, 31), x2 = random_array<ArrayCM>(9, 4, 32);
    const Column y = make_labels(9, 2);
    const lossfn::Contrastive<> loss(1.0, distance);
    CHECK(loss.forward(x2, x1, y) == Approx(loss.forward(x1, x2, y)).epsilon(1e-15));
    const auto [a1, a2] = loss.backward(x1, x2, y);
    const auto [b1, b2] = loss.backward(x2, x1, y);
    CHECK(max_error(b1, a2) < 1e-15);
    CHECK(max_error(b2, a1) < 1e-15);
  }
}

TEST_CASE("Contrastive: a dissimilar pair beyond the margin costs nothing") {
  // x2 = -2 x1: Euclidean D = 15, squared 225, cosine D = 2 (opposite directions); margin 1.5 below all
  ArrayCM x1(1, 2), x2(1, 2);
  x1 << 3.0, 4.0;
  x2 << -6.0, -8.0;
  const Column y = Column::Ones(1);
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const lossfn::Contrastive<lossfn::Sum> loss(1.5, distance);
    CHECK(loss.forward(x1, x2, y) == 0.0);
    ArrayCM g1 = ArrayCM::Constant(1, 2, 9.0), g2 = g1;
    CHECK(loss.forward_backward(x1, x2, y, g1, g2) == 0.0);
    CHECK((g1 == 0).all());
    CHECK((g2 == 0).all());
  }
}

TEST_CASE("Contrastive: a similar pair at distance 0 costs nothing") {
  const ArrayRM x1 = random_array<ArrayRM>(5, 3, 41);
  const Column y = Column::Zero(5);
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const lossfn::Contrastive<> loss(1.0, distance);
    // cosine distance is also 0 for a positive multiple
    const ArrayRM x2 = distance == Distance::Cosine ? ArrayRM(2.0 * x1) : x1;
    CHECK(loss.forward(x1, x2, y) == Approx(0.0).margin(1e-15));
    const auto [g1, g2] = loss.backward(x1, x2, y);
    CHECK(g1.abs().maxCoeff() < 1e-15);
    CHECK(g2.abs().maxCoeff() < 1e-15);
  }
}

TEST_CASE("Contrastive: non-differentiable points give the documented values, never NaN") {
  SECTION("Euclidean, dissimilar pair with x1 = x2: loss M^2/2, subgradient 0") {
    const ArrayCM x = random_array<ArrayCM>(3, 4, 51);
    const Column y = Column::Ones(3);
    const lossfn::Contrastive<lossfn::Sum> loss(2.0);
    CHECK(loss.forward(x, x, y) == Approx(3 * 2.0).epsilon(1e-15));  // 3 x 2^2/2
    const auto [g1, g2] = loss.backward(x, x, y);
    CHECK((g1 == 0).all());
    CHECK((g2 == 0).all());
    // margin 0: 0/0 must not leak out either
    const lossfn::Contrastive<lossfn::Sum> zero_margin(0.0);
    CHECK(zero_margin.forward(x, x, y) == 0.0);
    const auto [z1, z2] = zero_margin.backward(x, x, y);
    CHECK((z1 == 0).all());
    CHECK((z2 == 0).all());
    // a similar pair at x1 = x2 keeps its smooth gradient x1 - x2 = 0
    const auto [s1, s2] = loss.backward(x, x, Column::Zero(3));
    CHECK((s1 == 0).all());
    CHECK((s2 == 0).all());
  }
  SECTION("Cosine with a zero row: cos = 0 (D = 1), gradients 0") {
    ArrayCM x1 = random_array<ArrayCM>(4, 3, 52), x2 = random_array<ArrayCM>(4, 3, 53);
    x1.row(0).setZero();  // zero in x1
    x2.row(1).setZero();  // zero in x2
    x1.row(2).setZero();
    x2.row(2).setZero();  // both zero
    Column y(4);
    y << 0, 1, 1, 0;
    const lossfn::Contrastive<lossfn::None> loss(1.5, Distance::Cosine);
    const Column terms = loss.forward(x1, x2, y);
    CHECK(terms(0) == 0.5);    // similar, D = 1: 1/2
    CHECK(terms(1) == 0.125);  // dissimilar, D = 1: (1.5 - 1)^2/2
    CHECK(terms(2) == 0.125);
    CHECK(terms(3) ==
          Approx(static_cast<double>(reference_term(reference_distance(Distance::Cosine, x1, x2, 3), 0, 1.5)))
              .epsilon(1e-14));
    const auto [g1, g2] = loss.backward(x1, x2, y, Column::Ones(4));
    CHECK(g1.allFinite());
    CHECK(g2.allFinite());
    CHECK((g1.topRows(3) == 0).all());
    CHECK((g2.topRows(3) == 0).all());
    CHECK(g1.row(3).abs().maxCoeff() > 0);  // an ordinary row next to them is unaffected
  }
  SECTION("Cosine with tiny and huge norms stays finite") {
    // norms down to ~1e-154 and up to ~1e154 (double) are measured exactly; below, the
    // squared norm underflows and the row counts as zero (the documented convention)
    ArrayCM x1(3, 2), x2(3, 2);
    x1 << 1e-150, 2e-150, 1e150, -3e150, 1.0, 2.0;
    x2 << 3e-152, 1e-152, 2e150, 1e150, 3e-170, 1e-170;
    const lossfn::Contrastive<lossfn::Sum> loss(1.0, Distance::Cosine);
    const Column y = Column::Zero(3);
    const double value = loss.forward(x1, x2, y);
    CHECK(std::isfinite(value));
    // cos of (1, 2) and (3, 1) is 5 / sqrt(50); of (1, -3) and (2, 1) is -1 / sqrt(50);
    // row 2's x2 squares to 1e-339, below the smallest double: cos := 0, D = 1
    const double d0 = 1 - 5 / std::sqrt(50.0), d1 = 1 + 1 / std::sqrt(50.0), d2 = 1;
    CHECK(value == Approx(0.5 * (d0 * d0 + d1 * d1 + d2 * d2)).epsilon(1e-14));
    const auto [g1, g2] = loss.backward(x1, x2, y);
    CHECK(g1.allFinite());
    CHECK(g2.allFinite());
  }
}

TEST_CASE("Contrastive: cosine gradients of tiny float rows stay finite and match double") {
  // Found by fuzzing: with the row factors p = -t cos / |a|^2 rounded to float, a row of
  // norm 1e-20 overflowed them (1e40) and gave NaN or inf, though the true gradient
  // (of size 1/|a| = 1e20 at most) fits a float. The products are now formed in double.
  const lossfn::Contrastive<lossfn::Sum> cosine(1.0, lossfn::Distance::Cosine);
  Eigen::ArrayXi similar(1);
  similar << 0;
  {
    // 1-D, opposite directions: cos = -1, so the true gradient is 0; what is left is
    // rounding on the scale of the gradient, 1/|a| = 1e20 (relative 1e-16)
    Eigen::ArrayXXf a1(1, 1), b1(1, 1);
    a1 << 1e-20f;
    b1 << -4.8f;
    const auto g = cosine.backward(a1, b1, similar);
    CHECK(std::isfinite(g.dx1(0, 0)));
    CHECK(std::abs(static_cast<double>(g.dx1(0, 0))) < 1e20 * 1e-12);
    CHECK(std::abs(static_cast<double>(g.dx2(0, 0))) < 1e-12);
  }
  for (const int order : {0, 1}) {
    CAPTURE(order);
    // 2-D: a finite gradient of about 1e20 on the tiny row, in both storage orders
    Eigen::ArrayXXf a2(1, 2), b2(1, 2);
    a2 << 1e-20f, 1e-20f;  // |a|^-2 = 5e39 overflows a float
    b2 << 3.0f, -1.0f;
    Eigen::ArrayXXf ga(1, 2), gb(1, 2);
    const Eigen::Array<float, 1, 2, Eigen::RowMajor> a2r = a2, b2r = b2;
    if (order == 0) {
      cosine.forward_backward(a2, b2, similar, ga, gb);
    } else {
      cosine.forward_backward(a2r, b2r, similar, ga, gb);
    }
    const auto [da, db] = cosine.backward(a2.cast<double>(), b2.cast<double>(), similar);
    CHECK(ga.allFinite());
    CHECK(gb.allFinite());
    CHECK(lossfn_test::max_error(ga.cast<double>() / 1e20, da / 1e20) < 1e-6);
    CHECK(lossfn_test::max_error(gb, db) < 1e-6);
    CHECK(std::abs(static_cast<double>(ga(0, 0))) > 1e18);
  }
}

TEST_CASE("Contrastive: a dissimilar float pair at a denormal distance has a finite gradient") {
  // Found by fuzzing: Euclidean, M = 1e4, x1 = 0, x2 = (-1.4e-45, 1.4e-45): D ~ 2e-45 and
  // the row factor (M - D) / D ~ 5e48 overflowed a float, giving -inf; the true gradient
  // is -(M - D) (x1 - x2) / D, of size M = 1e4.
  const lossfn::Contrastive<lossfn::Sum> loss(1e4, lossfn::Distance::Euclidean);
  Eigen::ArrayXi dissimilar(2);
  dissimilar << 1, 1;
  Eigen::ArrayXXf x1 = Eigen::ArrayXXf::Zero(2, 2), x2(2, 2);
  const float tiny = std::numeric_limits<float>::denorm_min();
  x2 << -tiny, tiny, 0.0f, 1.0f;
  const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x1r = x1, x2r = x2;
  const auto reference = loss.backward(x1.cast<double>(), x2.cast<double>(), dissimilar);
  for (int order = 0; order < 2; ++order) {
    CAPTURE(order);
    Eigen::ArrayXXf g1(2, 2), g2(2, 2);
    if (order == 0) {
      loss.forward_backward(x1, x2, dissimilar, g1, g2);
    } else {
      loss.forward_backward(x1r, x2r, dissimilar, g1, g2);
    }
    CHECK(g1.allFinite());
    CHECK(g2.allFinite());
    CHECK(lossfn_test::max_error(g1.bottomRows(1).cast<double>(), reference.dx1.bottomRows(1)) < 1e-6);
    // float rows are measured in double in either storage order (row-major: the float
    // piece whose squares underflow is summed again in double): the exact direction
    CHECK(lossfn_test::max_error(g1.cast<double>() / 1e4, reference.dx1 / 1e4) < 1e-6);
    CHECK(lossfn_test::max_error(g2.cast<double>() / 1e4, reference.dx2 / 1e4) < 1e-6);
    CHECK(std::abs(static_cast<double>(g1(0, 0))) > 1e3);
  }
}

TEST_CASE("Contrastive: NaN and infinity in the inputs propagate") {
  ArrayCM x1 = ArrayCM::Zero(2, 2), x2 = ArrayCM::Ones(2, 2);
  x1(0, 0) = std::nan("");
  x1(1, 0) = std::numeric_limits<double>::infinity();
  Column y(2);
  y << 1, 1;
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const lossfn::Contrastive<lossfn::None> loss(1.0, distance);
    const Column terms = loss.forward(x1, x2, y);
    CHECK(std::isnan(terms(0)));
    const auto [g1, g2] = loss.backward(x1, x2, y, Column::Ones(2));
    CHECK(std::isnan(g1(0, 1)));
  }
  // a dissimilar pair infinitely far apart costs 0 (not 0 x inf)
  const Column terms = lossfn::Contrastive<lossfn::None>{}.forward(x1, x2, y);
  CHECK(terms(1) == 0.0);
}

TEST_CASE("Contrastive: inputs and outputs of every kind") {
  const ArrayCM x1 = random_array<ArrayCM>(6, 3, 61), x2 = random_array<ArrayCM>(6, 3, 62);
  const Column y = make_labels(6, 2);
  const lossfn::Contrastive<> loss(1.2);
  const double value = loss.forward(x1, x2, y);
  const auto [g1, g2] = loss.backward(x1, x2, y);
  CHECK(loss(x1, x2, y) == value);

  // Matrix inputs give Matrix results
  const Eigen::MatrixXd m1 = x1.matrix(), m2 = x2.matrix();
  CHECK(loss.forward(m1, m2, y.matrix()) == Approx(value).epsilon(1e-15));
  const auto [mg1, mg2] = loss.backward(m1, m2, y);
  static_assert(std::is_same<std::decay_t<decltype(mg1)>, Eigen::MatrixXd>::value, "dx1 is x1's plain type");
  CHECK(max_error(mg1, g1) == 0);
  const Eigen::VectorXd per_pair = lossfn::Contrastive<lossfn::None>(1.2).forward(m1, m2, y);
  CHECK(per_pair.sum() / 6 == Approx(value).epsilon(1e-14));

  // labels: integer, bool, float, an int Matrix, an expression
  const Eigen::ArrayXi yi = y.cast<int>();
  const Eigen::Array<bool, Eigen::Dynamic, 1> yb = y.cast<bool>();
  const Eigen::Matrix<long, Eigen::Dynamic, 1> yl = y.cast<long>().matrix();
  CHECK(loss.forward(x1, x2, yi) == value);
  CHECK(loss.forward(x1, x2, yb) == value);
  CHECK(loss.forward(x1, x2, y.cast<float>()) == value);
  CHECK(loss.forward(x1, x2, yl) == value);
  CHECK(loss.forward(x1, x2, 1 - (1 - yi)) == value);

  // unevaluated expressions, Maps, Refs, Blocks, strided Maps
  CHECK(loss.forward(x1 * 1.0, x2 + 0.0, y) == Approx(value).epsilon(1e-15));
  const Eigen::Map<const ArrayCM> map1(x1.data(), 6, 3);
  const Eigen::Ref<const Eigen::MatrixXd> ref2 = m2;
  CHECK(loss.forward(map1, ref2, y) == Approx(value).epsilon(1e-15));
  ArrayRM big = ArrayRM::Constant(10, 8, 99.0);
  big.block(2, 3, 6, 3) = x2;
  CHECK(loss.forward(x1, big.block(2, 3, 6, 3), y) == Approx(value).epsilon(1e-15));
  ArrayCM wide = ArrayCM::Zero(6, 6);
  for (Eigen::Index j = 0; j < 3; ++j) wide.col(2 * j) = x1.col(j);
  const Eigen::Map<const ArrayCM, 0, Eigen::OuterStride<>> strided(wide.data(), 6, 3, Eigen::OuterStride<>(12));
  CHECK(loss.forward(strided, x2, y) == Approx(value).epsilon(1e-15));

  // gradients into Blocks of bigger buffers, nothing outside them written
  ArrayRM out1 = ArrayRM::Constant(9, 9, 5.0);
  ArrayCM out2 = ArrayCM::Constant(8, 4, 5.0);
  CHECK(loss.forward_backward(x1, x2, y, out1.block(1, 2, 6, 3), out2.block(2, 1, 6, 3)) ==
        Approx(value).epsilon(1e-15));
  CHECK(max_error(out1.block(1, 2, 6, 3), g1) == 0);
  CHECK(max_error(out2.block(2, 1, 6, 3), g2) == 0);
  out1.block(1, 2, 6, 3).setConstant(5.0);
  out2.block(2, 1, 6, 3).setConstant(5.0);
  CHECK((out1 == 5.0).all());
  CHECK((out2 == 5.0).all());
  // resizable outputs are resized; a Map of the right shape is written in place
  Eigen::MatrixXd empty;
  std::vector<double> buffer(18, 0.0);
  Eigen::Map<Eigen::MatrixXd> mapped(buffer.data(), 6, 3);
  loss.forward_backward(m1, m2, y, empty, mapped);
  CHECK(max_error(empty, g1) == 0);
  CHECK(max_error(mapped, g2) == 0);

  // structured bindings and options
  const lossfn::ContrastiveOptions options{2.0, Distance::Cosine};
  const lossfn::Contrastive<lossfn::Sum> from_options(options);
  CHECK(from_options.margin() == 2.0);
  CHECK(from_options.distance() == Distance::Cosine);
  CHECK(lossfn::Contrastive<>{}.margin() == 1.0);
  CHECK(lossfn::Contrastive<>{}.distance() == Distance::Euclidean);
}

TEST_CASE("Contrastive: forward (Sum, Mean) and forward_backward make no heap allocation") {
  const ArrayRM x1 = random_array<ArrayRM>(150, 12, 71), x2 = random_array<ArrayRM>(150, 12, 72);
  const ArrayCM c1 = x1, c2 = x2;
  const Eigen::ArrayXi y = make_labels(150, 2).cast<int>();
  ArrayRM g1(150, 12), g2(150, 12);
  ArrayCM h1(150, 12), h2(150, 12);
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const lossfn::Contrastive<> mean(1.0, distance);
    const lossfn::Contrastive<lossfn::Sum> sum(1.0, distance);
    double values[5] = {};
    Eigen::internal::set_is_malloc_allowed(false);  // Eigen asserts (here: throws) on any allocation
    CHECK_NOTHROW(values[0] = mean.forward(x1, x2, y));
    CHECK_NOTHROW(values[1] = sum.forward(c1, c2, y));
    CHECK_NOTHROW(values[2] = mean.forward_backward(x1, x2, y, g1, g2));
    CHECK_NOTHROW(values[3] = sum.forward_backward(c1, c2, y, h1, h2));
    CHECK_NOTHROW(values[4] = mean.forward_backward(c1, x2, y, g1.block(0, 0, 150, 12), h2));
    Eigen::internal::set_is_malloc_allowed(true);
    CHECK(values[0] == Approx(values[3] / 150).epsilon(1e-14));
    CHECK(values[2] == Approx(values[0]).epsilon(1e-15));
    CHECK(values[4] == Approx(values[0]).epsilon(1e-15));
    CHECK(max_error(h1, 150.0 * g1) < 1e-13);
  }
}

TEST_CASE("Contrastive: bad input is an error, and nothing is written") {
  const ArrayCM x1 = random_array<ArrayCM>(4, 3, 81), x2 = random_array<ArrayCM>(4, 3, 82);
  Column y = make_labels(4, 2);
  const lossfn::Contrastive<> loss;
  ArrayCM g1 = ArrayCM::Constant(4, 3, 42.0), g2 = g1;
  const auto untouched = [&] { return (g1 == 42.0).all() && (g2 == 42.0).all(); };

  SECTION("shapes") {
    const ArrayCM other = ArrayCM::Zero(3, 4);
    CHECK_THROWS_AS(loss.forward(x1, other, y), lossfn::shape_error);
    CHECK_THROWS_WITH(loss.forward(x1, other, y), "lossfn::Contrastive::forward: x1 is 4x3 but x2 is 3x4");
    CHECK_THROWS_WITH(loss.backward(x1, other, y), "lossfn::Contrastive::backward: x1 is 4x3 but x2 is 3x4");
    CHECK_THROWS_WITH(loss.forward_backward(x1, other, y, g1, g2),
                      "lossfn::Contrastive::forward_backward: x1 is 4x3 but x2 is 3x4");
    CHECK_THROWS_WITH(loss.forward(x1, x2, Column::Zero(3)),
                      "lossfn::Contrastive::forward: x1 is 4x3 but labels is 3x1 (expected 4x1)");
    CHECK_THROWS_AS(loss.forward(x1, x2, Eigen::ArrayXXd::Zero(4, 2)), lossfn::shape_error);
    CHECK_THROWS_AS(loss.forward(x1, x2, Eigen::RowVectorXd::Zero(4)), lossfn::shape_error);
    const lossfn::Contrastive<lossfn::None> none;
    CHECK_THROWS_WITH(none.backward(x1, x2, y, Column::Ones(5)),
                      "lossfn::Contrastive::backward: x1 is 4x3 but upstream is 5x1 (expected 4x1)");
    ArrayCM small = ArrayCM::Constant(4, 2, 42.0);
    CHECK_THROWS_WITH(loss.forward_backward(x1, x2, y, g1, small.block(0, 0, 4, 2)),
                      "lossfn::Contrastive::forward_backward: g2 is 4x2 but x1 is 4x3");
    CHECK((small == 42.0).all());
    CHECK(untouched());
  }
  SECTION("labels other than 0 and 1 name the row and the value") {
    y(2) = 0.5;
    CHECK_THROWS_AS(loss.forward(x1, x2, y), std::out_of_range);
    CHECK_THROWS_WITH(loss.forward(x1, x2, y),
                      "lossfn::Contrastive::forward: label at row 2 is 0.5 (expected 0 = similar pair or 1 = "
                      "dissimilar pair)");
    CHECK_THROWS_WITH(loss.forward_backward(x1, x2, y, g1, g2),
                      lossfn_test::ContainsSubstring("label at row 2 is 0.5"));
    CHECK(untouched());
    y(2) = std::nan("");
    CHECK_THROWS_WITH(loss.backward(x1, x2, y), lossfn_test::ContainsSubstring("label at row 2 is nan"));
    Eigen::ArrayXi yi = Eigen::ArrayXi::Zero(4);
    yi(3) = -1;
    CHECK_THROWS_WITH(loss.forward(x1, x2, yi), lossfn_test::ContainsSubstring("label at row 3 is -1"));
    yi(3) = 2;
    CHECK_THROWS_WITH(loss.forward_backward(x1, x2, yi, g1, g2), lossfn_test::ContainsSubstring("label at row 3 is 2"));
    CHECK(untouched());
  }
  SECTION("empty input: Sum gives 0, Mean is an error") {
    const ArrayCM none(0, 3);
    const Column no_labels(0);
    CHECK(lossfn::Contrastive<lossfn::Sum>{}.forward(none, none, no_labels) == 0.0);
    CHECK(lossfn::Contrastive<lossfn::Sum>{}.backward(none, none, no_labels).dx1.size() == 0);
    CHECK_THROWS_WITH(loss.forward(none, none, no_labels),
                      lossfn_test::ContainsSubstring("lossfn::Contrastive::forward: empty input"));
    CHECK_THROWS_AS(loss.forward_backward(none, none, no_labels, g1, g2), std::invalid_argument);
    CHECK(untouched());
  }
  SECTION("bad options at construction") {
    CHECK_THROWS_AS(lossfn::Contrastive<>(-0.1), std::invalid_argument);
    CHECK_THROWS_WITH(lossfn::Contrastive<>(-0.1),
                      "lossfn::Contrastive::constructor: margin must be finite and >= 0, got -0.1");
    CHECK_THROWS_AS(lossfn::Contrastive<>(std::nan("")), std::invalid_argument);
    CHECK_THROWS_AS(lossfn::Contrastive<>(std::numeric_limits<double>::infinity()), std::invalid_argument);
    CHECK_THROWS_AS(lossfn::Contrastive<>(lossfn::ContrastiveOptions{1.0, static_cast<Distance>(7)}),
                    std::invalid_argument);
    CHECK_NOTHROW(lossfn::Contrastive<>(0.0));
  }
}

// ---- numerical edges (expected values worked out by hand, see edge_values.hpp) ----

TEST_CASE("edge: contrastive pairs at distance exactly 0 and exactly M") {
  using namespace lossfn_test::edge;
  using lossfn::Distance;
  // x1 row 0 = x2 row 0 (D = 0); x1 row 1 = (0, 0), x2 row 1 = (3, 4): Euclidean D = 5 exactly
  const Rows<double> x1 = rows2<double>({1.0, 2.0}, {0.0, 0.0}), x2 = rows2<double>({1.0, 2.0}, {3.0, 4.0});
  Eigen::ArrayXd dissimilar(2), similar(2);
  dissimilar << 1, 1;
  similar << 0, 0;
  SECTION("Euclidean, M = 5") {
    const lossfn::Contrastive<lossfn::None> loss(5.0);
    // dissimilar: D = 0 gives M^2/2 = 12.5 and the subgradient 0; D = M gives 0 and gradient 0
    const Col<double> l = loss.forward(x1, x2, dissimilar);
    CHECK(l(0) == 12.5);
    CHECK(l(1) == 0.0);
    const auto g = loss.backward(x1, x2, dissimilar, Col<double>::Ones(2));
    CHECK((g.dx1.array() == 0.0).all());
    CHECK((g.dx2.array() == 0.0).all());
    // similar: D = 0 gives 0 and gradient 0; D = 5 gives 12.5 and dl/dx1 = x1 - x2 = (-3, -4)
    const Col<double> ls = loss.forward(x1, x2, similar);
    CHECK(ls(0) == 0.0);
    CHECK(ls(1) == 12.5);
    const auto gs = loss.backward(x1, x2, similar, Col<double>::Ones(2));
    CHECK(gs.dx1(1, 0) == -3.0);
    CHECK(gs.dx1(1, 1) == -4.0);
    CHECK(gs.dx2(1, 1) == 4.0);
    CHECK(gs.dx1(0, 0) == 0.0);
  }
  SECTION("SquaredEuclidean, M = 25 (D = 25 exactly)") {
    const lossfn::Contrastive<lossfn::Sum> loss(25.0, Distance::SquaredEuclidean);
    CHECK(loss.forward(x1, x2, dissimilar) == 25.0 * 25.0 / 2);  // row 0 at D = 0; row 1 at D = M: 0
    const auto g = loss.backward(x1, x2, dissimilar);
    CHECK((g.dx1.array() == 0.0).all());  // row 0: a - b = 0; row 1: hinge 0
  }
  SECTION("Cosine: identical directions (D = 0) and orthogonal ones (D = 1 = M)") {
    const Rows<double> a = rows2<double>({1.0, 0.0}, {1.0, 0.0}), b = rows2<double>({2.0, 0.0}, {0.0, 3.0});
    const lossfn::Contrastive<lossfn::None> loss(1.0, Distance::Cosine);
    const Col<double> l = loss.forward(a, b, dissimilar);
    CHECK(l(0) == 0.5);  // D = 0: 1/2 M^2
    CHECK(l(1) == 0.0);  // D = M
    const auto g = loss.backward(a, b, dissimilar, Col<double>::Ones(2));
    // row 0: dD/da = -(b/(|a||b|) - cos a/|a|^2) = -((1, 0) - (1, 0)) = 0; row 1: hinge 0
    CHECK((g.dx1.array() == 0.0).all());
    CHECK((g.dx2.array() == 0.0).all());
  }
  SECTION("float: the same distances") {
    const Rows<float> f1 = x1.cast<float>(), f2 = x2.cast<float>();
    const lossfn::Contrastive<lossfn::None> loss(5.0);
    const Col<float> l = loss.forward(f1, f2, dissimilar.cast<float>());
    CHECK(l(0) == 12.5f);
    CHECK(l(1) == 0.0f);
  }
}

// ---- Hessian diagonals ---------------------------------------------------------------

TEST_CASE("Contrastive: hand-computed Hessian diagonals, every distance") {
  // the pairs of the hand-computed gradients above: pair 0 a = (1, 0), b = (0, 1),
  // similar; pair 1 a = (0, 0), b = (0.3, 0.4), dissimilar; margin 1
  ArrayCM x1(2, 2), x2(2, 2);
  x1 << 1.0, 0.0, 0.0, 0.0;
  x2 << 0.0, 1.0, 0.3, 0.4;
  Column y(2);
  y << 0, 1;
  const auto check_pair = [&](Distance distance, const ArrayCM& e1, const ArrayCM& e2) {
    CAPTURE(distance_name(distance));
    const lossfn::Contrastive<lossfn::Sum> sum(1.0, distance);
    const auto [h1, h2] = sum.hessian_diagonal(x1, x2, y);
    CHECK(max_error(h1, e1) < 1e-15);
    CHECK(max_error(h2, e2) < 1e-15);
    const auto [m1, m2] = lossfn::Contrastive<lossfn::Mean>(1.0, distance).hessian_diagonal(x1, x2, y);
    CHECK(max_error(m1, 0.5 * e1) < 1e-15);
    CHECK(max_error(m2, 0.5 * e2) < 1e-15);
  };
  ArrayCM e1(2, 2), e2(2, 2);
  // Euclidean: similar 1; dissimilar (D = 0.5 < M) 1 - (M/D)(1 - r_k^2), r = (a - b)/D = (-0.6, -0.8):
  // 1 - 2 (1 - 0.36) = -0.28 and 1 - 2 (1 - 0.64) = 0.28; the same for b
  e1 << 1.0, 1.0, -0.28, 0.28;
  check_pair(Distance::Euclidean, e1, e1);
  // SquaredEuclidean: 2 l' + 4 l'' (a_k - b_k)^2; similar D = 2: 4 + 4 = 8;
  // dissimilar D = 0.25: -2 (1 - 0.25) + 4 (0.09, 0.16) = (-1.14, -0.86)
  e1 << 8.0, 8.0, -1.14, -0.86;
  check_pair(Distance::SquaredEuclidean, e1, e1);
  // Cosine, pair 0: cos = 0, D = 1, l' = 1, l'' = 1, u = a, v = b:
  //   a: (c u_k - v_k)^2 + (c - 3 c u_k^2 + 2 u_k v_k) = (0, 1); b: (c v_k - u_k)^2 + ... = (1, 0)
  // pair 1: a is a zero row: 0 (as its gradient)
  e1 << 0.0, 1.0, 0.0, 0.0;
  e2 << 1.0, 0.0, 0.0, 0.0;
  check_pair(Distance::Cosine, e1, e2);
}

TEST_CASE("Contrastive: Hessian diagonals at and near the margin, and at distance 0") {
  using lossfn_test::hessian_error;
  const Column dissimilar = Column::Ones(1), similar = Column::Zero(1);
  ArrayCM a = ArrayCM::Zero(1, 2), b(1, 2);

  SECTION("Euclidean at D = M: the flat piece (0); just inside: r_k^2, its limit from below") {
    const lossfn::Contrastive<lossfn::Sum> loss(5.0);
    b << 3.0, 4.0;  // D = 5 = M exactly
    const auto [h1, h2] = loss.hessian_diagonal(a, b, dissimilar);
    CHECK((h1 == 0.0).all());
    CHECK((h2 == 0.0).all());
    b << 3.0 * (1 - 1e-9), 4.0 * (1 - 1e-9);  // D = M (1 - 1e-9): 1 - (M/D)(1 - r_k^2) ~ r_k^2
    const auto [i1, i2] = loss.hessian_diagonal(a, b, dissimilar);
    CHECK(i1(0, 0) == Approx(0.36).epsilon(1e-7));
    CHECK(i1(0, 1) == Approx(0.64).epsilon(1e-7));
    CHECK(max_error(i2, i1) == 0);
  }
  SECTION("every distance: central differences 1e-4 inside and outside the margin") {
    for (const Distance distance : kDistances) {
      CAPTURE(distance_name(distance));
      a << 0.6, 0.2;
      b << -0.1, 0.5;
      const double D = static_cast<double>(reference_distance(distance, a, b, 0));
      for (const double margin : {D + 1e-4, D - 1e-4}) {
        CAPTURE(margin);
        const lossfn::Contrastive<lossfn::Sum> loss(margin, distance);
        const auto [h1, h2] = loss.hessian_diagonal(a, b, dissimilar);
        CHECK(hessian_error(
                  "Contrastive near the margin", [&](const ArrayCM& p) { return loss.backward(p, b, dissimilar).dx1; },
                  a, h1) < kGradientTolerance);
        CHECK(hessian_error(
                  "Contrastive near the margin", [&](const ArrayCM& p) { return loss.backward(a, p, dissimilar).dx2; },
                  b, h2) < kGradientTolerance);
        if (margin < D) {
          CHECK((h1 == 0.0).all());
          CHECK((h2 == 0.0).all());
        } else {
          CHECK((h1 != 0.0).any());
        }
      }
    }
  }
  SECTION("Euclidean, identical embeddings: 1 (similar, and dissimilar with M > 0), 0 for M = 0") {
    a << 0.25, -1.5;
    b = a;
    for (const double margin : {0.0, 0.5, 3.0}) {
      CAPTURE(margin);
      const lossfn::Contrastive<lossfn::Sum> loss(margin);
      const auto [s1, s2] = loss.hessian_diagonal(a, b, similar);
      CHECK((s1 == 1.0).all());
      CHECK((s2 == 1.0).all());
      const auto [d1, d2] = loss.hessian_diagonal(a, b, dissimilar);
      const double expected = margin > 0 ? 1.0 : 0.0;
      CHECK((d1 == expected).all());
      CHECK((d2 == expected).all());
      CHECK(std::isfinite(d1.sum()));
      // the convention: t -> l(a + t e_k) is 1/2 (M - |t|)^2 near 0, whose second
      // derivative is 1 on both sides; one-sided second differences agree
      for (Eigen::Index k = 0; k < 2; ++k) {
        for (const double sign : {1.0, -1.0}) {
          const double t = sign * 1e-4;
          ArrayCM p1 = a, p2 = a;
          p1(0, k) += t;
          p2(0, k) += 2 * t;
          const double second =
              (loss.forward(p2, b, dissimilar) - 2 * loss.forward(p1, b, dissimilar) + loss.forward(a, b, dissimilar)) /
              (t * t);
          CHECK(second == Approx(expected).margin(1e-6));
        }
      }
    }
    // off D = 0 along the axis of coordinate k, 1 - (M/D)(1 - r_k^2) is 1 (r_k^2 = 1):
    // the value at D = 0 is its limit along that axis (up to rounding x M/D = 3e7)
    const lossfn::Contrastive<lossfn::Sum> loss(3.0);
    ArrayCM p = a;
    p(0, 0) += 1e-7;
    const auto [q1, q2] = loss.hessian_diagonal(p, b, dissimilar);
    CHECK(q1(0, 0) == Approx(1.0).margin(1e-7));
    CHECK(q2(0, 0) == q1(0, 0));
  }
  SECTION("SquaredEuclidean is smooth at D = 0: -2M dissimilar, 0 similar") {
    a << 0.25, -1.5;
    b = a;
    const lossfn::Contrastive<lossfn::Sum> loss(0.7, Distance::SquaredEuclidean);
    const auto [d1, d2] = loss.hessian_diagonal(a, b, dissimilar);
    CHECK((d1 == -1.4).all());
    CHECK((d2 == -1.4).all());
    CHECK(hessian_error(
              "Contrastive SquaredEuclidean", [&](const ArrayCM& x) { return loss.backward(x, b, dissimilar).dx1; }, a,
              d1) < kGradientTolerance);
    const auto [s1, s2] = loss.hessian_diagonal(a, b, similar);
    CHECK((s1 == 0.0).all());
    CHECK((s2 == 0.0).all());
  }
  SECTION("Cosine: parallel rows (D = 0), orthogonal rows at D = M, zero rows") {
    using namespace lossfn_test::edge;
    const Rows<double> p = rows2<double>({1.0, 0.0}, {1.0, 0.0}), q = rows2<double>({2.0, 0.0}, {0.0, 3.0});
    const Column both = Column::Ones(2);
    const lossfn::Contrastive<lossfn::None> loss(1.0, Distance::Cosine);
    const auto [h1, h2] = loss.hessian_diagonal(p, q, both, Column::Ones(2));
    // row 0: c = 1, l' = -1, l'' = 1, u = v = (1, 0): a: (0, -1/|a|^2) = (0, -1); b: (0, -1/|b|^2) = (0, -0.25)
    CHECK(h1(0, 0) == 0.0);
    CHECK(h1(0, 1) == Approx(-1.0).epsilon(1e-15));
    CHECK(h2(0, 0) == 0.0);
    CHECK(h2(0, 1) == Approx(-0.25).epsilon(1e-15));
    // row 1: D = 1 = M, the flat piece
    CHECK(h1(1, 0) == 0.0);
    CHECK(h1(1, 1) == 0.0);
    CHECK(h2(1, 0) == 0.0);
    CHECK(h2(1, 1) == 0.0);
    // a zero row in either input: 0 in both diagonals, for either label
    const Rows<double> zero = Rows<double>::Zero(2, 2);
    for (const Column& labels : {Column(Column::Zero(2)), both}) {
      const lossfn::Contrastive<lossfn::Sum> wide(2.0, Distance::Cosine);
      const auto [z1, z2] = wide.hessian_diagonal(zero, q, labels);
      CHECK((z1 == 0.0).all());
      CHECK((z2 == 0.0).all());
      const auto [w1, w2] = wide.hessian_diagonal(q, zero, labels);
      CHECK((w1 == 0.0).all());
      CHECK((w2 == 0.0).all());
    }
  }
}

TEST_CASE("Contrastive: float Hessian diagonals agree with double, and stay finite") {
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const auto [x1, x2] = smooth_pairs<ArrayCM>(distance, 1.0, 70, 5, 23);  // 70 rows: two blocks
    const Column y = make_labels(70, 2);
    const Eigen::ArrayXXf f1 = x1.cast<float>(), f2 = x2.cast<float>();
    const ArrayCM d1 = f1.cast<double>(), d2 = f2.cast<double>();
    const lossfn::Contrastive<> mean(1.0, distance);
    Eigen::ArrayXXf g1, g2, h1, h2;
    const float value = mean.forward_backward_hessian(f1, f2, y.cast<float>(), g1, g2, h1, h2);
    const auto [e1, e2] = mean.hessian_diagonal(d1, d2, y);
    CHECK(value == Approx(mean.forward(d1, d2, y)).epsilon(1e-6));
    // each entry rounded once from the double computation
    CHECK(max_error(h1.cast<double>(), e1) < 1e-6);
    CHECK(max_error(h2.cast<double>(), e2) < 1e-6);
    const auto [k1, k2] = mean.hessian_diagonal(f1, f2, y.cast<float>());
    CHECK((k1 == h1).all());
    CHECK((k2 == h2).all());
    const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> l1 = x1.cast<long double>(),
                                                                    l2 = x2.cast<long double>();
    const auto [n1, n2] = mean.hessian_diagonal(l1, l2, y.cast<long double>());
    CHECK(max_error(n1, mean.hessian_diagonal(x1, x2, y).dx1) < 1e-12);
  }
  SECTION("entries beyond the float range are the largest finite float of their sign") {
    // a dissimilar float pair at a denormal distance: 1 - (M/D)(1 - r_k^2) ~ -3.5e39 in double
    Eigen::ArrayXXf a = Eigen::ArrayXXf::Zero(1, 2), b = Eigen::ArrayXXf::Constant(1, 2, 1e-40f);
    const Eigen::ArrayXf one = Eigen::ArrayXf::Ones(1);
    const lossfn::Contrastive<lossfn::Sum> loss;
    const auto [h1, h2] = loss.hessian_diagonal(a, b, one);
    CHECK((h1 == std::numeric_limits<float>::lowest()).all());
    CHECK((h2 == std::numeric_limits<float>::lowest()).all());
    const auto [e1, e2] = loss.hessian_diagonal(a.cast<double>(), b.cast<double>(), one.cast<double>());
    CHECK(e1(0, 0) < -1e39);
    // cosine rows of norm ~1e-20: 1/|a|^2 ~ 1e40; finite, and equal to double where double is within range
    Eigen::ArrayXXf c(2, 3), d(2, 3);
    c << 1e-20f, 2e-20f, -1e-20f, 0.5f, 0.25f, 1.0f;
    d << 3e-20f, -1e-20f, 2e-20f, 0.5e-3f, 1e-3f, 2e-3f;
    const lossfn::Contrastive<lossfn::Sum> cosine(2.0, Distance::Cosine);
    const auto [c1, c2] = cosine.hessian_diagonal(c, d, Eigen::ArrayXf::Ones(2));
    CHECK(c1.isFinite().all());
    CHECK(c2.isFinite().all());
    CHECK((c1.row(0).abs() == std::numeric_limits<float>::max()).any());
    const auto [f1, f2] = cosine.hessian_diagonal(c.cast<double>(), d.cast<double>(), Column::Ones(2));
    CHECK(max_error(c1.row(1).cast<double>(), f1.row(1)) < 1e-6);
    CHECK(max_error(c2.row(1).cast<double>(), f2.row(1)) < 1e-6);
  }
}

TEST_CASE("Contrastive: NaN in the inputs gives NaN Hessian entries") {
  ArrayCM x1 = ArrayCM::Zero(2, 2), x2 = ArrayCM::Ones(2, 2);
  x1(0, 0) = std::nan("");
  x1(1, 0) = std::numeric_limits<double>::infinity();
  for (const double label : {0.0, 1.0}) {
    const Column y = Column::Constant(2, label);
    for (const Distance distance : kDistances) {
      CAPTURE(distance_name(distance), label);
      const lossfn::Contrastive<lossfn::None> loss(1.0, distance);
      const auto [h1, h2] = loss.hessian_diagonal(x1, x2, y, Column::Ones(2));
      CHECK(std::isnan(h1(0, 0)));
      CHECK(std::isnan(h2(0, 0)));
    }
  }
  // Euclidean, a dissimilar pair infinitely far apart: beyond the margin, 0 in the finite coordinate
  const Column y = Column::Ones(2);
  const auto [h1, h2] = lossfn::Contrastive<lossfn::Sum>{}.hessian_diagonal(x1, x2, y);
  CHECK(h1(1, 1) == 0.0);
  CHECK(h2(1, 1) == 0.0);
}

TEST_CASE("Contrastive: forward_backward_hessian makes no heap allocation, into outputs of every kind") {
  const ArrayRM x1 = random_array<ArrayRM>(150, 12, 91), x2 = random_array<ArrayRM>(150, 12, 92);
  const ArrayCM c1 = x1, c2 = x2;
  const Eigen::ArrayXi y = make_labels(150, 2).cast<int>();
  ArrayRM g1(150, 12), g2(150, 12), h1(150, 12);
  ArrayCM h2(150, 12);
  ArrayCM big = ArrayCM::Constant(160, 20, 5.0);
  std::vector<double> buffer(150 * 12, 0.0);
  Eigen::Map<ArrayRM> mapped(buffer.data(), 150, 12);
  for (const Distance distance : kDistances) {
    CAPTURE(distance_name(distance));
    const lossfn::Contrastive<> mean(1.0, distance);
    const lossfn::Contrastive<lossfn::Sum> sum(1.0, distance);
    const auto [e1, e2] = mean.hessian_diagonal(x1, x2, y);
    double values[3] = {};
    Eigen::internal::set_is_malloc_allowed(false);  // Eigen asserts (here: throws) on any allocation
    CHECK_NOTHROW(values[0] = mean.forward_backward_hessian(x1, x2, y, g1, g2, h1, h2));
    CHECK_NOTHROW(values[1] = sum.forward_backward_hessian(c1, c2, y, g1, g2, h1, h2));
    CHECK_NOTHROW(values[2] = mean.forward_backward_hessian(c1, x2, y, g1, g2, big.block(3, 4, 150, 12), mapped));
    Eigen::internal::set_is_malloc_allowed(true);
    const long counted = lossfn_test::allocations_of([&] {
      values[0] += mean.forward_backward_hessian(x1, x2, y, g1, g2, mapped, big.block(3, 4, 150, 12));
      values[1] += sum.forward_backward_hessian(c1, c2, y, g1, g2, h1, h2);
    });
    CHECK(counted == 0);
    CHECK(values[0] == Approx(2 * values[2]).epsilon(1e-14));
    CHECK(values[1] == Approx(300 * values[2]).epsilon(1e-14));
    CHECK(max_error(mapped, e1) == 0);
    CHECK(max_error(big.block(3, 4, 150, 12), e2) == 0);
    CHECK(max_error(h1, 150.0 * e1) < 1e-13);
  }
  // nothing outside the Block is written; Matrix outputs and resizable outputs work
  big.block(3, 4, 150, 12).setConstant(5.0);
  CHECK((big == 5.0).all());
  const lossfn::Contrastive<> loss(1.3);
  Eigen::MatrixXd m1, m2, k1(1, 1), k2;
  const double value = loss.forward_backward_hessian(c1.matrix(), c2.matrix(), y, m1, m2, k1, k2);
  CHECK(value == Approx(loss.forward(c1, c2, y)).epsilon(1e-15));
  const auto [mh1, mh2] = loss.hessian_diagonal(c1.matrix(), c2.matrix(), y);
  static_assert(std::is_same<std::decay_t<decltype(mh1)>, Eigen::MatrixXd>::value, "x1's plain type");
  CHECK(max_error(k1, mh1) == 0);
  CHECK(max_error(k2, mh2) == 0);
  CHECK(k1.rows() == 150);
}

TEST_CASE("Contrastive: hessian_diagonal and forward_backward_hessian errors write no output") {
  const ArrayCM x1 = random_array<ArrayCM>(4, 3, 81), x2 = random_array<ArrayCM>(4, 3, 82);
  Column y = make_labels(4, 2);
  const lossfn::Contrastive<> loss;
  ArrayCM g1 = ArrayCM::Constant(4, 3, 42.0), g2 = g1, h1 = g1, h2 = g1;
  const auto untouched = [&] {
    return (g1 == 42.0).all() && (g2 == 42.0).all() && (h1 == 42.0).all() && (h2 == 42.0).all();
  };

  // a Hessian output of the wrong shape: shape_error naming it, like the gradients'
  ArrayCM small = ArrayCM::Constant(4, 2, 42.0), wide = ArrayCM::Constant(5, 3, 42.0);
  CHECK_THROWS_AS(loss.forward_backward_hessian(x1, x2, y, g1, g2, small.block(0, 0, 4, 2), h2), lossfn::shape_error);
  CHECK_THROWS_WITH(loss.forward_backward_hessian(x1, x2, y, g1, g2, h1, small.block(0, 0, 4, 2)),
                    "lossfn::Contrastive::forward_backward_hessian: h2 is 4x2 but x1 is 4x3");
  CHECK_THROWS_WITH(loss.forward_backward_hessian(x1, x2, y, g1, g2, wide.block(0, 0, 3, 3), h2),
                    "lossfn::Contrastive::forward_backward_hessian: h1 is 3x3 but x1 is 4x3");
  CHECK_THROWS_WITH(loss.forward_backward_hessian(x1, x2, y, g1, small.block(0, 0, 4, 2), h1, h2),
                    "lossfn::Contrastive::forward_backward_hessian: g2 is 4x2 but x1 is 4x3");
  CHECK((small == 42.0).all());
  CHECK((wide == 42.0).all());
  CHECK(untouched());

  // bad inputs
  const ArrayCM other = ArrayCM::Zero(3, 4);
  CHECK_THROWS_WITH(loss.forward_backward_hessian(x1, other, y, g1, g2, h1, h2),
                    "lossfn::Contrastive::forward_backward_hessian: x1 is 4x3 but x2 is 3x4");
  CHECK_THROWS_WITH(loss.hessian_diagonal(x1, other, y),
                    "lossfn::Contrastive::hessian_diagonal: x1 is 4x3 but x2 is 3x4");
  CHECK_THROWS_AS(loss.forward_backward_hessian(x1, x2, Column::Zero(3), g1, g2, h1, h2), lossfn::shape_error);
  const lossfn::Contrastive<lossfn::None> none;
  CHECK_THROWS_WITH(none.hessian_diagonal(x1, x2, y, Column::Ones(5)),
                    "lossfn::Contrastive::hessian_diagonal: x1 is 4x3 but upstream is 5x1 (expected 4x1)");
  y(3) = 0.5;
  CHECK_THROWS_WITH(
      loss.forward_backward_hessian(x1, x2, y, g1, g2, h1, h2),
      lossfn_test::ContainsSubstring("lossfn::Contrastive::forward_backward_hessian: label at row 3 is 0.5"));
  CHECK_THROWS_AS(loss.hessian_diagonal(x1, x2, y), std::out_of_range);
  CHECK_THROWS_AS(none.hessian_diagonal(x1, x2, y, Column::Ones(4)), std::out_of_range);
  // a bad label in the last row also leaves Maps over raw buffers and resizable outputs as they were
  std::vector<double> raw(4 * 3 * 4, 42.0);
  using Map = Eigen::Map<ArrayCM>;
  Map r1(raw.data(), 4, 3), r2(raw.data() + 12, 4, 3), r3(raw.data() + 24, 4, 3), r4(raw.data() + 36, 4, 3);
  CHECK_THROWS_AS(loss.forward_backward_hessian(x1, x2, y, r1, r2, r3, r4), std::out_of_range);
  CHECK(std::all_of(raw.begin(), raw.end(), [](double v) { return v == 42.0; }));
  ArrayCM e1, e2, e3(2, 2), e4(1, 7);
  e3.setConstant(42.0);
  e4.setConstant(42.0);
  CHECK_THROWS_AS(loss.forward_backward_hessian(x1, x2, y, e1, e2, e3, e4), std::out_of_range);
  CHECK(e1.size() == 0);
  CHECK(e3.rows() == 2);
  CHECK((e3 == 42.0).all());
  CHECK(e4.cols() == 7);
  CHECK((e4 == 42.0).all());
  // Mean over no pair
  const ArrayCM empty(0, 3);
  CHECK_THROWS_AS(loss.forward_backward_hessian(empty, empty, Column(0), g1, g2, h1, h2), std::invalid_argument);
  CHECK_THROWS_AS(loss.hessian_diagonal(empty, empty, Column(0)), std::invalid_argument);
  CHECK(lossfn::Contrastive<lossfn::Sum>{}.hessian_diagonal(empty, empty, Column(0)).dx1.size() == 0);
  CHECK(untouched());
  // and the same calls with good arguments do write
  y(3) = 1;
  loss.forward_backward_hessian(x1, x2, y, r1, r2, r3, r4);
  CHECK_FALSE(std::all_of(raw.begin() + 24, raw.end(), [](double v) { return v == 42.0; }));
}
