// The one finite-difference gradient checker of the test suite, and the random
// data every test draws from (seeded, so failures repeat).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

namespace lossfn_test {

/// Uniform values in [lo, hi], drawn from a fixed seed.
template <class Plain>
Plain random_array(Eigen::Index rows, Eigen::Index cols, unsigned seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<double> uniform(lo, hi);
  Plain x(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) x(i, j) = static_cast<typename Plain::Scalar>(uniform(engine));
  return x;
}

/// Central differences of a scalar function f at x: (f(x + h e_ij) - f(x - h e_ij)) / 2h
/// with h = step * max(1, |x_ij|). x may be any plain Array or Matrix, either order.
template <class Plain, class F>
Plain numeric_gradient(const F& f, const Plain& x, double step = 1e-6) {
  Plain probe = x;
  Plain grad(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const double h = step * std::max(1.0, std::abs(static_cast<double>(x(i, j))));
      probe(i, j) = x(i, j) + h;
      const double up = static_cast<double>(f(probe));
      probe(i, j) = x(i, j) - h;
      const double down = static_cast<double>(f(probe));
      probe(i, j) = x(i, j);
      grad(i, j) = (up - down) / (2 * h);
    }
  }
  return grad;
}

/// max_ij |a_ij - b_ij| / max(1, |b_ij|): absolute near zero, relative for large values.
template <class A, class B>
double max_error(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b) {
  double worst = 0;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      const double x = static_cast<double>(a.derived()(i, j)), y = static_cast<double>(b.derived()(i, j));
      const double err = std::abs(x - y) / std::max(1.0, std::abs(y));
      worst = (err > worst || std::isnan(err)) ? err : worst;
    }
  return worst;
}

/// The largest finite-difference error seen per loss in this process; printed at
/// exit when LOSSFN_REPORT_FD is set (used for the numbers in notes and docs).
class ErrorLog {
 public:
  static ErrorLog& instance() {
    static ErrorLog log;
    return log;
  }
  void record(const std::string& label, double error) {
    double& worst = worst_[label];
    worst = std::max(worst, error);
  }
  ~ErrorLog() {
    if (std::getenv("LOSSFN_REPORT_FD") == nullptr) return;
    for (const auto& [label, error] : worst_)
      std::printf("largest finite-difference error, %s: %.3g\n", label.c_str(), error);
  }

 private:
  std::map<std::string, double> worst_;
};

/// Compares an analytic gradient with central differences of f at x; returns the
/// error (see max_error) and records it under `label`.
template <class Plain, class F, class G>
double gradient_error(const std::string& label, const F& f, const Plain& x, const Eigen::DenseBase<G>& analytic,
                      double step = 1e-6) {
  const Plain numeric = numeric_gradient(f, x, step);
  const double error = max_error(analytic, numeric);
  ErrorLog::instance().record(label, error);
  return error;
}

/// The diagonal of the Jacobian of a gradient by central differences:
/// (grad(x + h e_ij)_ij - grad(x - h e_ij)_ij) / 2h, h as in numeric_gradient. This is
/// the diagonal of the Hessian when grad is the gradient of a scalar function.
template <class Plain, class Grad>
Plain numeric_hessian_diagonal(const Grad& grad, const Plain& x, double step = 1e-6) {
  Plain probe = x;
  Plain hess(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const double h = step * std::max(1.0, std::abs(static_cast<double>(x(i, j))));
      probe(i, j) = x(i, j) + h;
      const double up = static_cast<double>(Plain(grad(probe))(i, j));
      probe(i, j) = x(i, j) - h;
      const double down = static_cast<double>(Plain(grad(probe))(i, j));
      probe(i, j) = x(i, j);
      hess(i, j) = (up - down) / (2 * h);
    }
  }
  return hess;
}

/// Compares an analytic Hessian diagonal with central differences of the gradient
/// function grad at x; returns the error (see max_error), recorded under
/// `label` + " Hessian".
template <class Plain, class Grad, class H>
double hessian_error(const std::string& label, const Grad& grad, const Plain& x, const Eigen::DenseBase<H>& analytic,
                     double step = 1e-6) {
  const Plain numeric = numeric_hessian_diagonal(grad, x, step);
  const double error = max_error(analytic, numeric);
  ErrorLog::instance().record(label + " Hessian", error);
  return error;
}

/// Tolerances per scalar type, for comparing a result with the double one.
template <class Scalar>
struct Tolerance;
template <>
struct Tolerance<float> {
  static constexpr double rel = 2e-5;
};
template <>
struct Tolerance<double> {
  static constexpr double rel = 1e-12;
};
template <>
struct Tolerance<long double> {
  static constexpr double rel = 1e-12;
};

/// Finite-difference tolerance in double (step 1e-6: truncation ~1e-12, rounding ~1e-10).
constexpr double kGradientTolerance = 1e-6;

}  // namespace lossfn_test
