// A program outside lossfn that uses it the way a user would.
#include <lossfn/lossfn.hpp>

#include <cstdio>

int main() {
  Eigen::ArrayXXd pred(2, 2), target(2, 2);
  pred << 1, 2, 3, 4;
  target << 1, 2, 3, 6;
  Eigen::ArrayXXd grad(2, 2);
  const double loss = lossfn::MSE<lossfn::Sum>{}.forward_backward(pred, target, grad);
  if (loss != 4.0 || grad(1, 1) != -4.0) {
    std::printf("lossfn consumer: wrong result %g\n", loss);
    return 1;
  }
  std::printf("lossfn consumer: ok (lossfn %d)\n", lossfn::version);
  return 0;
}
