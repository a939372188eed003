// Counting every heap allocation of a test executable (the zero-allocation
// battery). The counter itself is tests/support/allocation_counter.cpp, linked
// into every test executable by tests/CMakeLists.txt, so that exactly one
// translation unit per executable replaces the allocation functions:
//  - plain builds: the global operator new (every form) and, on glibc, malloc,
//    calloc, aligned_alloc, memalign and posix_memalign (Eigen allocates its
//    temporaries with std::malloc, not new);
//  - under AddressSanitizer or ThreadSanitizer: nothing is replaced (the
//    sanitizer keeps its own allocator and its checks); the sanitizer's malloc
//    hook counts instead, and sees new and malloc alike.
// Counting is off except inside allocations_of, so the other tests of the
// executable are not affected.
#pragma once

namespace lossfn_test {

/// Starts counting from 0 (allocations of any thread).
void start_counting_allocations() noexcept;
/// Stops counting; returns the number of allocations since the start.
long stop_counting_allocations() noexcept;
/// Whether malloc itself is counted (glibc or a sanitizer), not only operator new.
bool counts_malloc() noexcept;

/// The number of heap allocations fn makes.
template <class Fn>
long allocations_of(Fn&& fn) {
  start_counting_allocations();
  fn();
  return stop_counting_allocations();
}

}  // namespace lossfn_test
