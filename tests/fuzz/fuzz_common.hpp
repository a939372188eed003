// What every lossfn fuzz target shares: turning bytes into hard values, shapes
// and views, running a call and classifying its outcome, and the checks
// (documented exceptions only, finite outputs on finite in-domain inputs,
// forward_backward == forward + backward, nothing written by a failed call).
// A failed check prints what failed and aborts, which libFuzzer reports as a crash.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <Eigen/Core>
#include <lossfn/errors.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace lossfn_fuzz {

/// A description of the current case (loss, options, shapes, values), printed when a
/// check fails so that a crash can be read without a debugger.
inline std::string& trace() {
  static std::string text;
  return text;
}

template <class... Args>
void note(const char* format, Args... args) {
  char line[256];
  std::snprintf(line, sizeof line, format, args...);
  trace() += line;
}

template <class Derived>
void note_array(const char* name, const Eigen::DenseBase<Derived>& x) {
  note("%s (%ldx%ld):", name, static_cast<long>(x.rows()), static_cast<long>(x.cols()));
  if (x.size() > 64) {  // big cases: the shape only (the input file reproduces the rest)
    trace() += " ...\n";
    return;
  }
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    trace() += i == 0 ? " [" : " ; [";
    for (Eigen::Index j = 0; j < x.cols(); ++j) note(" %.17g", static_cast<double>(x.derived().coeff(i, j)));
    trace() += " ]";
  }
  trace() += "\n";
}

/// Aborts with a message: the fuzzer saves the input that got here.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "lossfn fuzz check failed: %s\ncase:\n%s", what, trace().c_str());
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

/// With LOSSFN_FUZZ_TRACE set, prints every case's trace when it ends (to pick seed
/// inputs that reach a path: run the target on a corpus and grep).
inline void end_case() {
  static const bool print = std::getenv("LOSSFN_FUZZ_TRACE") != nullptr;
  if (print) std::fprintf(stderr, "%s--\n", trace().c_str());
}

/// Inputs at most this large (in magnitude) keep every loss's math finite in float
/// and double (squares of differences stay below 1e9; exp is only taken of logits
/// after the row maximum is subtracted).
constexpr double kDomain = 1e4;

/// A value drawn to hit the hard cases: signed zeros, +-1, +-1e4, +-88.7 (exp
/// overflows float just above), tiny normals, denormals of float and double,
/// +-1e30, the largest finite value, NaN and infinities; or an ordinary value.
template <class T>
T pick_value(FuzzedDataProvider& in) {
  using L = std::numeric_limits<T>;
  const T table[] = {T(0),
                     -T(0),
                     T(1),
                     T(-1),
                     T(0.5),
                     T(-2),
                     T(3),
                     T(1e4),
                     T(-1e4),
                     T(88.7),
                     T(-88.7),
                     T(1e-20),
                     T(-1e-20),
                     T(1e-38),
                     L::denorm_min(),
                     -L::denorm_min(),
                     T(1e-40),
                     T(1e30),
                     T(-1e30),
                     L::max(),
                     L::quiet_NaN(),
                     L::infinity(),
                     -L::infinity()};
  constexpr int n = static_cast<int>(sizeof table / sizeof table[0]);
  const int which = in.ConsumeIntegralInRange<int>(0, 2 * n);
  if (which < n) return table[which];
  return static_cast<T>(in.ConsumeFloatingPointInRange<double>(-10.0, 10.0));
}

template <class Plain>
void fill(FuzzedDataProvider& in, Plain& x) {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = pick_value<typename Plain::Scalar>(in);
}

/// True when every coefficient is finite and at most kDomain in magnitude.
template <class Derived>
bool in_domain(const Eigen::DenseBase<Derived>& x) {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      const double v = static_cast<double>(x.derived().coeff(i, j));
      if (!(std::abs(v) <= kDomain)) return false;
    }
  return true;
}

template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& x) {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      if (!std::isfinite(static_cast<double>(x.derived().coeff(i, j)))) return false;
  return true;
}

/// a and b agree: within rel x max(1, |a|, |b|) of each other (the fused pass may
/// round differently from the separate ones), or both NaN, or equal infinities.
/// `overflowed`: the inputs are outside the domain where the math is finite, and
/// intermediate sums may overflow; the kernels' row- and column-wise paths then
/// legitimately meet inf - inf or 0 x inf in different places, so any two
/// non-finite values agree (finite ones must still be close).
template <class T>
bool close(T a, T b, double rel, bool overflowed = false) {
  const double x = static_cast<double>(a), y = static_cast<double>(b);
  if (overflowed && !std::isfinite(x) && !std::isfinite(y)) return true;
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  if (std::isinf(x) || std::isinf(y)) return x == y;
  return std::abs(x - y) <= rel * std::max({1.0, std::abs(x), std::abs(y)});
}

template <class A, class B>
bool all_close(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b, double rel, bool overflowed = false) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      if (!close(a.derived().coeff(i, j), b.derived().coeff(i, j), rel, overflowed)) return false;
  return true;
}

template <class T>
constexpr double kRel = sizeof(T) < sizeof(double) ? 1e-4 : 1e-10;

/// What a call did: returned, or threw one of the documented types.
enum Outcome : unsigned { kOk = 0, kShape = 1, kInvalid = 2, kRange = 4 };

/// Runs f and classifies it; an exception of any other type escapes, and libFuzzer
/// reports it (only the documented types may leave a call).
template <class F>
Outcome run(F&& f) {
  try {
    f();
    return kOk;
  } catch (const lossfn::shape_error&) {
    return kShape;
  } catch (const std::out_of_range&) {
    return kRange;
  } catch (const std::invalid_argument&) {
    return kInvalid;
  }
}

/// The call must succeed when no error was expected, and otherwise fail with one of
/// the expected kinds (a call with several faults may report any of them).
inline void check_outcome(Outcome got, unsigned expected, const char* call) {
  if (expected == 0 && got != kOk) {
    std::fprintf(stderr, "%s threw (outcome %u) on valid arguments\n", call, static_cast<unsigned>(got));
    fail("unexpected exception");
  }
  if (expected != 0 && (got == kOk || (got & expected) == 0)) {
    std::fprintf(stderr, "%s: outcome %u, expected one of mask %u\n", call, static_cast<unsigned>(got), expected);
    fail("missing or wrong exception");
  }
}

/// a and b are the same value, or both NaN: what a fused call must give against the
/// separate calls (the same kernels, the same order of operations). Signed zeros are
/// not told apart.
template <class T>
bool same(T a, T b) {
  return a == b || (std::isnan(static_cast<double>(a)) && std::isnan(static_cast<double>(b)));
}

template <class A, class B>
bool all_same(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      if (!same(a.derived().coeff(i, j), b.derived().coeff(i, j))) return false;
  return true;
}

/// The largest |a - b| / max(1, |a|, |b|) over finite pairs (for the trace).
inline double rel_diff(double x, double y) {
  if (!std::isfinite(x) || !std::isfinite(y)) return 0;
  return std::abs(x - y) / std::max({1.0, std::abs(x), std::abs(y)});
}
template <class T, class = std::enable_if_t<std::is_arithmetic<T>::value>>
double max_rel_diff(T a, T b) {
  return rel_diff(static_cast<double>(a), static_cast<double>(b));
}
template <class A, class B>
double max_rel_diff(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b) {
  double largest = 0;
  if (a.rows() != b.rows() || a.cols() != b.cols()) return std::numeric_limits<double>::infinity();
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      largest = std::max(largest, rel_diff(static_cast<double>(a.derived().coeff(i, j)),
                                           static_cast<double>(b.derived().coeff(i, j))));
  return largest;
}

/// No coefficient below 0 (NaN passes: it is checked, where it must not occur, by
/// the finiteness checks).
template <class Derived>
bool none_negative(const Eigen::DenseBase<Derived>& x) {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      if (x.derived().coeff(i, j) < 0) return false;
  return true;
}

template <class Derived>
bool all_zero(const Eigen::DenseBase<Derived>& x) {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      if (!(x.derived().coeff(i, j) == 0)) return false;
  return true;
}

/// A caller's gradient buffer with room for any shape the targets use, seen through
/// a Map with an outer stride (so gradients may also be written with gaps), and
/// filled with a sentinel pattern: after a failed call it must be byte-identical.
template <class T, int Order>
struct GradBuffer {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using View = Eigen::Map<Plain, 0, Eigen::OuterStride<>>;
  std::vector<T> data;
  std::vector<T> pristine;
  GradBuffer() : data(4096, T(-777.125)), pristine(data) {}
  /// rows x cols, with `gap` unused entries after each row (row-major) or column.
  View view(Eigen::Index rows, Eigen::Index cols, Eigen::Index gap) {
    const Eigen::Index inner = Order == Eigen::RowMajor ? cols : rows;
    return View(data.data(), rows, cols, Eigen::OuterStride<>(inner + gap));
  }
  bool untouched() const { return std::memcmp(data.data(), pristine.data(), data.size() * sizeof(T)) == 0; }
};

/// An input seen through a Ref with an outer stride: either a whole array or a block
/// of a larger one (then its rows or columns are not contiguous).
template <class Plain>
struct Operand {
  using View = Eigen::Ref<const Plain, 0, Eigen::OuterStride<>>;
  Plain storage;
  Eigen::Index r0 = 0, c0 = 0, rows = 0, cols = 0;
  Operand(FuzzedDataProvider& in, Eigen::Index rows_, Eigen::Index cols_) : rows(rows_), cols(cols_) {
    const bool block = in.ConsumeBool();
    r0 = block ? in.ConsumeIntegralInRange<Eigen::Index>(0, 1) : 0;
    c0 = block ? in.ConsumeIntegralInRange<Eigen::Index>(0, 1) : 0;
    storage.resize(rows + r0 + (block ? 1 : 0), cols + c0 + (block ? 1 : 0));
    storage.setConstant(typename Plain::Scalar(12345));
    auto part = storage.block(r0, c0, rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) part(i, j) = pick_value<typename Plain::Scalar>(in);
  }
  View view() const { return View(storage.block(r0, c0, rows, cols)); }
};

}  // namespace lossfn_fuzz
