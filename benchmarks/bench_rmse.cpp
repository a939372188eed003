// RMSE<Mean>: forward, backward and forward_backward at the regression sizes.
#include <lossfn/rmse.hpp>

#include "bench_common.hpp"

namespace {
const bool registered = lossfn_bench::register_elementwise("rmse", lossfn::RMSE<>{});
}  // namespace
