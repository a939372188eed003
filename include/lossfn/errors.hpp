/// @file
/// lossfn's error types and the handler used when exceptions are off.
///
/// With exceptions (the default), a failed check throws lossfn::shape_error (shapes
/// that do not fit together), std::invalid_argument (bad options, Mean over an empty
/// input) or std::out_of_range (a class index, a label or a weight outside its range).
/// Built with -fno-exceptions (or LOSSFN_NO_EXCEPTIONS), it calls the handler set with
/// lossfn::set_error_handler and then aborts.
#pragma once

#include <atomic>
#include <cstdio>
#include <stdexcept>

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

}  // namespace lossfn
