// MAE<Mean>: forward, backward and forward_backward at the regression sizes.
#include <lossfn/mae.hpp>

#include "bench_common.hpp"

namespace {
const bool registered = lossfn_bench::register_elementwise("mae", lossfn::MAE<>{});
}  // namespace
