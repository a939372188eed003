// expect: all floating-point arguments of a loss must share pred.s scalar type
// Float x1 with double x2.
#include <lossfn/contrastive.hpp>

int main() {
  const Eigen::ArrayXXf x1 = Eigen::ArrayXXf::Zero(2, 3);
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXXf x2 = Eigen::ArrayXXf::Ones(2, 3);
#else
  const Eigen::ArrayXXd x2 = Eigen::ArrayXXd::Ones(2, 3);
#endif
  const Eigen::ArrayXi labels = Eigen::ArrayXi::Zero(2);
  return static_cast<int>(lossfn::Contrastive<>{}.forward(x1, x2, labels));
}
