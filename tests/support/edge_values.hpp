// Hard inputs for the numerical edge tests each loss's file runs (formerly the
// cross-cutting test_edge_cases.cpp): short columns and two-row arrays written
// out by value, and the IEEE 754 constants the expected results are worked out
// with (round-to-nearest; no -ffast-math, denormals kept). Where the true value
// does not fit the type, the tests pin what is returned, and the README's
// "reliability" section lists those cases.
#pragma once

#include <Eigen/Core>

#include <initializer_list>
#include <limits>

namespace lossfn_test {
namespace edge {

template <class T>
using Col = Eigen::Array<T, Eigen::Dynamic, 1>;

template <class T>
using Rows = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A column of the given values.
template <class T>
Col<T> col(std::initializer_list<T> values) {
  Col<T> x(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (T v : values) x(i++) = v;
  return x;
}

/// A row-major 2 x n array of two rows of values.
template <class T>
Rows<T> rows2(std::initializer_list<T> first, std::initializer_list<T> second) {
  Rows<T> x(2, static_cast<Eigen::Index>(first.size()));
  Eigen::Index j = 0;
  for (T v : first) x(0, j++) = v;
  j = 0;
  for (T v : second) x(1, j++) = v;
  return x;
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kDenormD = std::numeric_limits<double>::denorm_min();  // 2^-1074 ~ 4.9e-324
constexpr float kDenormF = 1e-40f;                                      // a float denormal (< 2^-126 ~ 1.2e-38)

}  // namespace edge
}  // namespace lossfn_test
