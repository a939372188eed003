// expect: RMSE has no None reduction
// RMSE's root is taken after the reduction: it has no per-term losses.
#include <lossfn/rmse.hpp>

int main() {
  const Eigen::ArrayXd pred = Eigen::ArrayXd::Zero(3), target = Eigen::ArrayXd::Ones(3);
#ifdef LOSSFN_CONTROL
  const lossfn::RMSE<lossfn::Mean> rmse;
#else
  const lossfn::RMSE<lossfn::None> rmse;
#endif
  return static_cast<int>(rmse.forward(pred, target));
}
