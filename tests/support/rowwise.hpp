// Test helpers of the row-wise losses (CrossEntropy, KLDivergence): random
// rows, naive reference formulas (written independently of the kernels, in
// long double, straight from the definitions), and the gradient checks every
// option combination runs under Sum, Mean and None.
#pragma once

#include <lossfn/reduction.hpp>

#include <cmath>
#include <string>

#include "catch.hpp"
#include "gradient_check.hpp"

namespace lossfn_test {

using RowsCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using RowsRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// m class indices in [0, K), drawn from a fixed seed.
template <class I = int>
Eigen::Array<I, Eigen::Dynamic, 1> random_classes(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  const RowsCM u = random_array<RowsCM>(m, 1, seed, 0.0, static_cast<double>(classes) - 1e-9);
  Eigen::Array<I, Eigen::Dynamic, 1> t(m);
  for (Eigen::Index i = 0; i < m; ++i) t(i) = static_cast<I>(std::floor(u(i, 0)));
  return t;
}

/// Rows of positive entries summing to 1 (a softmax of random logits).
template <class Plain>
Plain random_distributions(Eigen::Index m, Eigen::Index classes, unsigned seed) {
  Plain p = random_array<Plain>(m, classes, seed, -2, 2).exp();
  for (Eigen::Index i = 0; i < m; ++i) p.row(i) /= p.row(i).sum();
  return p;
}

/// The one-hot m x K array of class indices t.
template <class Plain, class Targets>
Plain one_hot(const Targets& t, Eigen::Index classes) {
  Plain y = Plain::Zero(t.rows(), classes);
  for (Eigen::Index i = 0; i < t.rows(); ++i) y(i, static_cast<Eigen::Index>(t(i))) = 1;
  return y;
}

/// Naive softmax of each row, in long double: exp(z_k) / sum_c exp(z_c), with
/// the max subtracted only so that moderate logits do not overflow.
template <class Plain>
Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> reference_softmax(const Plain& z) {
  Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> p = z.template cast<long double>();
  for (Eigen::Index i = 0; i < p.rows(); ++i) {
    const long double top = p.row(i).maxCoeff();
    long double total = 0;
    for (Eigen::Index k = 0; k < p.cols(); ++k) total += (p(i, k) = std::exp(p(i, k) - top));
    p.row(i) /= total;
  }
  return p;
}

/// Largest relative-or-absolute difference (see max_error) of a scalar pair.
inline double scalar_error(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }

/// Gradient checks of one row-wise loss at one point, for every reduction:
/// finite differences for Sum, Mean and None's vector-Jacobian product, the fused
/// pass against forward + backward, Sum = divisor x Mean, None summed = Sum.
/// make(reduction) builds the loss; divisor is what Mean divides by.
template <class Plain, class Make, class Target>
void check_rowwise_gradients(const std::string& label, const Make& make, const Plain& pred, const Target& target,
                             double divisor, unsigned seed) {
  CAPTURE(label, pred.rows(), pred.cols(), Plain::IsRowMajor, divisor);
  const auto sum = make(lossfn::Sum{});
  const auto mean = make(lossfn::Mean{});
  const auto none = make(lossfn::None{});

  const auto f_sum = [&](const Plain& p) { return sum.forward(p, target); };
  CHECK(gradient_error(label, f_sum, pred, sum.backward(pred, target)) < kGradientTolerance);
  const auto f_mean = [&](const Plain& p) { return mean.forward(p, target); };
  CHECK(gradient_error(label, f_mean, pred, mean.backward(pred, target)) < kGradientTolerance);

  const Eigen::ArrayXd upstream = random_array<Eigen::ArrayXd>(pred.rows(), 1, seed, -1, 1);
  const auto f_none = [&](const Plain& p) { return (upstream * none.forward(p, target)).sum(); };
  CHECK(gradient_error(label, f_none, pred, none.backward(pred, target, upstream)) < kGradientTolerance);

  // the fused pass: the same value and gradient as forward and backward
  Plain fused(pred.rows(), pred.cols());
  CHECK(scalar_error(sum.forward_backward(pred, target, fused), sum.forward(pred, target)) < 1e-14);
  CHECK(max_error(fused, sum.backward(pred, target)) < 1e-15);
  CHECK(scalar_error(mean.forward_backward(pred, target, fused), mean.forward(pred, target)) < 1e-14);
  CHECK(max_error(fused, mean.backward(pred, target)) < 1e-15);

  // Sum = divisor x Mean (Mean is 0 when nothing counts); None summed = Sum
  const double expected_mean = divisor > 0 ? sum.forward(pred, target) / divisor : 0.0;
  CHECK(scalar_error(mean.forward(pred, target), expected_mean) < 1e-13);
  const Eigen::ArrayXd terms = none.forward(pred, target);
  CHECK(terms.rows() == pred.rows());
  CHECK(scalar_error(terms.sum(), sum.forward(pred, target)) < 1e-13);
  const Eigen::ArrayXd ones = Eigen::ArrayXd::Ones(pred.rows());
  CHECK(max_error(none.backward(pred, target, ones), sum.backward(pred, target)) < 1e-15);

  // Hessian diagonals against central differences of backward (Sum, Mean, None with
  // upstream), and forward_backward_hessian = forward, backward, hessian_diagonal
  const auto g_sum = [&](const Plain& p) { return sum.backward(p, target); };
  CHECK(hessian_error(label, g_sum, pred, sum.hessian_diagonal(pred, target)) < kGradientTolerance);
  const auto g_mean = [&](const Plain& p) { return mean.backward(p, target); };
  const Plain hess_mean = mean.hessian_diagonal(pred, target);
  CHECK(hessian_error(label, g_mean, pred, hess_mean) < kGradientTolerance);
  const auto g_none = [&](const Plain& p) { return none.backward(p, target, upstream); };
  CHECK(hessian_error(label, g_none, pred, none.hessian_diagonal(pred, target, upstream)) < kGradientTolerance);
  CHECK(max_error(none.hessian_diagonal(pred, target, ones), sum.hessian_diagonal(pred, target)) < 1e-15);
  Plain fused_hess(pred.rows(), pred.cols());
  CHECK(scalar_error(mean.forward_backward_hessian(pred, target, fused, fused_hess), mean.forward(pred, target)) <
        1e-14);
  CHECK(max_error(fused, mean.backward(pred, target)) < 1e-15);
  CHECK(max_error(fused_hess, hess_mean) < 1e-15);
  // one pass: forward_backward_hessian's loss and gradient are forward_backward's, bit
  // for bit, into the same gradient buffer (its row pieces follow that buffer's alignment)
  const auto fb_value = sum.forward_backward(pred, target, fused);
  const Plain fb_grad = fused;
  fused.setZero();
  CHECK(sum.forward_backward_hessian(pred, target, fused, fused_hess) == fb_value);
  CHECK((fused == fb_grad).all());
}

}  // namespace lossfn_test
