// expect: forward_backward needs a reducing policy
// KLDivergence<None> has per-sample losses but no single value to return.
#include <lossfn/kl_divergence.hpp>

int main() {
  const Eigen::ArrayXXd logits = Eigen::ArrayXXd::Zero(2, 3), p = Eigen::ArrayXXd::Constant(2, 3, 1.0 / 3);
  Eigen::ArrayXXd grad(2, 3);
#ifdef LOSSFN_CONTROL
  return static_cast<int>(lossfn::KLDivergence<lossfn::Sum>{}.forward_backward(logits, p, grad));
#else
  return static_cast<int>(lossfn::KLDivergence<lossfn::None>{}.forward_backward(logits, p, grad));
#endif
}
