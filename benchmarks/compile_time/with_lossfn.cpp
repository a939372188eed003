// A user's translation unit: one MSE and one CrossEntropy forward_backward through
// lossfn (scripts/compile-time compares its compile time with plain_eigen.cpp).
#include <lossfn/lossfn.hpp>

#include <Eigen/Core>

double train_step(const Eigen::ArrayXXf& pred, const Eigen::ArrayXXf& target, const Eigen::ArrayXXf& logits,
                  const Eigen::ArrayXi& labels, Eigen::ArrayXXf& grad_pred, Eigen::ArrayXXf& grad_logits) {
  const lossfn::MSE<> mse;
  const lossfn::CrossEntropy<> ce;
  return mse.forward_backward(pred, target, grad_pred) + ce.forward_backward(logits, labels, grad_logits);
}
