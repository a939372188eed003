// expect: forward_backward needs a reducing policy
// forward_backward returns one loss value: None has none.
#include <lossfn/mae.hpp>

int main() {
  const Eigen::ArrayXd pred = Eigen::ArrayXd::Zero(3), target = Eigen::ArrayXd::Ones(3);
  Eigen::ArrayXd grad(3);
#ifdef LOSSFN_CONTROL
  return static_cast<int>(lossfn::MAE<lossfn::Sum>{}.forward_backward(pred, target, grad));
#else
  return static_cast<int>(lossfn::MAE<lossfn::None>{}.forward_backward(pred, target, grad));
#endif
}
