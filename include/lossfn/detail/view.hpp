/// @file
/// Canonical views: what every public call turns its dense arguments into before
/// any kernel sees them.
///
/// A kernel templated on the caller's Eigen types is compiled again for every
/// wrapper (Array, Matrix, Map, Block, Ref, Transpose, ...) and every mix of them
/// across pred, target and the outputs. Here each argument with direct access
/// becomes one strided map per scalar type, `view_t<S>` (read) or `mut_view_t<S>`
/// (write): a pointer, rows, cols and the step between rows and between columns.
/// The storage order is in those steps (a row-major m x d block has a row step of
/// its outer stride and a column step of 1), so the kernels behind the boundary
/// are compiled once per scalar type, and they recover the contiguous fast path
/// at run time from the steps. A step of 0 repeats a row or a column: that is how
/// an m x 1 or 1 x d operand is broadcast over an m x d input.
#pragma once

#include <Eigen/Core>

#include <type_traits>

namespace lossfn {
namespace detail {

/// The stride of the canonical views: Eigen's Stride<outer, inner> of a column-major
/// map is (column step, row step), both chosen at run time.
using view_stride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;

/// The one read-only view type per scalar: coefficient (i, j) at
/// data[i * innerStride() + j * outerStride()].
template <class S>
using view_t = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>, Eigen::Unaligned, view_stride>;

/// The writable counterpart of view_t, for outputs.
template <class S>
using mut_view_t = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>, Eigen::Unaligned, view_stride>;

/// An argument as the kernels read it: objects with direct memory access (Array,
/// Matrix, Map, Block, Ref) are used in place; any other expression is evaluated
/// once into its plain object, so that blocked kernels never re-evaluate it.
template <class Derived>
using operand_t = std::conditional_t<(Derived::Flags & Eigen::DirectAccessBit) != 0, const Derived&,
                                     const typename Derived::PlainObject>;

/// The step between consecutive rows and consecutive columns of x, whatever its
/// storage order: Eigen's inner stride runs along the storage order, the outer
/// stride across it.
template <class Derived>
view_stride steps_of(const Eigen::DenseBase<Derived>& x) {
  const auto& d = x.derived();
  const Eigen::Index inner = d.innerStride(), outer = d.outerStride();
  // view_stride(outer, inner) = (column step, row step) of a column-major map
  return Derived::IsRowMajor ? view_stride(inner, outer) : view_stride(outer, inner);
}

/// The canonical read view of an argument with direct access (an operand_t).
template <class Derived>
view_t<typename Derived::Scalar> view_of(const Eigen::DenseBase<Derived>& x) {
  static_assert((Derived::Flags & Eigen::DirectAccessBit) != 0,
                "lossfn internal: view_of takes an object with direct access (evaluate expressions first: operand_t)");
  return view_t<typename Derived::Scalar>(x.derived().data(), x.rows(), x.cols(), steps_of(x));
}

/// The canonical write view of a caller's output (an Array, Matrix, Map, Block or
/// Ref already of the right shape; see prepare_output).
template <class Derived>
mut_view_t<typename Derived::Scalar> mut_view_of(Eigen::DenseBase<Derived>& x) {
  static_assert((Derived::Flags & Eigen::DirectAccessBit) != 0 && (Derived::Flags & Eigen::LvalueBit) != 0,
                "lossfn: an output must be a writable object with direct access (Array, Matrix, Map, Block, Ref)");
  return mut_view_t<typename Derived::Scalar>(x.derived().data(), x.rows(), x.cols(), steps_of(x));
}

/// A read view of an m x 1 column or a 1 x d row repeated over rows x cols (a step
/// of 0 along the repeated direction); an operand of the full shape is viewed as
/// is. The caller checks the shape first.
template <class S>
view_t<S> broadcast(const view_t<S>& x, Eigen::Index rows, Eigen::Index cols) {
  const Eigen::Index row_step = x.rows() == rows ? x.innerStride() : 0;
  const Eigen::Index col_step = x.cols() == cols ? x.outerStride() : 0;
  return view_t<S>(x.data(), rows, cols, view_stride(col_step, row_step));
}

/// Ordered views, for kernels that vectorise along the storage order (the row-wise
/// softmax kernel of CrossEntropy and KLDivergence, whose pieces are Eigen segment
/// expressions): as view_t, but with the storage order and a unit inner stride kept
/// at compile time, so Eigen still emits packet code for the pieces. One
/// instantiation per (scalar, storage order, unit or general inner stride), still
/// never per wrapper type.
template <class Derived>
struct ordered_view_traits {
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

/// The ordered read view of an argument with direct access (an operand_t).
template <class Derived>
typename ordered_view_traits<Derived>::view ordered_view_of(const Eigen::DenseBase<Derived>& x) {
  const Derived& d = x.derived();
  return typename ordered_view_traits<Derived>::view(d.data(), d.rows(), d.cols(),
                                                     ordered_view_traits<Derived>::stride(d));
}

/// The ordered write view of an output (after prepare_output).
template <class Derived>
typename ordered_view_traits<Derived>::mutable_view ordered_mut_view_of(Derived& out) {
  return typename ordered_view_traits<Derived>::mutable_view(out.data(), out.rows(), out.cols(),
                                                             ordered_view_traits<Derived>::stride(out));
}

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

}  // namespace detail
}  // namespace lossfn
