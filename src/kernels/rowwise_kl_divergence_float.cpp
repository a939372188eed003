// The compiled row-wise kernels of KLDivergence over float.
#include <lossfn/kl_divergence.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_KL_DIVERGENCE_OF(, float, Eigen::ColMajor)
LOSSFN_DETAIL_KL_DIVERGENCE_OF(, float, Eigen::RowMajor)
}  // namespace detail
}  // namespace lossfn
