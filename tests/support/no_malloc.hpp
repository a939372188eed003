// Makes Eigen's heap allocations observable: include this first (before any Eigen
// header) in a test file, then any Eigen allocation inside a NoHeapAllocation
// scope throws lossfn_test::eigen_assertion_failed (Eigen's runtime no-malloc
// switch reports through eigen_assert, redefined here to throw).
#pragma once

#ifdef EIGEN_CORE_H
#error "include no_malloc.hpp before any Eigen header"
#endif

#include <stdexcept>

namespace lossfn_test {
/// An Eigen assertion (here: a heap allocation while forbidden) failed.
struct eigen_assertion_failed : std::logic_error {
  using std::logic_error::logic_error;
};
}  // namespace lossfn_test

#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) ((x) ? static_cast<void>(0) : throw ::lossfn_test::eigen_assertion_failed(#x))

#include <Eigen/Core>

namespace lossfn_test {
/// Forbids Eigen heap allocation while alive.
class NoHeapAllocation {
 public:
  NoHeapAllocation() { Eigen::internal::set_is_malloc_allowed(false); }
  ~NoHeapAllocation() { Eigen::internal::set_is_malloc_allowed(true); }
  NoHeapAllocation(const NoHeapAllocation&) = delete;
  NoHeapAllocation& operator=(const NoHeapAllocation&) = delete;
};
}  // namespace lossfn_test
