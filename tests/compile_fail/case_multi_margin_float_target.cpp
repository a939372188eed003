// expect: MultiMargin's target holds class indices
// MultiMargin takes class indices only (torch.nn.MultiMarginLoss's int64 target), never floats.
#include <lossfn/multi_margin.hpp>

int main() {
  const Eigen::ArrayXXd scores = Eigen::ArrayXXd::Zero(2, 3);
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXi classes = Eigen::ArrayXi::Zero(2);
#else
  const Eigen::ArrayXd classes = Eigen::ArrayXd::Zero(2);
#endif
  return static_cast<int>(lossfn::MultiMargin<>{}.forward(scores, classes));
}
