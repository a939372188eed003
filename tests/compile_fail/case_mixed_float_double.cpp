// expect: all floating-point arguments of a loss must share pred.s scalar type
// A float pred with a double target: mixing float and double is a compile-time error.
#include <lossfn/mse.hpp>

int main() {
  const Eigen::ArrayXf pred = Eigen::ArrayXf::Zero(3);
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXf target = Eigen::ArrayXf::Zero(3);
#else
  const Eigen::ArrayXd target = Eigen::ArrayXd::Zero(3);
#endif
  return static_cast<int>(lossfn::MSE<>{}.forward(pred, target));
}
