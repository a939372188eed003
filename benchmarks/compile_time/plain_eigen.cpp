// The same computation as with_lossfn.cpp written with plain Eigen expressions (the
// baseline of scripts/compile-time): MSE and a stable softmax cross entropy with
// class-index targets, Mean over terms and rows.
#include <Eigen/Core>

double train_step(const Eigen::ArrayXXf& pred, const Eigen::ArrayXXf& target, const Eigen::ArrayXXf& logits,
                  const Eigen::ArrayXi& labels, Eigen::ArrayXXf& grad_pred, Eigen::ArrayXXf& grad_logits) {
  const float n = static_cast<float>(pred.size());
  grad_pred = 2.0f * (pred - target) / n;
  double mse = (pred - target).square().sum() / n;
  const Eigen::Index m = logits.rows();
  grad_logits.resize(logits.rows(), logits.cols());
  double ce = 0;
  for (Eigen::Index i = 0; i < m; ++i) {
    const float top = logits.row(i).maxCoeff();
    grad_logits.row(i) = (logits.row(i) - top).exp();
    const float total = grad_logits.row(i).sum();
    ce += std::log(total) + top - logits(i, labels(i));
    grad_logits.row(i) /= total * static_cast<float>(m);
    grad_logits(i, labels(i)) -= 1.0f / static_cast<float>(m);
  }
  return mse + ce / static_cast<double>(m);
}
