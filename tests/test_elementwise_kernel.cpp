// The elementwise kernel below the public losses (include/lossfn/detail/elementwise.hpp):
// canonical views of every storage order and stride, broadcast operands (an m x 1
// or 1 x d operand over an m x d input, as weights and Quantile's taus will need),
// several inputs and outputs, and the "terms may be negative" path of the float sums.
#include <lossfn/detail/elementwise.hpp>
#include <lossfn/mse.hpp>

#include <array>
#include <cmath>

#include "catch.hpp"
#include "gradient_check.hpp"

namespace {

using lossfn::detail::Emit;
using lossfn::detail::mut_view_t;
using lossfn::detail::run_elementwise;
using lossfn::detail::TermOp;
using lossfn::detail::view_t;

/// A math of (pred, target) whose terms have either sign: value p t, slope t.
struct Product {
  static constexpr bool negative_terms = true;
  template <class P, class T>
  auto value(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return p * t;
  }
  template <class P, class T>
  auto slope(const Eigen::ArrayBase<P>&, const Eigen::ArrayBase<T>& t) const {
    return t.derived();
  }
};

/// The same math declared non-negative (wrongly): the float fast path then keeps
/// the float block sums.
struct ProductNoFlag {
  template <class P, class T>
  auto value(const Eigen::ArrayBase<P>& p, const Eigen::ArrayBase<T>& t) const {
    return p * t;
  }
  template <class P, class T>
  auto slope(const Eigen::ArrayBase<P>&, const Eigen::ArrayBase<T>& t) const {
    return t.derived();
  }
};

/// A kernel operation with two outputs: the squared error's slope and value.
struct Both {
  static constexpr bool sums = true;
  static constexpr bool negative_terms = false;
  template <bool Write, class A, class In, class Out>
  A step(A acc, const In& in, Out& out) const {
    if constexpr (Write) {
      out[0] = 2.0 * (in[0] - in[1]);
      out[1] = (in[0] - in[1]).square();
    }
    return lossfn::detail::add_terms(acc, (in[0] - in[1]).square());
  }
};

using ArrayCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class S, std::size_t N>
std::array<mut_view_t<S>, N> no_outputs() {
  return {};
}

/// out = slope(p, t) * u, sum = sum value(p, t) over the broadcast operands.
template <class Pred, class U>
void check_broadcast(const Pred& pred, const ArrayCM& target_col, const U& upstream) {
  const Eigen::Index m = pred.rows(), d = pred.cols();
  const auto p = lossfn::detail::view_of(pred);
  const auto t = lossfn::detail::broadcast(lossfn::detail::view_of(target_col), m, d);
  const auto u = lossfn::detail::broadcast(lossfn::detail::view_of(upstream), m, d);
  // the references, with the broadcasts spelled out
  const ArrayCM t_full = target_col.replicate(1, d);
  const bool column = upstream.rows() == m && upstream.cols() == 1;
  const ArrayCM u_full = column ? ArrayCM(upstream.replicate(1, d)) : ArrayCM(upstream.replicate(m, 1));
  const ArrayCM p_full = pred;

  const TermOp<Product, double, true, Emit::nothing> sum_op{{}, 0.0};
  const double total = run_elementwise<double>(sum_op, std::array<view_t<double>, 2>{{p, t}}, no_outputs<double, 0>());
  CHECK(total == Approx((p_full * t_full).sum()).epsilon(1e-12));

  ArrayRM out = ArrayRM::Constant(m, d, 99.0);  // the other storage order than pred's, on purpose
  const TermOp<Product, double, false, Emit::upstream_slope> vjp{{}, 0.0};
  run_elementwise<double>(vjp, std::array<view_t<double>, 3>{{p, t, u}},
                          std::array<mut_view_t<double>, 1>{{lossfn::detail::mut_view_of(out)}});
  CHECK(lossfn_test::max_error(out, t_full * u_full) == 0.0);
}

}  // namespace

TEST_CASE("Kernel: an m x 1 and a 1 x d operand broadcast over an m x d input, any order, across blocks") {
  for (const Eigen::Index m : {1, 7, 3000}) {
    for (const Eigen::Index d : {1, 5}) {
      CAPTURE(m, d);
      const ArrayCM pred = lossfn_test::random_array<ArrayCM>(m, d, 1);
      const ArrayRM pred_rm = pred;
      const ArrayCM target = lossfn_test::random_array<ArrayCM>(m, 1, 2);
      const ArrayCM per_row = lossfn_test::random_array<ArrayCM>(m, 1, 3);
      const Eigen::Array<double, 1, Eigen::Dynamic> per_column = lossfn_test::random_array<ArrayCM>(1, d, 4);
      check_broadcast(pred, target, per_row);
      check_broadcast(pred, target, per_column);
      check_broadcast(pred_rm, target, per_row);
      check_broadcast(pred_rm, target, per_column);
      // a strided pred: every other row of a taller buffer
      ArrayCM tall = ArrayCM::Zero(2 * m, d);
      for (Eigen::Index i = 0; i < m; ++i) tall.row(2 * i) = pred.row(i);
      const Eigen::Map<const ArrayCM, 0, Eigen::Stride<Eigen::Dynamic, 2>> strided(
          tall.data(), m, d, Eigen::Stride<Eigen::Dynamic, 2>(2 * m, 2));
      check_broadcast(strided, target, per_row);
    }
  }
}

TEST_CASE("Kernel: terms of either sign are summed in the accumulation type, not in float blocks") {
  // every float lane sees 1e8, then 1, then -1e8 (64 floats per sweep step): the
  // float lane sums end at 0, the exact sum is 64 per 192 terms
  const Eigen::Index n = 192 * 30;  // several kernel blocks
  Eigen::ArrayXf pred(n), target = Eigen::ArrayXf::Ones(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index phase = (i % 192) / 64;
    pred(i) = phase == 0 ? 1e8f : phase == 1 ? 1.0f : -1e8f;
  }
  const auto p = lossfn::detail::view_of(pred);
  const auto t = lossfn::detail::view_of(target);
  const std::array<view_t<float>, 2> in{{p, t}};
  const double flagged =
      run_elementwise<double>(TermOp<Product, float, true, Emit::nothing>{{}, 0.0f}, in, no_outputs<float, 0>());
  CHECK(flagged == 64.0 * 30);
  // the check means something: the float block sum of the same terms loses them
  const double unflagged =
      run_elementwise<double>(TermOp<ProductNoFlag, float, true, Emit::nothing>{{}, 0.0f}, in, no_outputs<float, 0>());
  CHECK(unflagged != 64.0 * 30);
}

TEST_CASE("Kernel: two outputs of one sweep, and views of every wrapper land on one view type") {
  const ArrayCM pred = lossfn_test::random_array<ArrayCM>(40, 3, 5),
                target = lossfn_test::random_array<ArrayCM>(40, 3, 6);
  // the canonical view type does not depend on the wrapper
  const Eigen::MatrixXd matrix = pred.matrix();
  const Eigen::Ref<const Eigen::MatrixXd> ref = matrix;
  STATIC_REQUIRE(std::is_same<decltype(lossfn::detail::view_of(pred)), view_t<double>>::value);
  STATIC_REQUIRE(std::is_same<decltype(lossfn::detail::view_of(ref)), view_t<double>>::value);
  STATIC_REQUIRE(std::is_same<decltype(lossfn::detail::view_of(matrix.block(1, 1, 3, 2))), view_t<double>>::value);
  STATIC_REQUIRE(std::is_same<decltype(lossfn::detail::view_of(pred.transpose())), view_t<double>>::value);

  // an operation writing the slope and the value at once (Both)
  ArrayCM slope(40, 3);
  ArrayRM value(40, 3);
  const double total = run_elementwise<double>(
      Both{}, std::array<view_t<double>, 2>{{lossfn::detail::view_of(pred), lossfn::detail::view_of(target)}},
      std::array<mut_view_t<double>, 2>{{lossfn::detail::mut_view_of(slope), lossfn::detail::mut_view_of(value)}});
  CHECK(total == Approx(lossfn::MSE<lossfn::Sum>{}.forward(pred, target)).epsilon(1e-14));
  CHECK(lossfn_test::max_error(slope, lossfn::MSE<lossfn::Sum>{}.backward(pred, target)) == 0.0);
  CHECK(lossfn_test::max_error(value, lossfn::MSE<lossfn::None>{}.forward(pred, target)) == 0.0);
  // a transposed input is read through its steps
  const ArrayCM pred_t = pred.transpose(), target_t = target.transpose();
  const TermOp<lossfn::detail::OfError<lossfn::MSE<lossfn::Sum>>, double, true, Emit::nothing> squares{{}, 0.0};
  const double transposed =
      run_elementwise<double>(squares,
                              std::array<view_t<double>, 2>{{lossfn::detail::view_of(pred_t.transpose()),
                                                             lossfn::detail::view_of(target_t.transpose())}},
                              no_outputs<double, 0>());
  CHECK(transposed == Approx(total).epsilon(1e-14));
}
