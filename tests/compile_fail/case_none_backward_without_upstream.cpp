// expect: with the None reduction, backward takes the upstream gradient
// None's backward is a vector-Jacobian product: it needs dL/d(per-term loss).
#include <lossfn/mse.hpp>

int main() {
  const Eigen::ArrayXd pred = Eigen::ArrayXd::Zero(3), target = Eigen::ArrayXd::Ones(3);
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXd grad = lossfn::MSE<lossfn::None>{}.backward(pred, target, Eigen::ArrayXd::Ones(3));
#else
  const Eigen::ArrayXd grad = lossfn::MSE<lossfn::None>{}.backward(pred, target);
#endif
  return static_cast<int>(grad(0));
}
