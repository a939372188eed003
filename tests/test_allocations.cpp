// Zero-allocation proof: forward (Sum, Mean) and forward_backward into caller-owned
// gradients make no heap allocation, for every loss and for Array, Map and Block
// inputs. This executable replaces the global operator new with a counting one and,
// on glibc, also interposes malloc and friends (Eigen allocates its temporaries with
// std::malloc, not new), so an allocation anywhere in a call is seen.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
// GCC 12 reports Eigen's aligned_free as a use after free once free is visible
// next to replaced allocation functions (a false positive of -Wuse-after-free).
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
#include <lossfn/contrastive.hpp>
#include <lossfn/cross_entropy.hpp>
#include <lossfn/huber.hpp>
#include <lossfn/kl_divergence.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>

#include "catch.hpp"
#include "gradient_check.hpp"

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};

void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}

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
constexpr bool kCountsMalloc = true;
#else
constexpr bool kCountsMalloc = false;
#endif

namespace {

/// The number of heap allocations fn makes.
template <class Fn>
long allocations_of(Fn&& fn) {
  g_allocations = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_allocations.load();
}

using ArrayXXd = Eigen::ArrayXXd;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Runs check(pred_view, target_view, grad_view) for pred/target as Array, Map and
/// Block (of a larger array) and grad as Array (already of the right shape), Map and Block.
template <class Plain, class Check>
void for_each_view(const Plain& pred, const Plain& target, const Check& check) {
  const Eigen::Index r = pred.rows(), c = pred.cols();
  Plain grad(r, c);
  check("Array", pred, target, grad);
  const Eigen::Map<const Plain> pm(pred.data(), r, c), tm(target.data(), r, c);
  Eigen::Map<Plain> gm(grad.data(), r, c);
  check("Map", pm, tm, gm);
  Plain big_pred = Plain::Zero(r + 2, c + 3), big_target = Plain::Zero(r + 2, c + 3), big_grad(r + 2, c + 3);
  big_pred.block(1, 2, r, c) = pred;
  big_target.block(1, 2, r, c) = target;
  check("Block", big_pred.block(1, 2, r, c), big_target.block(1, 2, r, c), big_grad.block(1, 2, r, c));
}

/// forward with Sum and Mean and forward_backward with Sum and Mean of the loss
/// make(Reduction) over every view: zero allocations each.
template <class Plain, class Make>
void check_elementwise_like(const std::string& label, const Make& make, const Plain& pred, const Plain& target) {
  for_each_view(pred, target, [&](const char* view, const auto& p, const auto& t, auto&& g) {
    CAPTURE(label, view);
    const auto sum = make(lossfn::Sum{});
    const auto mean = make(lossfn::Mean{});
    double sink = 0;
    CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward(p, t)); }) == 0);
    CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward(p, t)); }) == 0);
    CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward_backward(p, t, g)); }) == 0);
    CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward_backward(p, t, g)); }) == 0);
    CHECK(std::isfinite(sink));
  });
}

}  // namespace

TEST_CASE("The counter sees allocations (the test can fail)") {
  static int* volatile kept = nullptr;                    // volatile: the compiler may not elide the new
  CHECK(allocations_of([] { kept = new int(3); }) >= 1);  // new, and on glibc its malloc
  delete kept;
  if (kCountsMalloc) {
    // an Eigen temporary comes from malloc, not operator new
    CHECK(allocations_of([] {
            Eigen::ArrayXd x = Eigen::ArrayXd::Constant(1000, 2.0);
            CHECK(x.sum() == 2000.0);
          }) >= 1);
    // backward returns a new array: that is one allocation
    const Eigen::ArrayXd p = Eigen::ArrayXd::Constant(64, 1.0), t = Eigen::ArrayXd::Zero(64);
    CHECK(allocations_of([&] { CHECK(lossfn::MSE<>{}.backward(p, t).size() == 64); }) >= 1);
  }
}

TEST_CASE("Elementwise losses: forward and forward_backward allocate nothing") {
  for (int order = 0; order < 2; ++order) {
    // 70 x 90 = 6300 elements: several of the kernel's blocks and a ragged tail
    const ArrayXXd pred = lossfn_test::random_array<ArrayXXd>(70, 90, 1);
    const ArrayXXd target = lossfn_test::random_array<ArrayXXd>(70, 90, 2);
    auto run = [&](const auto& p, const auto& t) {
      check_elementwise_like(
          "MSE", [](auto r) { return lossfn::MSE<decltype(r)>{}; }, p, t);
      check_elementwise_like(
          "MAE", [](auto r) { return lossfn::MAE<decltype(r)>{}; }, p, t);
      check_elementwise_like(
          "Huber", [](auto r) { return lossfn::Huber<decltype(r)>(0.5); }, p, t);
      check_elementwise_like(
          "RMSE", [](auto r) { return lossfn::RMSE<decltype(r)>{}; }, p, t);
    };
    if (order == 0) {
      run(pred, target);
    } else {
      run(ArrayRM(pred), ArrayRM(target));
    }
  }
  // float too (its fast path sums in float and falls back to double per block)
  const Eigen::ArrayXXf pf = lossfn_test::random_array<Eigen::ArrayXXf>(50, 60, 3);
  const Eigen::ArrayXXf tf = lossfn_test::random_array<Eigen::ArrayXXf>(50, 60, 4);
  check_elementwise_like(
      "MSE float", [](auto r) { return lossfn::MSE<decltype(r)>{}; }, pf, tf);
}

TEST_CASE("CrossEntropy and KLDivergence: forward and forward_backward allocate nothing") {
  const Eigen::Index m = 40, k = 30;
  for (int order = 0; order < 2; ++order) {
    const ArrayXXd logits = lossfn_test::random_array<ArrayXXd>(m, k, 5, -3, 3);
    ArrayXXd soft = lossfn_test::random_array<ArrayXXd>(m, k, 6, 0.1, 1);
    soft.colwise() /= soft.rowwise().sum();
    Eigen::VectorXi labels(m);
    for (Eigen::Index i = 0; i < m; ++i) labels(i) = static_cast<int>((i * 7) % k);
    auto run = [&](const auto& z, const auto& y) {
      // soft targets, logits
      check_elementwise_like(
          "CrossEntropy soft", [](auto r) { return lossfn::CrossEntropy<decltype(r)>{}; }, z, y);
      check_elementwise_like(
          "KLDivergence", [](auto r) { return lossfn::KLDivergence<decltype(r)>{}; }, z, y);
      lossfn::KLDivergenceOptions log_form;
      log_form.input = lossfn::Input::LogProbabilities;
      log_form.log_target = true;
      check_elementwise_like(
          "KLDivergence log/log", [&](auto r) { return lossfn::KLDivergence<decltype(r)>(log_form); }, z, y);
      // class-index targets, with and without options
      using Plain = std::decay_t<decltype(z)>;
      lossfn::CrossEntropyOptions smooth;
      smooth.label_smoothing = 0.1;
      smooth.ignore_index = 3;
      for (int variant = 0; variant < 2; ++variant) {
        for_each_view(z, z, [&](const char* view, const auto& p, const auto&, auto&& g) {
          CAPTURE(view, variant, Plain::IsRowMajor);
          const auto sum =
              variant == 0 ? lossfn::CrossEntropy<lossfn::Sum>{} : lossfn::CrossEntropy<lossfn::Sum>(smooth);
          const auto mean =
              variant == 0 ? lossfn::CrossEntropy<lossfn::Mean>{} : lossfn::CrossEntropy<lossfn::Mean>(smooth);
          double sink = 0;
          CHECK(allocations_of([&] { sink += sum.forward(p, labels); }) == 0);
          CHECK(allocations_of([&] { sink += mean.forward(p, labels); }) == 0);
          CHECK(allocations_of([&] { sink += sum.forward_backward(p, labels, g); }) == 0);
          CHECK(allocations_of([&] { sink += mean.forward_backward(p, labels, g); }) == 0);
          CHECK(std::isfinite(sink));
        });
      }
    };
    if (order == 0) {
      run(logits, soft);
    } else {
      run(ArrayRM(logits), ArrayRM(soft));
    }
  }
}

TEST_CASE("Contrastive: forward and forward_backward allocate nothing") {
  const Eigen::Index m = 50, d = 20;
  const ArrayRM x1 = lossfn_test::random_array<ArrayRM>(m, d, 7);
  const ArrayRM x2 = lossfn_test::random_array<ArrayRM>(m, d, 8);
  Eigen::VectorXi y(m);
  for (Eigen::Index i = 0; i < m; ++i) y(i) = static_cast<int>(i % 2);
  for (const lossfn::Distance distance :
       {lossfn::Distance::Euclidean, lossfn::Distance::SquaredEuclidean, lossfn::Distance::Cosine}) {
    for_each_view(x1, x2, [&](const char* view, const auto& a, const auto& b, auto&& g1) {
      CAPTURE(view, static_cast<int>(distance));
      ArrayRM g2_storage(m, d);
      Eigen::Map<ArrayRM> g2(g2_storage.data(), m, d);
      const lossfn::Contrastive<lossfn::Sum> sum(1.0, distance);
      const lossfn::Contrastive<lossfn::Mean> mean(1.0, distance);
      double sink = 0;
      CHECK(allocations_of([&] { sink += sum.forward(a, b, y); }) == 0);
      CHECK(allocations_of([&] { sink += mean.forward(a, b, y); }) == 0);
      CHECK(allocations_of([&] { sink += sum.forward_backward(a, b, y, g1, g2); }) == 0);
      CHECK(allocations_of([&] { sink += mean.forward_backward(a, b, y, g1, g2); }) == 0);
      CHECK(std::isfinite(sink));
    });
  }
}
