// expect: pred must have a floating-point scalar type
// Integer scores are not logits (the integer overload is for the target only).
#include <lossfn/cross_entropy.hpp>

int main() {
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXXd logits = Eigen::ArrayXXd::Zero(2, 3);
#else
  const Eigen::ArrayXXi logits = Eigen::ArrayXXi::Zero(2, 3);
#endif
  const Eigen::ArrayXi classes = Eigen::ArrayXi::Zero(2);
  return static_cast<int>(lossfn::CrossEntropy<>{}.forward(logits, classes));
}
