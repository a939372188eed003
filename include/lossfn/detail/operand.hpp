/// @file
/// How lossfn holds its arguments and writes its outputs.
#pragma once

#include <Eigen/Core>

#include <type_traits>

#include "checks.hpp"

namespace lossfn {
namespace detail {

/// An argument as the kernels read it: objects with direct memory access (Array,
/// Matrix, Map, Block, Ref) are used in place; any other expression is evaluated
/// once into its plain object, so that blocked kernels never re-evaluate it.
template <class Derived>
using operand_t = std::conditional_t<(Derived::Flags & Eigen::DirectAccessBit) != 0, const Derived&,
                                     const typename Derived::PlainObject>;

/// The canonical view of a dense argument with direct access: a Map over its
/// memory that keeps only what the kernels care about (scalar, storage order, and
/// whether the inner stride is 1 at compile time). Kernels take views, so they are
/// instantiated once per (scalar, order, stride pattern), not once per Eigen
/// wrapper (Array, Matrix, Map, Block, Ref, Transpose of any of them).
template <class Derived>
struct view_traits {
  using Scalar = typename Derived::Scalar;
  static constexpr int order = bool(Derived::IsRowMajor) ? Eigen::RowMajor : Eigen::ColMajor;
  static constexpr bool unit_inner = Derived::InnerStrideAtCompileTime == 1;
  using Plain = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic, order>;
  using Stride = std::conditional_t<unit_inner, Eigen::OuterStride<>, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  using view = Eigen::Map<const Plain, Eigen::Unaligned, Stride>;
  using mutable_view = Eigen::Map<Plain, Eigen::Unaligned, Stride>;

  static Stride stride(const Derived& x) {
    if constexpr (unit_inner) {
      return Stride(x.outerStride());
    } else {
      return Stride(x.outerStride(), x.innerStride());
    }
  }
};

/// A read-only canonical view of x (x has direct access: an operand_t).
template <class Derived>
typename view_traits<Derived>::view view(const Eigen::DenseBase<Derived>& x) {
  const Derived& d = x.derived();
  return typename view_traits<Derived>::view(d.data(), d.rows(), d.cols(), view_traits<Derived>::stride(d));
}

/// A writable canonical view of out (an output after prepare_output).
template <class Derived>
typename view_traits<Derived>::mutable_view mutable_view(Derived& out) {
  return typename view_traits<Derived>::mutable_view(out.data(), out.rows(), out.cols(),
                                                     view_traits<Derived>::stride(out));
}

/// Sums of float terms are accumulated in double; double and long double in themselves.
template <class Scalar>
using accumulator_t = std::conditional_t<(sizeof(Scalar) < sizeof(double)), double, Scalar>;

/// An array view of a Matrix or an Array (Eigen forbids mixing the two in expressions).
template <class Derived>
const Derived& as_array(const Eigen::ArrayBase<Derived>& x) {
  return x.derived();
}
template <class Derived>
Eigen::ArrayWrapper<const Derived> as_array(const Eigen::MatrixBase<Derived>& x) {
  return x.array();
}

/// A new plain object of P's kind (Array or Matrix) holding an array expression,
/// built in one step: sizing an object and then assigning into it makes g++ 12
/// at -O2 report a false -Wuse-after-free inside Eigen when the call is inlined.
template <class P, class Expr>
typename P::PlainObject make_plain(const Expr& expr) {
  if constexpr (std::is_base_of<Eigen::MatrixBase<P>, P>::value) {
    return typename P::PlainObject(expr.matrix());
  } else {
    return typename P::PlainObject(expr);
  }
}

/// True when x's coefficients lie back to back in its storage order, so it can be
/// read as one flat vector of x.size() entries.
template <class Derived>
bool is_contiguous(const Eigen::DenseBase<Derived>& x) {
  const auto& d = x.derived();
  return d.innerStride() == 1 && (d.outerStride() == d.innerSize() || d.outerSize() <= 1);
}

/// True when b holds its coefficients in the same linear order as a: both
/// contiguous and either vectors or of the same storage order.
template <class A, class B>
bool same_linear_layout(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b) {
  const bool vector = a.rows() == 1 || a.cols() == 1;
  return is_contiguous(a) && is_contiguous(b) && (vector || bool(A::IsRowMajor) == bool(B::IsRowMajor));
}

template <class Derived>
using flat_t = Eigen::Map<const Eigen::Array<typename Derived::Scalar, Eigen::Dynamic, 1>>;
template <class Derived>
using flat_mut_t = Eigen::Map<Eigen::Array<typename Derived::Scalar, Eigen::Dynamic, 1>>;

template <class Derived>
flat_t<Derived> flat(const Eigen::DenseBase<Derived>& x) {
  return flat_t<Derived>(x.derived().data(), x.size());
}
template <class Derived>
flat_mut_t<Derived> flat_mut(Derived& x) {
  return flat_mut_t<Derived>(x.data(), x.size());
}

template <class Derived>
constexpr bool is_plain_object = std::is_base_of<Eigen::PlainObjectBase<Derived>, Derived>::value;

/// The caller's output object, made writable the way Eigen's docs show for
/// functions that take Block, Map and Ref temporaries.
template <class Derived>
Derived& writable(const Eigen::DenseBase<Derived>& out) {
  return const_cast<Derived&>(out.derived());
}

/// Checks that `out` can hold a rows x cols result: a resizable Array/Matrix may
/// have any shape (it is resized, the only allocation of a fused call, and only
/// when the shape differs); a Map, Block or Ref must already have the shape.
template <class Derived>
void check_output(const char* loss, const char* function, const char* out_name, const Eigen::DenseBase<Derived>& out,
                  const char* like_name, Eigen::Index rows, Eigen::Index cols) {
  const bool rows_ok = out.rows() == rows || (is_plain_object<Derived> && Derived::RowsAtCompileTime == Eigen::Dynamic);
  const bool cols_ok = out.cols() == cols || (is_plain_object<Derived> && Derived::ColsAtCompileTime == Eigen::Dynamic);
  if (!rows_ok || !cols_ok) raise_shape(loss, function, out_name, out.rows(), out.cols(), like_name, rows, cols);
}

/// Resizes `out` to rows x cols (after check_output, so it can only be a plain object).
template <class Derived>
Derived& prepare_output(const Eigen::DenseBase<Derived>& out, Eigen::Index rows, Eigen::Index cols) {
  Derived& o = writable(out);
  if constexpr (is_plain_object<Derived>) {
    if (o.rows() != rows || o.cols() != cols) o.resize(rows, cols);
  }
  return o;
}

}  // namespace detail
}  // namespace lossfn
