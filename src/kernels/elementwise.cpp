// The compiled elementwise kernels of MSE, MAE, Huber and SmoothL1: every
// instantiation their headers declare extern (include/lossfn/detail/instances.hpp).
#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/smooth_l1.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_KERNELS_MSE()
LOSSFN_DETAIL_KERNELS_MAE()
LOSSFN_DETAIL_KERNELS_HUBER()
LOSSFN_DETAIL_KERNELS_SMOOTH_L1()
}  // namespace detail
}  // namespace lossfn
