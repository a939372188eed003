// The compiled row-wise kernels of CrossEntropy over float, row-major (one unit per
// scalar and storage order, so that they compile in parallel).
#include <lossfn/cross_entropy.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_CROSS_ENTROPY_OF(, float, Eigen::RowMajor)
}  // namespace detail
}  // namespace lossfn
