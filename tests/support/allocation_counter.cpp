// The one replacement of the allocation functions per test executable (see
// allocation_counter.hpp). No Eigen here: this unit only counts.
#include "allocation_counter.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LOSSFN_TEST_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LOSSFN_TEST_SANITIZED_ALLOCATOR 1
#endif

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};

void note_allocation() noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

namespace lossfn_test {
void start_counting_allocations() noexcept {
  g_allocations = 0;
  g_counting = true;
}
long stop_counting_allocations() noexcept {
  g_counting = false;
  return g_allocations.load();
}
}  // namespace lossfn_test

#if defined(LOSSFN_TEST_SANITIZED_ALLOCATOR)
// --- a sanitizer's allocator: its malloc hook sees every allocation (new included) ---
// (declared here: <sanitizer/allocator_interface.h> is not installed with every compiler)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));

namespace {
void on_malloc(const volatile void*, std::size_t) { note_allocation(); }
void on_free(const volatile void*) {}
const int g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace

bool lossfn_test::counts_malloc() noexcept { return g_hooks_installed != 0; }

#else
namespace {
void* checked(void* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

// --- counting global operator new (every form; delete goes to free) ---
void* operator new(std::size_t size) {
  note_allocation();
  return checked(std::malloc(size == 0 ? 1 : size));
}
void* operator new[](std::size_t size) {
  note_allocation();
  return checked(std::malloc(size == 0 ? 1 : size));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  note_allocation();
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  note_allocation();
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  note_allocation();
  void* p = nullptr;
  const std::size_t a = std::max(static_cast<std::size_t>(align), sizeof(void*));
  if (posix_memalign(&p, a, size == 0 ? 1 : size) != 0) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

#if defined(__GLIBC__)
// --- glibc: count malloc itself (where Eigen's temporaries come from) ---
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t size) noexcept {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  note_allocation();
  return __libc_calloc(count, size);
}
void* aligned_alloc(std::size_t align, std::size_t size) noexcept {
  note_allocation();
  return __libc_memalign(align, size);
}
void* memalign(std::size_t align, std::size_t size) noexcept {
  note_allocation();
  return __libc_memalign(align, size);
}
int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {
  note_allocation();
  void* p = __libc_memalign(align, size);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}
bool lossfn_test::counts_malloc() noexcept { return true; }
#else
bool lossfn_test::counts_malloc() noexcept { return false; }
#endif
#endif
