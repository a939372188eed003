// The compiled gradient passes of RMSE (its sum of squares is MSE's, in
// mse.cpp).
#include <lossfn/rmse.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_KERNELS_RMSE()
}  // namespace detail
}  // namespace lossfn
