// lossfn in one page: every loss on a small batch, its value and gradient, and a
// finite-difference check that the gradient is right.
#include <lossfn/lossfn.hpp>

#include <cmath>
#include <cstdio>
#include <string>

namespace {

/// Largest |analytic - numeric| over the entries of pred, by central differences.
template <class Loss>
double finite_difference_error(const Loss& loss, const Eigen::ArrayXXd& pred, const Eigen::ArrayXXd& target,
                               const Eigen::ArrayXXd& grad) {
  double worst = 0;
  Eigen::ArrayXXd probe = pred;
  for (Eigen::Index i = 0; i < pred.size(); ++i) {
    const double h = 1e-6;
    probe(i) = pred(i) + h;
    const double up = loss.forward(probe, target);
    probe(i) = pred(i) - h;
    const double down = loss.forward(probe, target);
    probe(i) = pred(i);
    worst = std::fmax(worst, std::abs((up - down) / (2 * h) - grad(i)));
  }
  return worst;
}

template <class Loss>
bool show(const std::string& title, const Loss& loss, const Eigen::ArrayXXd& pred, const Eigen::ArrayXXd& target) {
  Eigen::ArrayXXd grad(pred.rows(), pred.cols());
  const double value = loss.forward_backward(pred, target, grad);  // one pass: value and dL/dpred
  const double error = finite_difference_error(loss, pred, target, grad);
  std::printf("%-14s loss = %9.6f  grad =", title.c_str(), value);
  for (Eigen::Index i = 0; i < grad.rows(); ++i) std::printf(" [% .4f % .4f]", grad(i, 0), grad(i, 1));
  std::printf("  (finite-difference error %.1e)\n", error);
  return error < 1e-6;
}

}  // namespace

int main() {
  // a batch of 3 samples with 2 outputs each: predictions and targets
  Eigen::ArrayXXd pred(3, 2), target(3, 2);
  pred << 0.5, 2.0, -1.0, 0.3, 4.0, -0.7;
  target << 0.0, 1.5, 0.0, 0.0, 1.0, -1.0;

  bool ok = true;
  ok &= show("MSE (mean)", lossfn::MSE<>{}, pred, target);
  ok &= show("MSE (sum)", lossfn::MSE<lossfn::Sum>{}, pred, target);
  ok &= show("MAE (mean)", lossfn::MAE<>{}, pred, target);
  ok &= show("RMSE (mean)", lossfn::RMSE<>{}, pred, target);
  ok &= show("Huber delta=1", lossfn::Huber<>{1.0}, pred, target);

  // None keeps one loss per element; backward takes the upstream gradient
  const lossfn::MSE<lossfn::None> per_element;
  const Eigen::ArrayXXd terms = per_element.forward(pred, target);
  std::printf("MSE (none) per-element losses, row 0: %.4f %.4f\n", terms(0, 0), terms(0, 1));

  std::puts(ok ? "quickstart: every gradient matches finite differences" : "quickstart: GRADIENT MISMATCH");
  return ok ? 0 : 1;
}
