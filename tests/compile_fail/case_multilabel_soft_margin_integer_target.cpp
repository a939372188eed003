// expect: must share pred's scalar type
// MultiLabelSoftMargin's target is an m x C array of pred's scalar type (labels in [0, 1]).
#include <lossfn/multilabel_soft_margin.hpp>

int main() {
  const Eigen::ArrayXXd logits = Eigen::ArrayXXd::Zero(2, 3);
#ifdef LOSSFN_CONTROL
  const Eigen::ArrayXXd labels = Eigen::ArrayXXd::Zero(2, 3);
#else
  const Eigen::ArrayXXi labels = Eigen::ArrayXXi::Zero(2, 3);
#endif
  return static_cast<int>(lossfn::MultiLabelSoftMargin<>{}.forward(logits, labels));
}
