// lossfn in one page: every loss on a small batch, its value and gradient, and a
// finite-difference check that the gradient is right.
#include <lossfn/lossfn.hpp>

#include <cmath>
#include <cstdio>
#include <string>

namespace {

/// Largest |analytic - numeric| over the entries of x, by central differences of f(x).
template <class F>
double finite_difference_error(const F& f, const Eigen::ArrayXXd& x, const Eigen::ArrayXXd& grad) {
  double worst = 0;
  Eigen::ArrayXXd probe = x;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double h = 1e-6;
    probe(i) = x(i) + h;
    const double up = f(probe);
    probe(i) = x(i) - h;
    const double down = f(probe);
    probe(i) = x(i);
    worst = std::fmax(worst, std::abs((up - down) / (2 * h) - grad(i)));
  }
  return worst;
}

/// The same for a loss's pred.
template <class Loss>
double finite_difference_error(const Loss& loss, const Eigen::ArrayXXd& pred, const Eigen::ArrayXXd& target,
                               const Eigen::ArrayXXd& grad) {
  return finite_difference_error([&](const Eigen::ArrayXXd& p) { return loss.forward(p, target); }, pred, grad);
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

/// Contrastive: pairs of embeddings (row i of x1 with row i of x2) and 0/1 labels; the
/// fused pass writes both gradients, each checked against central differences.
template <class Loss>
bool show_pairs(const std::string& title, const Loss& loss, const Eigen::ArrayXXd& x1, const Eigen::ArrayXXd& x2,
                const Eigen::ArrayXi& similar0_dissimilar1) {
  Eigen::ArrayXXd g1(x1.rows(), x1.cols()), g2(x2.rows(), x2.cols());
  const double value = loss.forward_backward(x1, x2, similar0_dissimilar1, g1, g2);
  const auto wrt_x1 = [&](const Eigen::ArrayXXd& p) { return loss.forward(p, x2, similar0_dissimilar1); };
  const auto wrt_x2 = [&](const Eigen::ArrayXXd& p) { return loss.forward(x1, p, similar0_dissimilar1); };
  const double error = std::fmax(finite_difference_error(wrt_x1, x1, g1), finite_difference_error(wrt_x2, x2, g2));
  std::printf("%-14s loss = %9.6f  dx1 row 0 = [% .4f % .4f]  (finite-difference error %.1e)\n", title.c_str(), value,
              g1(0, 0), g1(0, 1), error);
  return error < 1e-6;
}

/// CrossEntropy and KLDivergence: one row of logits per sample, one column per class;
/// targets are class indices or rows of probabilities.
template <class Loss, class Target>
bool show_classes(const std::string& title, const Loss& loss, const Eigen::ArrayXXd& logits, const Target& target) {
  Eigen::ArrayXXd grad(logits.rows(), logits.cols());
  const double value = loss.forward_backward(logits, target, grad);
  const auto f = [&](const Eigen::ArrayXXd& z) { return loss.forward(z, target); };
  const double error = finite_difference_error(f, logits, grad);
  std::printf("%-14s loss = %9.6f  grad row 0 = [% .4f % .4f % .4f]  (finite-difference error %.1e)\n", title.c_str(),
              value, grad(0, 0), grad(0, 1), grad(0, 2), error);
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

  // pairs of 2-D embeddings: 0 = similar pair, 1 = dissimilar pair
  Eigen::ArrayXXd x1(3, 2), x2(3, 2);
  x1 << 0.1, 0.9, 1.0, 0.0, -0.5, 0.5;
  x2 << 0.3, 0.7, 0.2, 0.1, -0.4, 0.9;
  Eigen::ArrayXi pair_labels(3);
  pair_labels << 0, 1, 1;
  ok &= show_pairs("Contrastive", lossfn::Contrastive<>{1.0}, x1, x2, pair_labels);
  ok &= show_pairs("  (cosine)", lossfn::Contrastive<>{1.0, lossfn::Distance::Cosine}, x1, x2, pair_labels);

  // classification: 3 samples, 3 classes; logits in, class indices or probabilities as targets
  Eigen::ArrayXXd logits(3, 3), soft(3, 3);
  logits << 2.0, 0.5, -1.0, 0.1, 0.2, 0.3, -2.0, 1.0, 3.0;
  soft << 0.7, 0.2, 0.1, 0.0, 0.5, 0.5, 0.1, 0.1, 0.8;
  Eigen::ArrayXi classes(3);
  classes << 0, 2, 2;
  ok &= show_classes("CrossEntropy", lossfn::CrossEntropy<>{}, logits, classes);
  lossfn::CrossEntropyOptions smoothed;
  smoothed.label_smoothing = 0.1;
  smoothed.class_weights = (Eigen::ArrayXd(3) << 1.0, 2.0, 0.5).finished();
  ok &= show_classes("  (w, eps=0.1)", lossfn::CrossEntropy<>{smoothed}, logits, classes);
  ok &= show_classes("  (soft)", lossfn::CrossEntropy<>{}, logits, soft);
  ok &= show_classes("KLDivergence", lossfn::KLDivergence<>{}, logits, soft);

  // None keeps one loss per element; backward takes the upstream gradient
  const lossfn::MSE<lossfn::None> per_element;
  const Eigen::ArrayXXd terms = per_element.forward(pred, target);
  std::printf("MSE (none) per-element losses, row 0: %.4f %.4f\n", terms(0, 0), terms(0, 1));

  std::puts(ok ? "quickstart: every gradient matches finite differences" : "quickstart: GRADIENT MISMATCH");
  return ok ? 0 : 1;
}
