/// @file
/// Every argument check of lossfn (the error types are in <lossfn/errors.hpp>).
///
/// All checks cost O(1) or O(m) and stay on in release builds (they are not
/// `eigen_assert`s, which NDEBUG removes). Every check of a call runs before the
/// call writes any output, so a call that fails leaves the caller's buffers as
/// they were.
#pragma once

#include <Eigen/Core>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "../errors.hpp"

namespace lossfn {
namespace detail {

#if defined(__GNUC__) || defined(__clang__)
/// Marks the functions that build and raise an error: out of line and off the hot
/// path, so a loss's inlined call carries one compare and one call per check, not
/// the string building behind it.
#define LOSSFN_COLD __attribute__((cold, noinline))
#else
#define LOSSFN_COLD
#endif

/// Raises a failed check: throws the exception of `kind`, or without exceptions
/// calls the user's handler and aborts.
[[noreturn]] LOSSFN_COLD inline void raise(error_kind kind, const std::string& message) {
#if defined(LOSSFN_NO_EXCEPTIONS)
  error_handler_slot().load()(kind, message.c_str());
  std::abort();
#else
  switch (kind) {
    case error_kind::shape:
      throw shape_error(message);
    case error_kind::out_of_range:
      throw std::out_of_range(message);
    case error_kind::invalid_argument:
      break;
  }
  throw std::invalid_argument(message);
#endif
}

/// "lossfn::MSE::forward: " -- the prefix of every message.
inline std::string where(const char* loss, const char* function) {
  return std::string("lossfn::") + loss + "::" + function + ": ";
}

inline std::string shape_string(Eigen::Index rows, Eigen::Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

/// "lossfn::L::f: a is RxC but b is RxC[ (expected RxC)]", raised as a shape_error.
[[noreturn]] LOSSFN_COLD inline void raise_shape(const char* loss, const char* function, const char* a_name,
                                                 Eigen::Index a_rows, Eigen::Index a_cols, const char* b_name,
                                                 Eigen::Index b_rows, Eigen::Index b_cols,
                                                 Eigen::Index expected_rows = -1, Eigen::Index expected_cols = -1) {
  std::string message = where(loss, function) + a_name + " is " + shape_string(a_rows, a_cols) + " but " + b_name +
                        " is " + shape_string(b_rows, b_cols);
  if (expected_rows >= 0) message += " (expected " + shape_string(expected_rows, expected_cols) + ")";
  raise(error_kind::shape, message);
}

inline void check_same_shape(const char* loss, const char* function, const char* a_name, Eigen::Index a_rows,
                             Eigen::Index a_cols, const char* b_name, Eigen::Index b_rows, Eigen::Index b_cols) {
  if (a_rows != b_rows || a_cols != b_cols) raise_shape(loss, function, a_name, a_rows, a_cols, b_name, b_rows, b_cols);
}

template <class A, class B>
void check_same_shape(const char* loss, const char* function, const char* a_name, const Eigen::EigenBase<A>& a,
                      const char* b_name, const Eigen::EigenBase<B>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    raise_shape(loss, function, a_name, a.rows(), a.cols(), b_name, b.rows(), b.cols());
  }
}

/// A column of one entry per sample (row) of `samples`: m x 1, or 1 x m when m == 1.
template <class A, class B>
void check_column_per_row(const char* loss, const char* function, const char* a_name, const Eigen::EigenBase<A>& a,
                          const char* b_name, const Eigen::EigenBase<B>& b) {
  if (b.cols() != 1 || b.rows() != a.rows()) {
    raise_shape(loss, function, a_name, a.rows(), a.cols(), b_name, b.rows(), b.cols(), a.rows(), 1);
  }
}

[[noreturn]] LOSSFN_COLD inline void raise_empty_mean(const char* loss, const char* function) {
  raise(error_kind::invalid_argument,
        where(loss, function) + "empty input: the Mean of zero terms is undefined (use Sum, which gives 0)");
}

/// Mean over zero terms has no value: an error, where Sum simply returns 0.
template <class Reduction>
void check_terms(const char* loss, const char* function, Eigen::Index terms) {
  if (Reduction::divides_by_count && terms == 0) raise_empty_mean(loss, function);
}

inline void check_option(bool ok, const char* loss, const std::string& what) {
  if (!ok) raise(error_kind::invalid_argument, where(loss, "constructor") + what);
}

inline std::string number_string(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

// ---- compile-time contract ------------------------------------------------

template <class Derived>
using scalar_t = typename Derived::Scalar;

/// The scalar of pred must be floating point; every other argument must share it.
/// A class, so that the check costs no function instantiation:
/// `static_assert(same_scalar<P, T>::value);`.
template <class Pred, class Other>
struct same_scalar {
  static_assert(std::is_floating_point<scalar_t<Pred>>::value,
                "lossfn: pred must have a floating-point scalar type (float, double or long double)");
  static_assert(std::is_same<scalar_t<Pred>, scalar_t<Other>>::value,
                "lossfn: all floating-point arguments of a loss must share pred's scalar type "
                "(mixing float and double is not allowed; use .template cast<T>())");
  static constexpr bool value = true;
};

/// The same check as a call (same_scalar).
template <class Pred, class Other>
constexpr void require_same_scalar() {
  static_assert(same_scalar<Pred, Other>::value, "");
}

}  // namespace detail
}  // namespace lossfn
