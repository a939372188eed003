// The compiled row-wise kernels of KLDivergence over double.
#include <lossfn/kl_divergence.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_KL_DIVERGENCE_OF(, double, Eigen::ColMajor)
LOSSFN_DETAIL_KL_DIVERGENCE_OF(, double, Eigen::RowMajor)
}  // namespace detail
}  // namespace lossfn
