// The compiled row-wise kernels of CrossEntropy over double, col-major (one unit per
// scalar and storage order, so that they compile in parallel).
#include <lossfn/cross_entropy.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_CROSS_ENTROPY_OF(, double, Eigen::ColMajor)
}  // namespace detail
}  // namespace lossfn
