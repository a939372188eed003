/// @file
/// The call driver of the losses of pairs of rows: two m x d inputs (x1, x2) and one
/// value per row (the label), one term per row, a gradient per input. It does for
/// them what Driver (driver.hpp) does for the losses whose arguments all have pred's
/// shape: checks -> count -> output preparation -> kernel -> scale, for forward,
/// backward, backward with upstream (None) and forward_backward, so the loss
/// supplies only its math.
///
/// The kernel program sees views only: x1, x2 and the outputs as ordered views
/// (storage order and unit inner stride kept at compile time, so its row pieces stay
/// vectorised), the per-row operand and upstream as strided columns.
#pragma once

#include <Eigen/Core>

#include <type_traits>

#include "accumulate.hpp"
#include "checks.hpp"
#include "operand.hpp"
#include "view.hpp"

namespace lossfn {
namespace detail {

/// Placeholder for an output a call does not write (the kernel skips its work).
struct Skip {};

/// Whether the rows of an m x 1 argument are contiguous at compile time (a vector,
/// or a column-major column): its view then reads them as packets.
template <class Derived>
constexpr bool contiguous_column = Derived::ColsAtCompileTime == 1 && Derived::InnerStrideAtCompileTime == 1;

/// A read view of an m x 1 operand of any scalar (labels, upstream): contiguous when
/// Derived's rows are (converting a strided column measured ~10% of a 256 x 32
/// Contrastive forward), strided otherwise.
template <class Derived>
using strided_column_t = Eigen::Map<const Eigen::Array<typename Derived::Scalar, Eigen::Dynamic, 1>, Eigen::Unaligned,
                                    Eigen::InnerStride<contiguous_column<Derived> ? 1 : Eigen::Dynamic>>;

/// The column view of an m x 1 argument with direct access, whatever its storage order.
template <class Derived>
strided_column_t<Derived> strided_column_of(const Eigen::DenseBase<Derived>& x) {
  const auto& d = x.derived();
  if constexpr (contiguous_column<Derived>) {
    return strided_column_t<Derived>(d.data(), d.rows());
  } else {
    const Eigen::Index row_step = Derived::IsRowMajor ? d.outerStride() : d.innerStride();
    return strided_column_t<Derived>(d.data(), d.rows(), Eigen::InnerStride<>(row_step));
  }
}

/// What the kernel program reads. weight is the factor of every row's gradient: the
/// reduction's scale (an Acc: 1 for Sum, 1/m for Mean) or the upstream column (None).
template <class X1, class X2, class Y, class W>
struct RowInputs {
  X1 x1;     ///< m x d
  X2 x2;     ///< m x d
  Y row;     ///< m x 1, the per-row operand (labels)
  W weight;  ///< an Acc or an m x 1 column view
};

/// What the kernel program writes, each a view or Skip: the per-row terms (None's
/// forward), then one gradient per differentiated input.
template <class L, class G1, class G2>
struct RowOutputs {
  L terms;  ///< m x 1
  G1 dx1;   ///< m x d, dL/dx1
  G2 dx2;   ///< m x d, dL/dx2
};

/// The driver. A Loss provides `name`, `reduction`, `row_operand_name` ("labels"),
/// `template <class P> using gradients` (an aggregate {dx1, dx2} of P), and:
///   template <class Y> void check_rows(const char* function, const Y& row_operand) const
///       the per-row operand's own checks (types, values), after the shapes
///   template <class In, class Out> Acc rows(const In&, Out) const
///       the kernel program: writes through the views Out holds (taken by value:
///       views are cheap, and a copy is writable), returns the sum of the terms
/// and grants the driver access (`friend struct detail::RowTermsDriver`).
struct RowTermsDriver {
  template <class Loss, class X1, class X2, class Y>
  static auto forward(const Loss& loss, const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                      const Eigen::DenseBase<Y>& y) {
    using R = typename Loss::reduction;
    using S = scalar_t<X1>;
    using Acc = accumulator_t<S>;
    check_inputs(loss, "forward", x1, x2, y);
    operand_t<X1> a = x1.derived();
    operand_t<X2> b = x2.derived();
    operand_t<Y> labels = y.derived();
    const auto in = inputs(a, b, labels, Acc(0));
    if constexpr (R::reduces) {
      const Acc total = loss.rows(in, RowOutputs<Skip, Skip, Skip>{});
      return static_cast<S>(total * R::scale(static_cast<Acc>(x1.rows())));
    } else {
      column_t<X1> terms(x1.rows());
      using Column = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>>;
      loss.rows(in, RowOutputs<Column, Skip, Skip>{Column(terms.data(), terms.rows()), {}, {}});
      return terms;
    }
  }

  template <class Loss, class X1, class X2, class Y>
  static auto backward(const Loss& loss, const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                       const Eigen::DenseBase<Y>& y) {
    using R = typename Loss::reduction;
    static_assert(R::reduces,
                  "lossfn: with the None reduction, backward takes the upstream gradient: "
                  "backward(x1, x2, y, upstream)");
    using Acc = accumulator_t<scalar_t<X1>>;
    check_inputs(loss, "backward", x1, x2, y);
    auto g = gradients<Loss, X1>(x1.rows(), x1.cols());
    operand_t<X1> a = x1.derived();
    operand_t<X2> b = x2.derived();
    operand_t<Y> labels = y.derived();
    run_gradients(loss, inputs(a, b, labels, R::scale(static_cast<Acc>(x1.rows()))), g.dx1, g.dx2);
    return g;
  }

  template <class Loss, class X1, class X2, class Y, class U>
  static auto backward(const Loss& loss, const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                       const Eigen::DenseBase<Y>& y, const Eigen::DenseBase<U>& upstream) {
    static_assert(!Loss::reduction::reduces,
                  "lossfn: backward(x1, x2, y, upstream) is for the None reduction; "
                  "Sum and Mean take backward(x1, x2, y)");
    require_same_scalar<X1, U>();
    check_inputs(loss, "backward", x1, x2, y);
    check_column_per_row(Loss::name, "backward", "x1", x1, "upstream", upstream);
    auto g = gradients<Loss, X1>(x1.rows(), x1.cols());
    operand_t<X1> a = x1.derived();
    operand_t<X2> b = x2.derived();
    operand_t<Y> labels = y.derived();
    operand_t<U> u = upstream.derived();
    run_gradients(loss, inputs(a, b, labels, strided_column_of(u)), g.dx1, g.dx2);
    return g;
  }

  template <class Loss, class X1, class X2, class Y, class G1, class G2>
  static scalar_t<X1> forward_backward(const Loss& loss, const Eigen::DenseBase<X1>& x1, const Eigen::DenseBase<X2>& x2,
                                       const Eigen::DenseBase<Y>& y, const Eigen::DenseBase<G1>& g1,
                                       const Eigen::DenseBase<G2>& g2) {
    using R = typename Loss::reduction;
    static_assert(R::reduces,
                  "lossfn: forward_backward needs a reducing policy (Sum or Mean); with None, "
                  "call forward and backward(x1, x2, y, upstream)");
    using S = scalar_t<X1>;
    using Acc = accumulator_t<S>;
    require_same_scalar<X1, G1>();
    require_same_scalar<X1, G2>();
    check_inputs(loss, "forward_backward", x1, x2, y);
    check_output(Loss::name, "forward_backward", "g1", g1, "x1", x1.rows(), x1.cols());
    check_output(Loss::name, "forward_backward", "g2", g2, "x1", x1.rows(), x1.cols());
    operand_t<X1> a = x1.derived();
    operand_t<X2> b = x2.derived();
    operand_t<Y> labels = y.derived();
    G1& out1 = prepare_output(g1, x1.rows(), x1.cols());
    G2& out2 = prepare_output(g2, x1.rows(), x1.cols());
    const Acc scale = R::scale(static_cast<Acc>(x1.rows()));
    const Acc total = run_gradients(loss, inputs(a, b, labels, scale), out1, out2);
    return static_cast<S>(total * scale);
  }

 private:
  /// A column of m values of x1's kind (Array or Matrix) and scalar: None's forward.
  template <class P>
  using column_t = std::conditional_t<std::is_base_of<Eigen::ArrayBase<P>, P>::value,
                                      Eigen::Array<typename P::Scalar, Eigen::Dynamic, 1>,
                                      Eigen::Matrix<typename P::Scalar, Eigen::Dynamic, 1>>;

  /// Every check of a call, O(m), before anything is written.
  template <class Loss, class X1, class X2, class Y>
  static void check_inputs(const Loss& loss, const char* function, const Eigen::DenseBase<X1>& x1,
                           const Eigen::DenseBase<X2>& x2, const Eigen::DenseBase<Y>& y) {
    require_same_scalar<X1, X2>();
    check_same_shape(Loss::name, function, "x1", x1, "x2", x2);
    check_column_per_row(Loss::name, function, "x1", x1, Loss::row_operand_name, y);
    check_terms<typename Loss::reduction>(Loss::name, function, x1.rows());
    loss.check_rows(function, y.derived());
  }

  template <class A, class B, class Y, class W>
  static auto inputs(const A& a, const B& b, const Y& labels, const W& weight) {
    using In =
        RowInputs<decltype(ordered_view_of(a)), decltype(ordered_view_of(b)), decltype(strided_column_of(labels)), W>;
    return In{ordered_view_of(a), ordered_view_of(b), strided_column_of(labels), weight};
  }

  template <class Loss, class X1>
  static auto gradients(Eigen::Index m, Eigen::Index d) {
    using P = typename X1::PlainObject;
    return typename Loss::template gradients<P>{P(m, d), P(m, d)};
  }

  template <class Loss, class In, class G1, class G2>
  static auto run_gradients(const Loss& loss, const In& in, G1& g1, G2& g2) {
    using Out1 = decltype(ordered_mut_view_of(g1));
    using Out2 = decltype(ordered_mut_view_of(g2));
    return loss.rows(in, RowOutputs<Skip, Out1, Out2>{{}, ordered_mut_view_of(g1), ordered_mut_view_of(g2)});
  }
};

}  // namespace detail
}  // namespace lossfn
