// The compiled elementwise kernels of SmoothL1: every instantiation its header declares
// extern (include/lossfn/detail/instances.hpp). One unit per loss, so that they
// build in parallel and each stays light (the four elementwise losses in one unit
// took over 2 GB and minutes with g++ -O2).
#include <lossfn/smooth_l1.hpp>

namespace lossfn {
namespace detail {
LOSSFN_DETAIL_KERNELS_SMOOTH_L1()
}  // namespace detail
}  // namespace lossfn
