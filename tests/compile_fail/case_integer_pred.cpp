// expect: pred must have a floating-point scalar type
// Integer predictions (and targets) are not a loss's input.
#include <lossfn/mae.hpp>

int main() {
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXd pred = Eigen::ArrayXd::Zero(3), target = Eigen::ArrayXd::Ones(3);
#else
  const Eigen::ArrayXi pred = Eigen::ArrayXi::Zero(3), target = Eigen::ArrayXi::Ones(3);
#endif
  return static_cast<int>(lossfn::MAE<>{}.forward(pred, target));
}
