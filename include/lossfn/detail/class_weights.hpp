/// @file
/// Checks shared by the losses that take one weight per class (class_weights) or
/// class-index targets: the option's values at construction, its length at the
/// call, and each index target's range, with the messages of CrossEntropy's.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <string>
#include <type_traits>

#include "checks.hpp"

namespace lossfn {
namespace detail {

/// At construction: every class weight finite and >= 0, else std::invalid_argument.
inline void check_class_weights_option(const char* loss, const Eigen::ArrayXd& w) {
  for (Eigen::Index k = 0; k < w.size(); ++k) {
    check_option(
        std::isfinite(w(k)) && w(k) >= 0, loss,
        "class_weights must be finite and >= 0, got " + number_string(w(k)) + " for class " + std::to_string(k));
  }
}

/// At the call: class_weights empty or of one entry per column of pred, else lossfn::shape_error.
template <class P>
void check_class_weights_length(const char* loss, const char* function, const Eigen::ArrayXd& w,
                                const Eigen::EigenBase<P>& pred) {
  const Eigen::Index n = w.size();
  if (n != 0 && n != pred.cols()) {
    raise(error_kind::shape, where(loss, function) + "class_weights has " + std::to_string(n) +
                                 " entries but pred is " + shape_string(pred.rows(), pred.cols()) + " (" +
                                 std::to_string(pred.cols()) + " classes)");
  }
}

/// 0 <= v < classes, for any integer type of v (no sign-conversion surprises).
template <class I>
bool is_class_index(I v, Eigen::Index classes) {
  if constexpr (std::is_signed<I>::value) {
    return v >= 0 && static_cast<long long>(v) < static_cast<long long>(classes);
  } else {
    return static_cast<unsigned long long>(v) < static_cast<unsigned long long>(classes);
  }
}

/// Every entry of an m x 1 integer column of class indices in [0, classes), else
/// std::out_of_range naming the first bad row and its value.
template <class T>
void check_class_indices(const char* loss, const char* function, const T& target, Eigen::Index classes) {
  using I = typename T::Scalar;
  for (Eigen::Index i = 0; i < target.rows(); ++i) {
    const I v = target(i, 0);
    if (is_class_index(v, classes)) continue;
    const std::string value = std::is_signed<I>::value ? std::to_string(static_cast<long long>(v))
                                                       : std::to_string(static_cast<unsigned long long>(v));
    raise(error_kind::out_of_range, where(loss, function) + "target at row " + std::to_string(i) + " is " + value +
                                        ", not a class index in [0, " + std::to_string(classes) + ")");
  }
}

}  // namespace detail
}  // namespace lossfn
