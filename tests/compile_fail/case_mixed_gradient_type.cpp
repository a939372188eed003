// expect: all floating-point arguments of a loss must share pred.s scalar type
// A double pred and target with a float gradient output.
#include <lossfn/huber.hpp>

int main() {
  const Eigen::ArrayXd pred = Eigen::ArrayXd::Zero(3), target = Eigen::ArrayXd::Ones(3);
#ifdef LOSSFN_CONTROL
  Eigen::ArrayXd grad(3);
#else
  Eigen::ArrayXf grad(3);
#endif
  return static_cast<int>(lossfn::Huber<>{}.forward_backward(pred, target, grad));
}
