// The conformance registry: what every loss must satisfy, written once, run by
// each loss's own test file for that loss only (so a test translation unit
// instantiates one loss).
//
// A loss registers an *entry*, a small struct (its types: support/registry.hpp).
// The elementwise losses' entries are in support/elementwise_entries.hpp, which the
// fuzz target and the benchmarks iterate too; other losses keep theirs beside their
// tests. An entry:
//
//   struct MseEntry {
//     static constexpr const char* name = "MSE";                 // as in error messages
//     static constexpr lossfn_test::CallShape shape = lossfn_test::CallShape::Elementwise;
//     static constexpr lossfn_test::Terms terms = lossfn_test::Terms::Additive;  // Elementwise only
//     // (Rowwise only: static constexpr bool index_targets = true; when it takes class indices)
//     using Options = lossfn_test::NoOptions;                    // or lossfn::HuberOptions, ...
//     // representative option sets; [0] is the one the finite-difference battery uses
//     static std::vector<lossfn_test::Variant<Options>> variants(Eigen::Index cols) { return {{"default", {}}}; }
//     // the loss under reduction R with the given options
//     template <class R> static auto make(R, const Options&) { return lossfn::MSE<R>{}; }
//     // where finite differences must not go (Elementwise: e = pred - target)
//     static bool near_kink(double e, const Options&) { return false; }
//     // operands of a given shape, scalar and storage order (Plain), from a seed
//     template <class Plain>
//     static lossfn_test::Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed,
//                                                  lossfn_test::TargetForm form) {
//       return lossfn_test::elementwise_operands<Plain>(rows, cols, seed);
//     }
//   };
//   LOSSFN_CONFORMANCE_TEST_CASES(MseEntry)
//
// The batteries (function templates over an entry, usable one by one):
//   check_gradients<E>        Elementwise: run_elementwise_battery (finite differences,
//                             reductions, views, float, errors) at variants(..)[0]
//   check_strong_guarantee<E> a failed call leaves every output untouched (bytes and shape)
//   check_no_allocation<E>    forward (Sum, Mean) and forward_backward into caller-owned
//                             gradients allocate nothing (allocation_counter.hpp)
//   check_sharding<E>         uneven shards (one empty) run with Sum and recombined with
//                             Mean's denominator() equal the whole batch under Mean
//   check_weights<E>          weights properties (support/weights_battery.hpp)
//   check_threads<E>          one const loss shared by several threads gives bit-identical
//                             results; failing calls throw independently
// Row-wise gradient checks with references stay in the loss's file (rowwise.hpp):
// they need the loss's math. The no-exceptions build is tests/no_exceptions/.
#pragma once

#include <lossfn/errors.hpp>
#include <lossfn/mse.hpp>  // RMSE's sharding recipe runs MSE<Sum> per shard
#include <lossfn/reduction.hpp>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "allocation_counter.hpp"
#include "catch.hpp"
#include "elementwise_battery.hpp"
#include "gradient_check.hpp"
#include "registry.hpp"
#include "weights_battery.hpp"

namespace lossfn_test {

namespace conformance_detail {

using ArrayCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapCM = Eigen::Map<ArrayCM>;
using MapRM = Eigen::Map<ArrayRM>;

// ---- strong guarantee ----------------------------------------------------------------

// A value no loss computes from the inputs below: any write shows up.
constexpr double kSentinel = -777.125;

/// A caller-owned raw buffer full of the sentinel, viewed through Maps of any shape.
struct Buffer {
  std::vector<double> data = std::vector<double>(64, kSentinel);
  MapCM map(Eigen::Index rows, Eigen::Index cols) { return MapCM(data.data(), rows, cols); }
  MapRM map_rm(Eigen::Index rows, Eigen::Index cols) { return MapRM(data.data(), rows, cols); }
  bool untouched() const {
    const std::vector<double> fresh(data.size(), kSentinel);
    return std::memcmp(data.data(), fresh.data(), data.size() * sizeof(double)) == 0;
  }
};

/// A resizable gradient of some shape full of the sentinel: a failed call must
/// neither write nor resize it.
struct Resizable {
  ArrayCM array;
  Resizable(Eigen::Index rows, Eigen::Index cols) : array(ArrayCM::Constant(rows, cols, kSentinel)) {}
  bool untouched(Eigen::Index rows, Eigen::Index cols) const {
    return array.rows() == rows && array.cols() == cols && (array == kSentinel).all();
  }
};

inline ArrayCM values(Eigen::Index rows, Eigen::Index cols, double offset) {
  ArrayCM x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = offset + 0.25 * static_cast<double>(i);
  return x;
}

}  // namespace conformance_detail

/// A call that must throw E and leave both a Map over a raw buffer (column- and
/// row-major) and a resizable array (of another shape) exactly as they were.
/// call(gradient) makes the call; rows x cols is the gradient's right shape.
template <class E, class Call>
void expect_untouched(const Call& call, Eigen::Index rows, Eigen::Index cols) {
  using namespace conformance_detail;
  Buffer buffer;
  CHECK_THROWS_AS(call(buffer.map(rows, cols)), E);
  CHECK_THROWS_AS(call(buffer.map_rm(rows, cols)), E);
  CHECK(buffer.untouched());
  Resizable grad(1, 5);
  CHECK_THROWS_AS(call(grad.array), E);
  CHECK(grad.untouched(1, 5));
}

namespace conformance_detail {

/// Every call-time error of an elementwise loss under Sum or Mean.
template <class Loss>
void elementwise_errors(const Loss& loss, const std::string& name, const ArrayCM& pred, const ArrayCM& target) {
  CAPTURE(name);
  const ArrayCM wrong = values(2, 3, 0.0);

  {  // target of the wrong shape: a Map, a row-major Map and a resizable gradient stay as they were
    Buffer buffer;
    CHECK_THROWS_AS(loss.forward_backward(pred, wrong, buffer.map(3, 2)), lossfn::shape_error);
    CHECK_THROWS_AS(loss.forward_backward(pred, wrong, buffer.map_rm(3, 2)), lossfn::shape_error);
    CHECK(buffer.untouched());
    Resizable grad(4, 4);
    CHECK_THROWS_AS(loss.forward_backward(pred, wrong, grad.array), lossfn::shape_error);
    CHECK(grad.untouched(4, 4));
  }
  {  // a gradient Map or Block of the wrong shape is not written
    Buffer buffer;
    CHECK_THROWS_AS(loss.forward_backward(pred, target, buffer.map(2, 3)), lossfn::shape_error);
    CHECK_THROWS_AS(loss.forward_backward(pred, target, buffer.map(3, 1)), lossfn::shape_error);
    CHECK(buffer.untouched());
    Resizable big(5, 5);
    CHECK_THROWS_AS(loss.forward_backward(pred, target, big.array.block(0, 0, 3, 3)), lossfn::shape_error);
    CHECK(big.untouched(5, 5));
  }
  if (Loss::reduction::divides_by_count) {
    {  // Mean over an empty input fails before the gradient is resized
      const ArrayCM empty(0, 3);
      Resizable grad(2, 2);
      CHECK_THROWS_AS(loss.forward_backward(empty, empty, grad.array), std::invalid_argument);
      CHECK(grad.untouched(2, 2));
      Buffer buffer;
      CHECK_THROWS_AS(loss.forward_backward(empty, empty, buffer.map(0, 3)), std::invalid_argument);
      CHECK(buffer.untouched());
    }
  }
  {  // forward_backward_hessian: a bad target or a bad Hessian output writes neither output
    Buffer grads, hessians;
    CHECK_THROWS_AS(loss.forward_backward_hessian(pred, wrong, grads.map(3, 2), hessians.map(3, 2)),
                    lossfn::shape_error);
    CHECK_THROWS_AS(loss.forward_backward_hessian(pred, target, grads.map(3, 2), hessians.map(2, 3)),
                    lossfn::shape_error);
    CHECK_THROWS_AS(loss.forward_backward_hessian(pred, target, grads.map(2, 3), hessians.map_rm(3, 2)),
                    lossfn::shape_error);
    CHECK(grads.untouched());
    CHECK(hessians.untouched());
    Resizable grad(4, 4), hess(1, 5);
    CHECK_THROWS_AS(loss.forward_backward_hessian(pred, wrong, grad.array, hess.array), lossfn::shape_error);
    CHECK(grad.untouched(4, 4));
    CHECK(hess.untouched(1, 5));
  }
  {  // the same calls with good arguments do write (the sentinel test can fail)
    Buffer buffer;
    loss.forward_backward(pred, target, buffer.map(3, 2));
    CHECK_FALSE(buffer.untouched());
    Buffer grads, hessians;
    loss.forward_backward_hessian(pred, target, grads.map(3, 2), hessians.map_rm(3, 2));
    CHECK_FALSE(grads.untouched());
    CHECK_FALSE(hessians.untouched());
  }
}

/// The shape-generic call-time errors of a row-wise loss: target, pred and
/// gradient shapes, Mean over no sample. Loss-specific errors (bad class
/// indices, option checks at the call) are provoked in the loss's own file with
/// expect_untouched.
template <bool IndexTargets, class Loss, bool DenseTargets = true>
void rowwise_errors(const Loss& loss, TargetForm form, const std::string& name) {
  CAPTURE(name);
  static_cast<void>(form);
  const ArrayCM pred = values(3, 4, -0.75);
  [[maybe_unused]] const Eigen::ArrayXi good_index = Eigen::ArrayXi::Zero(3);
  [[maybe_unused]] const ArrayCM good_dense = ArrayCM::Constant(3, 4, 0.25);
  {  // forward_backward_hessian: a bad target or a bad Hessian output writes neither output
    const auto fbh_untouched = [&](const auto& good, const auto& bad) {
      Buffer grads, hessians;
      CHECK_THROWS_AS(loss.forward_backward_hessian(pred, bad, grads.map(3, 4), hessians.map(3, 4)),
                      lossfn::shape_error);
      CHECK_THROWS_AS(loss.forward_backward_hessian(pred, good, grads.map(3, 4), hessians.map(4, 3)),
                      lossfn::shape_error);
      CHECK_THROWS_AS(loss.forward_backward_hessian(pred, good, grads.map_rm(4, 3), hessians.map(3, 4)),
                      lossfn::shape_error);
      CHECK(grads.untouched());
      CHECK(hessians.untouched());
      loss.forward_backward_hessian(pred, good, grads.map(3, 4), hessians.map(3, 4));
      CHECK_FALSE(grads.untouched());
      CHECK_FALSE(hessians.untouched());
    };
    bool done = false;
    if constexpr (IndexTargets) {
      if (form == TargetForm::Index) {
        fbh_untouched(good_index, Eigen::ArrayXi::Zero(2).eval());
        done = true;
      }
    }
    if constexpr (DenseTargets) {
      if (!done) fbh_untouched(good_dense, ArrayCM::Constant(4, 3, 0.25).eval());
    }
  }
  if constexpr (IndexTargets) {
    if (form == TargetForm::Index) {
      // an index target of the wrong length; pred with samples but no class; Mean over no sample
      const Eigen::ArrayXi short_target = Eigen::ArrayXi::Zero(2);
      expect_untouched<lossfn::shape_error>([&](auto&& g) { return loss.forward_backward(pred, short_target, g); }, 3,
                                            4);
      const ArrayCM no_class(3, 0);
      expect_untouched<lossfn::shape_error>([&](auto&& g) { return loss.forward_backward(no_class, good_index, g); }, 3,
                                            0);
      if (Loss::reduction::divides_by_count) {
        const ArrayCM no_sample(0, 4);
        const Eigen::ArrayXi no_target(0);
        expect_untouched<std::invalid_argument>(
            [&](auto&& g) { return loss.forward_backward(no_sample, no_target, g); }, 0, 4);
      }
      Buffer buffer;
      CHECK_THROWS_AS(loss.forward_backward(pred, good_index, buffer.map(4, 3)), lossfn::shape_error);
      CHECK(buffer.untouched());
      loss.forward_backward(pred, good_index, buffer.map(3, 4));
      CHECK_FALSE(buffer.untouched());
      return;
    }
  }
  if constexpr (DenseTargets) {
    // dense targets of the wrong shape (both transposed and one class short)
    const ArrayCM wrong = ArrayCM::Constant(4, 3, 0.25), narrow = ArrayCM::Constant(3, 3, 1.0 / 3);
    expect_untouched<lossfn::shape_error>([&](auto&& g) { return loss.forward_backward(pred, wrong, g); }, 3, 4);
    expect_untouched<lossfn::shape_error>([&](auto&& g) { return loss.forward_backward(pred, narrow, g); }, 3, 4);
    const ArrayCM no_class(3, 0);
    expect_untouched<lossfn::shape_error>([&](auto&& g) { return loss.forward_backward(no_class, no_class, g); }, 3, 0);
    if (Loss::reduction::divides_by_count) {
      const ArrayCM no_sample(0, 4);
      expect_untouched<std::invalid_argument>([&](auto&& g) { return loss.forward_backward(no_sample, no_sample, g); },
                                              0, 4);
    }
    Buffer buffer;
    CHECK_THROWS_AS(loss.forward_backward(pred, good_dense, buffer.map(3, 3)), lossfn::shape_error);
    CHECK(buffer.untouched());
    loss.forward_backward(pred, good_dense, buffer.map(3, 4));
    CHECK_FALSE(buffer.untouched());
  }
}

/// Every call-time error of a pair loss: both gradient buffers stay as they were.
template <class Loss>
void pair_errors(const Loss& loss, const std::string& name) {
  CAPTURE(name);
  const ArrayCM x1 = values(3, 2, 0.5), x2 = values(3, 2, -0.5);
  Eigen::ArrayXd labels(3);
  labels << 0, 1, 1;

  // every failing call: g1 and g2 are two caller buffers, both must stay as they were
  const auto expect_both_untouched = [&](auto expected_exception, const auto& call) {
    using E = decltype(expected_exception);
    Buffer b1, b2;
    CHECK_THROWS_AS(call(b1.map(3, 2), b2.map(3, 2)), E);
    CHECK(b1.untouched());
    CHECK(b2.untouched());
    Resizable r1(2, 2), r2(1, 1);
    CHECK_THROWS_AS(call(r1.array, r2.array), E);
    CHECK(r1.untouched(2, 2));
    CHECK(r2.untouched(1, 1));
  };
  // a label that is not 0 or 1 in the last row (floating and integer labels)
  Eigen::ArrayXd bad_label = labels;
  bad_label(2) = 0.5;
  expect_both_untouched(std::out_of_range(""),
                        [&](auto&& g1, auto&& g2) { return loss.forward_backward(x1, x2, bad_label, g1, g2); });
  Eigen::ArrayXi bad_int(3);
  bad_int << 1, 0, 2;
  expect_both_untouched(std::out_of_range(""),
                        [&](auto&& g1, auto&& g2) { return loss.forward_backward(x1, x2, bad_int, g1, g2); });
  // shapes: x2, the labels
  const ArrayCM x2_wrong = values(3, 3, 0.0);
  expect_both_untouched(lossfn::shape_error(""),
                        [&](auto&& g1, auto&& g2) { return loss.forward_backward(x1, x2_wrong, labels, g1, g2); });
  const Eigen::ArrayXd short_labels = Eigen::ArrayXd::Zero(2);
  expect_both_untouched(lossfn::shape_error(""),
                        [&](auto&& g1, auto&& g2) { return loss.forward_backward(x1, x2, short_labels, g1, g2); });
  if (Loss::reduction::divides_by_count) {
    // Mean over no pair
    const ArrayCM empty(0, 2);
    const Eigen::ArrayXd no_labels(0);
    expect_both_untouched(std::invalid_argument(""),
                          [&](auto&& g1, auto&& g2) { return loss.forward_backward(empty, empty, no_labels, g1, g2); });
  }
  // g1 right and g2 wrong: g1 must not be written either
  Buffer b1, b2;
  CHECK_THROWS_AS(loss.forward_backward(x1, x2, labels, b1.map(3, 2), b2.map(2, 3)), lossfn::shape_error);
  CHECK(b1.untouched());
  CHECK(b2.untouched());
  loss.forward_backward(x1, x2, labels, b1.map(3, 2), b2.map(3, 2));
  CHECK_FALSE(b1.untouched());
  CHECK_FALSE(b2.untouched());
}

// ---- no allocation ------------------------------------------------------------------

/// Runs check(view, a_view, b_view, grad_view) for a and b as Array, Map and Block
/// (of a larger array) and grad as Array (already of the right shape), Map and Block.
template <class Plain, class Check>
void for_each_view(const Plain& a, const Plain& b, const Check& check) {
  const Eigen::Index r = a.rows(), c = a.cols();
  Plain grad(r, c);
  check("Array", a, b, grad);
  const Eigen::Map<const Plain> am(a.data(), r, c), bm(b.data(), r, c);
  Eigen::Map<Plain> gm(grad.data(), r, c);
  check("Map", am, bm, gm);
  Plain big_a = Plain::Zero(r + 2, c + 3), big_b = Plain::Zero(r + 2, c + 3), big_grad(r + 2, c + 3);
  big_a.block(1, 2, r, c) = a;
  big_b.block(1, 2, r, c) = b;
  check("Block", big_a.block(1, 2, r, c), big_b.block(1, 2, r, c), big_grad.block(1, 2, r, c));
}

/// forward with Sum and Mean and forward_backward with Sum and Mean, over every
/// view: zero allocations each.
template <class Entry, class Plain>
void no_allocation_at(const typename Entry::Options& options, TargetForm form, const Operands<Plain>& ops) {
  const auto sum = Entry::make(lossfn::Sum{}, options);
  const auto mean = Entry::make(lossfn::Mean{}, options);
  if constexpr (Entry::shape == CallShape::Pair) {
    for_each_view(ops.a, ops.b, [&](const char* view, const auto& x1, const auto& x2, auto&& g1) {
      CAPTURE(view);
      Plain g2_storage(ops.a.rows(), ops.a.cols());
      Eigen::Map<Plain> g2(g2_storage.data(), ops.a.rows(), ops.a.cols());
      const auto& y = ops.labels;
      double sink = 0;
      CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward(x1, x2, y)); }) == 0);
      CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward(x1, x2, y)); }) == 0);
      CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward_backward(x1, x2, y, g1, g2)); }) == 0);
      CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward_backward(x1, x2, y, g1, g2)); }) == 0);
      CHECK(std::isfinite(sink));
    });
    // the Hessian call and the weighted calls, over plain arrays
    const auto weighted_mean = Entry::make(lossfn::WeightedMean{}, options);
    using Column = Eigen::Array<typename Plain::Scalar, Eigen::Dynamic, 1>;
    const Column w = Column::LinSpaced(ops.a.rows(), 0.5, 1.5);
    Plain g1(ops.a.rows(), ops.a.cols()), g2 = g1, h1 = g1, h2 = g1;
    double sink = 0;
    const auto& y = ops.labels;
    CHECK(allocations_of([&] {
            sink += static_cast<double>(mean.forward_backward_hessian(ops.a, ops.b, y, g1, g2, h1, h2));
          }) == 0);
    CHECK(allocations_of(
              [&] { sink += static_cast<double>(weighted_mean.forward(ops.a, ops.b, y, lossfn::weights(w))); }) == 0);
    CHECK(allocations_of([&] {
            sink += static_cast<double>(weighted_mean.forward_backward(ops.a, ops.b, y, lossfn::weights(w), g1, g2));
          }) == 0);
    CHECK(allocations_of([&] {
            sink += static_cast<double>(
                weighted_mean.forward_backward_hessian(ops.a, ops.b, y, lossfn::weights(w), g1, g2, h1, h2));
          }) == 0);
    CHECK(std::isfinite(sink));
  } else {
    const auto run = [&](const char* view, const auto& p, const auto& t, auto&& g) {
      CAPTURE(view);
      double sink = 0;
      CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward(p, t)); }) == 0);
      CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward(p, t)); }) == 0);
      CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward_backward(p, t, g)); }) == 0);
      CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward_backward(p, t, g)); }) == 0);
      {
        Plain h(ops.a.rows(), ops.a.cols());
        Eigen::Map<Plain> hm(h.data(), h.rows(), h.cols());
        CHECK(allocations_of([&] { sink += static_cast<double>(sum.forward_backward_hessian(p, t, g, h)); }) == 0);
        CHECK(allocations_of([&] { sink += static_cast<double>(mean.forward_backward_hessian(p, t, g, hm)); }) == 0);
      }
      CHECK(std::isfinite(sink));
    };
    // the weighted calls (one weight per row), over plain arrays
    const auto weighted = [&](const auto& t) {
      const auto weighted_mean = Entry::make(lossfn::WeightedMean{}, options);
      const Eigen::Array<typename Plain::Scalar, Eigen::Dynamic, 1> w =
          Eigen::Array<typename Plain::Scalar, Eigen::Dynamic, 1>::LinSpaced(ops.a.rows(), 0.5, 1.5);
      Plain g(ops.a.rows(), ops.a.cols()), h = g;
      double sink = 0;
      CHECK(allocations_of([&] { sink += static_cast<double>(weighted_mean.forward(ops.a, t, lossfn::weights(w))); }) ==
            0);
      CHECK(allocations_of(
                [&] { sink += static_cast<double>(sum.forward_backward(ops.a, t, lossfn::weights(w), g)); }) == 0);
      CHECK(allocations_of([&] {
              sink += static_cast<double>(weighted_mean.forward_backward_hessian(ops.a, t, lossfn::weights(w), g, h));
            }) == 0);
      CHECK(std::isfinite(sink));
    };
    if (form == TargetForm::Index) {
      if constexpr (index_targets<Entry>::value) {
        for_each_view(ops.a, ops.a,
                      [&](const char* view, const auto& p, const auto&, auto&& g) { run(view, p, ops.labels, g); });
        weighted(ops.labels);
      }
    } else if constexpr (dense_targets<Entry>::value) {
      for_each_view(ops.a, ops.b, run);
      weighted(ops.b);
    }
  }
}

// ---- threads --------------------------------------------------------------------------

constexpr int kThreads = 4;
constexpr int kIterations = 20;

/// Runs work(t) for t = 0..kThreads-1 once on this thread (the reference), then
/// kIterations times on each of kThreads threads at once; returns how many
/// concurrent results differed from their reference. work returns the loss
/// followed by every gradient coefficient.
template <class Work>
int concurrent_mismatches(const Work& work) {
  std::vector<std::vector<double>> reference;
  for (int t = 0; t < kThreads; ++t) reference.push_back(work(t));
  std::atomic<int> mismatches{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) {
      }  // start together, so the calls overlap
      for (int i = 0; i < kIterations; ++i) {
        if (work(t) != reference[static_cast<std::size_t>(t)]) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return mismatches.load();
}

template <class Plain>
void append(std::vector<double>& out, const Plain& grad) {
  for (Eigen::Index j = 0; j < grad.cols(); ++j)
    for (Eigen::Index i = 0; i < grad.rows(); ++i) out.push_back(static_cast<double>(grad(i, j)));
}

template <class Plain>
std::vector<double> flatten(double loss, const Plain& grad) {
  std::vector<double> out{loss};
  append(out, grad);
  return out;
}

/// One shared const loss, per-thread operands (300 x 8 = 2400 coefficients, more
/// than one block of the kernels) and gradients.
template <class Entry, class Loss>
void threads_at(const Loss& shared, TargetForm form) {
  using Plain = std::conditional_t<Entry::shape == CallShape::Elementwise, ArrayCM, ArrayRM>;
  std::vector<Operands<Plain>> data;
  for (int t = 0; t < kThreads; ++t)
    data.push_back(Entry::template operands<Plain>(300, 8, static_cast<unsigned>(100 + t), form));
  const auto work = [&](int t) {
    const Operands<Plain>& ops = data[static_cast<std::size_t>(t)];
    Plain grad(300, 8);
    if constexpr (Entry::shape == CallShape::Pair) {
      Plain g2(300, 8);
      std::vector<double> out = flatten(shared.forward_backward(ops.a, ops.b, ops.labels, grad, g2), grad);
      append(out, g2);
      return out;
    } else if constexpr (!dense_targets<Entry>::value) {
      return flatten(shared.forward_backward(ops.a, ops.labels, grad), grad);
    } else if constexpr (index_targets<Entry>::value) {
      const double loss = form == TargetForm::Index ? shared.forward_backward(ops.a, ops.labels, grad)
                                                    : shared.forward_backward(ops.a, ops.b, grad);
      return flatten(loss, grad);
    } else {
      return flatten(shared.forward_backward(ops.a, ops.b, grad), grad);
    }
  };
  CHECK(concurrent_mismatches(work) == 0);
  // the reference is not trivially equal for every thread (the data differ)
  CHECK(work(0) != work(1));
}

/// Failing calls (a target or x2 of the wrong shape) on several threads: each
/// throws its own shape_error, naming the loss, and writes nothing.
template <class Entry, class Loss>
void failing_threads_at(const Loss& shared) {
  const std::string prefix = std::string("lossfn::") + Entry::name + "::forward_backward: ";
  const ArrayCM pred = ArrayCM::Zero(3, 2), wrong = ArrayCM::Zero(2, 3);
  const Eigen::ArrayXi labels = Eigen::ArrayXi::Zero(3);
  const auto work = [&](int t) {
    ArrayRM grad = ArrayRM::Constant(3, 2, t);
    ArrayRM g2 = ArrayRM::Constant(3, 2, t);
    double caught = 0;
    try {
      if constexpr (Entry::shape == CallShape::Pair) {
        shared.forward_backward(pred, wrong, labels, grad, g2);
      } else if constexpr (!dense_targets<Entry>::value) {
        shared.forward_backward(pred, labels.head(2), grad);  // class indices of the wrong length
      } else {
        shared.forward_backward(pred, wrong, grad);
      }
    } catch (const lossfn::shape_error& error) {
      const std::string what = error.what();
      const bool right = Entry::shape == CallShape::Elementwise ? what == prefix + "pred is 3x2 but target is 2x3"
                                                                : what.compare(0, prefix.size(), prefix) == 0;
      caught = right ? 1 : -1;
    }
    std::vector<double> out = flatten(caught, grad);
    append(out, g2);
    return out;
  };
  CHECK(concurrent_mismatches(work) == 0);
  CHECK(work(0).front() == 1);
}

}  // namespace conformance_detail

// ---- the batteries ---------------------------------------------------------------

/// Whether an elementwise entry gives its own smooth operands for the battery,
///   template <class Plain> static std::pair<Plain, Plain> battery_pair(rows, cols, seed, const Options&)
/// (a loss whose targets are restricted or whose kinks are not in pred - target:
/// BinaryCrossEntropy, Hinge...); else smooth_pair with the entry's near_kink(e).
template <class Entry, class = void>
struct has_battery_pair : std::false_type {};
template <class Entry>
struct has_battery_pair<Entry, std::void_t<decltype(&Entry::template battery_pair<ArrayCM>)>> : std::true_type {};

/// Finite differences and the rest of run_elementwise_battery, at variants(..)[0]
/// (Elementwise losses; row-wise and pair losses check gradients in their own file).
template <class Entry>
void check_gradients() {
  static_assert(Entry::shape == CallShape::Elementwise, "check_gradients: elementwise losses only");
  const auto variant = Entry::variants(1).front();
  const auto make = [&](auto reduction) { return Entry::make(reduction, variant.options); };
  const auto pairs = [&](auto tag, Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    using Plain = typename decltype(tag)::type;
    if constexpr (has_battery_pair<Entry>::value) {
      return Entry::template battery_pair<Plain>(rows, cols, seed, variant.options);
    } else {
      const auto near_kink = [&](double e) { return Entry::near_kink(e, variant.options); };
      return smooth_pair<Plain>(rows, cols, seed, near_kink);
    }
  };
  run_elementwise_battery<Entry::terms>(Entry::name, make, pairs);
}

/// Finite differences of gradients and Hessian diagonals (every reduction, both
/// storage orders, two shapes) at every variant of an elementwise entry that gives
/// its own battery_pair (check_gradients covers variants(..)[0] in depth).
template <class Entry>
void check_gradients_every_variant() {
  static_assert(has_battery_pair<Entry>::value, "check_gradients_every_variant: entries with battery_pair");
  const Eigen::Index shapes[][2] = {{5, 4}, {3, 7}};
  unsigned seed = 301;
  for (const auto& shape : shapes) {
    for (const auto& variant : Entry::variants(shape[1])) {
      const std::string label = std::string(Entry::name) + ", " + variant.name;
      const auto make = [&](auto reduction) { return Entry::make(reduction, variant.options); };
      const auto pairs = [&](auto tag, Eigen::Index rows, Eigen::Index cols, unsigned s) {
        return Entry::template battery_pair<typename decltype(tag)::type>(rows, cols, s, variant.options);
      };
      check_gradients<Entry::terms, ArrayCM>(label, make, pairs, shape[0], shape[1], seed++);
      check_gradients<Entry::terms, ArrayRM>(label, make, pairs, shape[0], shape[1], seed++);
    }
  }
}

/// The strong guarantee of DESIGN.md: every check of a call runs before the call
/// writes any output, so a call that throws leaves the caller's gradient buffers
/// exactly as they were (bytes and, for resizable objects, shape). Every variant,
/// under Mean and Sum.
template <class Entry>
void check_strong_guarantee() {
  using namespace conformance_detail;
  // the elementwise operands below are 3 x 2 (a per-column option has 2 entries)
  for (const auto& variant : Entry::variants(Entry::shape == CallShape::Elementwise ? 2 : 4)) {
    const std::string label = std::string(Entry::name) + ", " + variant.name;
    const auto mean = Entry::make(lossfn::Mean{}, variant.options);
    const auto sum = Entry::make(lossfn::Sum{}, variant.options);
    if constexpr (Entry::shape == CallShape::Elementwise) {
      const auto ops = Entry::template operands<ArrayCM>(3, 2, 41, TargetForm::Dense);
      elementwise_errors(mean, label + ", Mean", ops.a, ops.b);
      elementwise_errors(sum, label + ", Sum", ops.a, ops.b);
    } else if constexpr (Entry::shape == CallShape::Rowwise) {
      constexpr bool index = index_targets<Entry>::value, dense = dense_targets<Entry>::value;
      rowwise_errors<index, decltype(mean), dense>(mean, variant.target, label + ", Mean");
      rowwise_errors<index, decltype(sum), dense>(sum, variant.target, label + ", Sum");
    } else {
      pair_errors(mean, label + ", Mean");
      pair_errors(sum, label + ", Sum");
    }
  }
}

/// Zero allocations in forward (Sum, Mean), forward_backward and
/// forward_backward_hessian into caller-owned outputs, for every variant, for Array,
/// Map and Block operands and gradients of one scalar and storage order (Plain), and
/// with one weight per row (WeightedMean, plain arrays). Elementwise operands are 70 x 90
/// (several kernel blocks and a ragged tail; 50 x 90 in float), row-wise 40 x 30,
/// pairs 50 x 20.
template <class Entry, class Plain>
void check_no_allocation_in() {
  const bool single = std::is_same<typename Plain::Scalar, float>::value;
  const unsigned seed = single ? 3 : Plain::IsRowMajor ? 2 : 1;
  const Eigen::Index rows = (Entry::shape == CallShape::Elementwise ? 70
                             : Entry::shape == CallShape::Rowwise   ? 40
                                                                    : 50) -
                            (single ? 20 : 0);
  const Eigen::Index cols = Entry::shape == CallShape::Elementwise ? 90 : Entry::shape == CallShape::Rowwise ? 30 : 20;
  for (const auto& variant : Entry::variants(cols)) {
    CAPTURE(Entry::name, variant.name, Plain::IsRowMajor, single);
    conformance_detail::no_allocation_at<Entry>(variant.options, variant.target,
                                                Entry::template operands<Plain>(rows, cols, seed, variant.target));
  }
}

/// check_no_allocation_in for column- and row-major double and, for elementwise
/// losses, column-major float (their fast paths sum in float and fall back to
/// double per block). Row-wise and pair losses test float in their own files: a
/// whole set of kernel instantiations more here would make the unit too heavy.
template <class Entry>
void check_no_allocation() {
  check_no_allocation_in<Entry, conformance_detail::ArrayCM>();
  check_no_allocation_in<Entry, conformance_detail::ArrayRM>();
  if constexpr (Entry::shape == CallShape::Elementwise) check_no_allocation_in<Entry, Eigen::ArrayXXf>();
}

namespace conformance_detail {

/// loss.forward_backward over rows [first, first + count) of ops, the gradients
/// written into the same rows of g1 (and g2, a pair loss's dL/dx2) through Blocks.
template <class Entry, class Loss, class Plain>
double shard_forward_backward(const Loss& loss, const Operands<Plain>& ops, TargetForm form, Eigen::Index first,
                              Eigen::Index count, Plain& g1, Plain& g2) {
  const auto a = ops.a.middleRows(first, count);
  auto out1 = g1.middleRows(first, count);
  if constexpr (Entry::shape == CallShape::Pair) {
    auto out2 = g2.middleRows(first, count);
    return static_cast<double>(
        loss.forward_backward(a, ops.b.middleRows(first, count), ops.labels.segment(first, count), out1, out2));
  } else {
    static_cast<void>(g2);
    if constexpr (index_targets<Entry>::value) {
      if (!dense_targets<Entry>::value || form == TargetForm::Index)
        return static_cast<double>(loss.forward_backward(a, ops.labels.segment(first, count), out1));
    }
    if constexpr (dense_targets<Entry>::value) {
      return static_cast<double>(loss.forward_backward(a, ops.b.middleRows(first, count), out1));
    } else {
      return 0;  // not reached: class indices only
    }
  }
}

/// Mean's denominator() of the same rows.
template <class Entry, class Loss, class Plain>
double shard_denominator(const Loss& mean, const Operands<Plain>& ops, TargetForm form, Eigen::Index first,
                         Eigen::Index count) {
  const auto a = ops.a.middleRows(first, count);
  if constexpr (Entry::shape == CallShape::Pair) {
    return static_cast<double>(mean.denominator(a, ops.b.middleRows(first, count), ops.labels.segment(first, count)));
  } else {
    if constexpr (index_targets<Entry>::value) {
      if (!dense_targets<Entry>::value || form == TargetForm::Index)
        return static_cast<double>(mean.denominator(a, ops.labels.segment(first, count)));
    }
    if constexpr (dense_targets<Entry>::value) {
      return static_cast<double>(mean.denominator(a, ops.b.middleRows(first, count)));
    } else {
      return 0;  // not reached: class indices only
    }
  }
}

}  // namespace conformance_detail

/// Sharded batches (FAMILIES.md 1.3): the rows of a batch split into uneven shards,
/// one of them empty, each run with Sum, recombined as L = sum of the shards' sums /
/// sum of Mean's denominator() per shard and gradient = the shards' Sum gradients /
/// that denominator, equal the whole batch under Mean in value and gradients, for
/// every variant (CrossEntropy: class weights, label smoothing, ignore_index).
/// RMSE follows its own recipe: MSE<Sum> per shard, L = sqrt(S / N), gradient =
/// MSE<Sum>'s / (2 N L).
template <class Entry>
void check_sharding() {
  using conformance_detail::ArrayCM;
  const Eigen::Index m = 11, d = Entry::shape == CallShape::Elementwise ? 3 : 5;
  const Eigen::Index cuts[] = {0, 4, 4, 9, 11};  // [0, 4), [4, 4) empty, [4, 9), [9, 11)
  for (const auto& variant : Entry::variants(d)) {
    CAPTURE(Entry::name, variant.name);
    const auto ops = Entry::template operands<ArrayCM>(m, d, 17, variant.target);
    const auto mean = Entry::make(lossfn::Mean{}, variant.options);
    ArrayCM whole_g1(m, d), whole_g2(m, d);
    const double whole =
        conformance_detail::shard_forward_backward<Entry>(mean, ops, variant.target, 0, m, whole_g1, whole_g2);
    double sum = 0, denominator = 0;
    ArrayCM g1 = ArrayCM::Zero(m, d), g2 = ArrayCM::Zero(m, d);
    for (std::size_t s = 0; s + 1 < std::size(cuts); ++s) {
      const Eigen::Index first = cuts[s], count = cuts[s + 1] - cuts[s];
      if constexpr (root_of_sum<Entry>()) {
        sum += conformance_detail::shard_forward_backward<Entry>(lossfn::MSE<lossfn::Sum>{}, ops, variant.target, first,
                                                                 count, g1, g2);
      } else {
        sum += conformance_detail::shard_forward_backward<Entry>(Entry::make(lossfn::Sum{}, variant.options), ops,
                                                                 variant.target, first, count, g1, g2);
      }
      const double shard_denominator =
          conformance_detail::shard_denominator<Entry>(mean, ops, variant.target, first, count);
      if (count == 0) CHECK(shard_denominator == 0);
      denominator += shard_denominator;
    }
    double loss = sum / denominator;
    double factor = 1 / denominator;
    if constexpr (root_of_sum<Entry>()) {
      loss = std::sqrt(sum / denominator);
      factor = 1 / (2 * denominator * loss);
    }
    CHECK(loss == Approx(whole).epsilon(1e-13));
    CHECK(max_error(g1 * factor, whole_g1) < 1e-14);
    if constexpr (Entry::shape == CallShape::Pair) CHECK(max_error(g2 * factor, whole_g2) < 1e-14);
  }
}

/// Thread safety (DESIGN.md: a loss is a const functor whose only state is its
/// options, so one object can be shared by many threads): several threads share
/// one const loss and call forward_backward on their own data at once; every
/// result equals, bit for bit, the one computed on one thread beforehand. Every
/// variant, under Mean and Sum. Run under ThreadSanitizer by scripts/sanitize.
template <class Entry>
void check_threads() {
  for (const auto& variant : Entry::variants(8)) {
    CAPTURE(Entry::name, variant.name);
    conformance_detail::threads_at<Entry>(Entry::make(lossfn::Mean{}, variant.options), variant.target);
    conformance_detail::threads_at<Entry>(Entry::make(lossfn::Sum{}, variant.options), variant.target);
  }
}

/// Failing calls on several threads throw independently (variants(..)[0], Mean).
template <class Entry>
void check_failing_threads() {
  conformance_detail::failing_threads_at<Entry>(Entry::make(lossfn::Mean{}, Entry::variants(2).front().options));
}

}  // namespace lossfn_test

/// The conformance test cases of one registered loss (an entry, see above), in the
/// loss's own test file. Test names keep the form the cross-cutting files used,
/// so "threads: " selects every thread test (scripts/sanitize tsan). A loss whose
/// unit grows too heavy may spread the three parts over several of its files.
#define LOSSFN_CONFORMANCE_TEST_CASES(Entry) \
  LOSSFN_STRONG_GUARANTEE_TEST_CASES(Entry)  \
  LOSSFN_NO_ALLOCATION_TEST_CASES(Entry)     \
  LOSSFN_SHARDING_TEST_CASES(Entry)          \
  LOSSFN_WEIGHTS_TEST_CASES(Entry)           \
  LOSSFN_THREADS_TEST_CASES(Entry)

/// The sharding battery of one entry.
#define LOSSFN_SHARDING_TEST_CASES(Entry)                          \
  TEST_CASE(std::string("sharding: ") + Entry::name +              \
            ": uneven shards recombined with denominator() equal " \
            "the whole batch") {                                   \
    lossfn_test::check_sharding<Entry>();                          \
  }

/// The strong-guarantee battery of one entry.
#define LOSSFN_STRONG_GUARANTEE_TEST_CASES(Entry) \
  TEST_CASE(std::string("strong guarantee: ") + Entry::name) { lossfn_test::check_strong_guarantee<Entry>(); }

/// The zero-allocation battery of one entry.
#define LOSSFN_NO_ALLOCATION_TEST_CASES(Entry)                                              \
  TEST_CASE(std::string(Entry::name) + ": forward and forward_backward allocate nothing") { \
    lossfn_test::check_no_allocation<Entry>();                                              \
  }

/// The thread batteries of one entry.
#define LOSSFN_THREADS_TEST_CASES(Entry)                                                                        \
  TEST_CASE(std::string("threads: one const ") + Entry::name + " shared by several threads") {                  \
    lossfn_test::check_threads<Entry>();                                                                        \
  }                                                                                                             \
  TEST_CASE(std::string("threads: failing ") + Entry::name + " calls on several threads throw independently") { \
    lossfn_test::check_failing_threads<Entry>();                                                                \
  }
