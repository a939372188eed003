// Huber<Mean>: forward, backward and forward_backward at the regression sizes.
#include <lossfn/huber.hpp>

#include "bench_common.hpp"

namespace {
const bool registered = lossfn_bench::register_elementwise("huber", lossfn::Huber<>(0.5));
}  // namespace
