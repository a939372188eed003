/// @file
/// Error types, the replaceable error handler and every argument check of lossfn.
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

#if defined(LOSSFN_NO_EXCEPTIONS)
// explicitly requested
#elif !(defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND))
#define LOSSFN_NO_EXCEPTIONS
#endif

namespace lossfn {

/// Thrown when the shapes of a call's arguments do not fit together. The message
/// names the loss, the function and both shapes, e.g.
/// `lossfn::MSE::forward: pred is 3x2 but target is 2x3`.
class shape_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// What kind of check failed; with exceptions it selects the exception type.
enum class error_kind {
  shape,             ///< lossfn::shape_error
  invalid_argument,  ///< std::invalid_argument (bad option, empty input under Mean)
  out_of_range       ///< std::out_of_range (class index, contrastive label)
};

/// Called, when lossfn is built without exceptions, with the kind and the full
/// message of a failed check. If it returns, std::abort() follows.
using error_handler = void (*)(error_kind kind, const char* message);

namespace detail {

inline void default_error_handler(error_kind /*kind*/, const char* message) {
  std::fputs(message, stderr);
  std::fputc('\n', stderr);
}

inline std::atomic<error_handler>& error_handler_slot() {
  static std::atomic<error_handler> slot{&default_error_handler};
  return slot;
}

}  // namespace detail

/// Replaces the handler used without exceptions; returns the previous one.
/// Passing nullptr restores the default (message to stderr, then abort).
inline error_handler set_error_handler(error_handler handler) noexcept {
  return detail::error_handler_slot().exchange(handler != nullptr ? handler : &detail::default_error_handler);
}

namespace detail {

/// Raises a failed check: throws the exception of `kind`, or without exceptions
/// calls the user's handler and aborts.
[[noreturn]] inline void raise(error_kind kind, const std::string& message) {
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

template <class A, class B>
void check_same_shape(const char* loss, const char* function, const char* a_name, const Eigen::EigenBase<A>& a,
                      const char* b_name, const Eigen::EigenBase<B>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    raise(error_kind::shape, where(loss, function) + a_name + " is " + shape_string(a.rows(), a.cols()) + " but " +
                                 b_name + " is " + shape_string(b.rows(), b.cols()));
  }
}

/// A column of one entry per sample (row) of `samples`: m x 1, or 1 x m when m == 1.
template <class A, class B>
void check_column_per_row(const char* loss, const char* function, const char* a_name, const Eigen::EigenBase<A>& a,
                          const char* b_name, const Eigen::EigenBase<B>& b) {
  if (b.cols() != 1 || b.rows() != a.rows()) {
    raise(error_kind::shape, where(loss, function) + a_name + " is " + shape_string(a.rows(), a.cols()) + " but " +
                                 b_name + " is " + shape_string(b.rows(), b.cols()) + " (expected " +
                                 shape_string(a.rows(), 1) + ")");
  }
}

/// Mean over zero terms has no value: an error, where Sum simply returns 0.
template <class Reduction>
void check_terms(const char* loss, const char* function, Eigen::Index terms) {
  if (Reduction::divides_by_count && terms == 0) {
    raise(error_kind::invalid_argument,
          where(loss, function) + "empty input: the Mean of zero terms is undefined (use Sum, which gives 0)");
  }
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
template <class Pred, class Other>
constexpr void require_same_scalar() {
  static_assert(std::is_floating_point<scalar_t<Pred>>::value,
                "lossfn: pred must have a floating-point scalar type (float, double or long double)");
  static_assert(std::is_same<scalar_t<Pred>, scalar_t<Other>>::value,
                "lossfn: all floating-point arguments of a loss must share pred's scalar type "
                "(mixing float and double is not allowed; use .template cast<T>())");
}

}  // namespace detail
}  // namespace lossfn
