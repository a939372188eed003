/// @file
/// How lossfn holds its arguments and writes its outputs.
#pragma once

#include <Eigen/Core>

#include <type_traits>

#include "accumulate.hpp"
#include "checks.hpp"
#include "view.hpp"

namespace lossfn {
namespace detail {

/// An array view of a Matrix or an Array (Eigen forbids mixing the two in expressions).
template <class Derived>
const Derived& as_array(const Eigen::ArrayBase<Derived>& x) {
  return x.derived();
}
template <class Derived>
Eigen::ArrayWrapper<const Derived> as_array(const Eigen::MatrixBase<Derived>& x) {
  return x.array();
}

/// out = expr, where out may be a Matrix-kind block and expr an array expression.
template <class Out, class Expr>
void assign(Out&& out, const Expr& expr) {
  if constexpr (std::is_base_of<Eigen::MatrixBase<std::decay_t<Out>>, std::decay_t<Out>>::value) {
    out.array() = expr;
  } else {
    out = expr;
  }
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
