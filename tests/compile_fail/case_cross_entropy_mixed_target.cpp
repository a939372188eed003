// expect: all floating-point arguments of a loss must share pred.s scalar type
// Float logits with a double (soft) target.
#include <lossfn/cross_entropy.hpp>

int main() {
  const Eigen::ArrayXXf logits = Eigen::ArrayXXf::Zero(2, 3);
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXXf target = Eigen::ArrayXXf::Constant(2, 3, 1.0f / 3);
#else
  const Eigen::ArrayXXd target = Eigen::ArrayXXd::Constant(2, 3, 1.0 / 3);
#endif
  return static_cast<int>(lossfn::CrossEntropy<>{}.forward(logits, target));
}
