// The elementwise losses' entries in the conformance registry (support/registry.hpp
// for what an entry is): each loss's test file runs the batteries on its entry,
// and the fuzz target fuzz_regression and the benchmark bench_elementwise iterate
// ElementwiseEntries. Adding an elementwise loss: its entry here, appended to
// ElementwiseEntries, and its test file; the fuzzer and the benchmarks follow.
//
// Besides the conformance members, an elementwise entry has
//   id                    lower-case name of its benchmark cases (mse/forward/f32/1e3)
//   options_from(x)       options built from one fuzzed number (Huber's delta, ...)
//   accepts(options)      whether make() must accept them (else invalid_argument)
//   benchmark_options()   the options the benchmarks run
#pragma once

#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>
#include <lossfn/smooth_l1.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include "registry.hpp"

namespace lossfn_test {

/// The members an entry without options (MSE, MAE, RMSE) shares: one variant, the
/// elementwise operands, and nothing to fuzz in its options.
struct NoOptionsEntry {
  static constexpr CallShape shape = CallShape::Elementwise;
  using Options = NoOptions;
  static std::vector<Variant<Options>> variants(Eigen::Index) { return {{"default", {}}}; }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    return elementwise_operands<Plain>(rows, cols, seed);
  }
  static Options options_from(double) { return {}; }
  static bool accepts(const Options&) { return true; }
  static Options benchmark_options() { return {}; }
};

struct MseEntry : NoOptionsEntry {
  static constexpr const char* name = "MSE";
  static constexpr const char* id = "mse";
  static constexpr Terms terms = Terms::Additive;
  template <class R>
  static lossfn::MSE<R> make(R, const Options&) {
    return {};
  }
  static bool near_kink(double, const Options&) { return false; }  // smooth everywhere
};

struct MaeEntry : NoOptionsEntry {
  static constexpr const char* name = "MAE";
  static constexpr const char* id = "mae";
  static constexpr Terms terms = Terms::Additive;
  template <class R>
  static lossfn::MAE<R> make(R, const Options&) {
    return {};
  }
  // |e| has its kink at e = 0: keep finite differences away from it
  static bool near_kink(double e, const Options&) { return std::abs(e) < 0.05; }
};

struct RmseEntry : NoOptionsEntry {
  static constexpr const char* name = "RMSE";
  static constexpr const char* id = "rmse";
  // no None: its root is taken after the reduction (a compile-time error, tested in compile_fail)
  static constexpr Terms terms = Terms::RootOfSum;
  template <class R>
  static lossfn::RMSE<R> make(R, const Options&) {
    return {};
  }
  static bool near_kink(double, const Options&) { return false; }  // smooth away from L = 0
};

struct HuberEntry {
  static constexpr const char* name = "Huber";
  static constexpr const char* id = "huber";
  static constexpr CallShape shape = CallShape::Elementwise;
  static constexpr Terms terms = Terms::Additive;
  using Options = lossfn::HuberOptions;
  static std::vector<Variant<Options>> variants(Eigen::Index) {
    return {{"delta 0.7", Options{0.7}}, {"delta 0.5", Options{0.5}}, {"delta 2", Options{2.0}}};
  }
  template <class R>
  static lossfn::Huber<R> make(R, const Options& options) {
    return lossfn::Huber<R>(options);
  }
  // the second derivative jumps at |e| = delta: keep finite differences away from it
  static bool near_kink(double e, const Options& options) { return std::abs(std::abs(e) - options.delta) < 0.05; }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    return elementwise_operands<Plain>(rows, cols, seed);
  }
  static Options options_from(double x) { return Options{x}; }
  static bool accepts(const Options& options) { return std::isfinite(options.delta) && options.delta > 0; }
  // about half the errors of the benchmarks' inputs (uniform in [-2, 2]) on each branch
  static Options benchmark_options() { return Options{0.5}; }
};

struct SmoothL1Entry {
  static constexpr const char* name = "SmoothL1";
  static constexpr const char* id = "smooth_l1";
  static constexpr CallShape shape = CallShape::Elementwise;
  static constexpr Terms terms = Terms::Additive;
  using Options = lossfn::SmoothL1Options;
  static std::vector<Variant<Options>> variants(Eigen::Index) {
    return {{"beta 0.7", Options{0.7}}, {"beta 0.3", Options{0.3}}, {"beta 0 (L1)", Options{0.0}}};
  }
  template <class R>
  static lossfn::SmoothL1<R> make(R, const Options& options) {
    return lossfn::SmoothL1<R>(options);
  }
  // the second derivative jumps at |e| = beta, and the slope at e = 0 when beta = 0:
  // keep finite differences away from both
  static bool near_kink(double e, const Options& options) {
    return std::abs(std::abs(e) - options.beta) < 0.05 || std::abs(e) < 0.05;
  }
  template <class Plain>
  static Operands<Plain> operands(Eigen::Index rows, Eigen::Index cols, unsigned seed, TargetForm) {
    return elementwise_operands<Plain>(rows, cols, seed);
  }
  static Options options_from(double x) { return Options{x}; }
  static bool accepts(const Options& options) { return std::isfinite(options.beta) && options.beta >= 0; }
  // as Huber's: about half the benchmarks' errors on each branch
  static Options benchmark_options() { return Options{0.5}; }
};

/// Every elementwise entry. The order is fuzz_regression's selector: append new
/// entries at the end, so that its seed corpus keeps its meaning.
using ElementwiseEntries = std::tuple<MseEntry, MaeEntry, RmseEntry, HuberEntry, SmoothL1Entry>;

}  // namespace lossfn_test
