// libFuzzer target: the regression family, every entry of the conformance
// registry's ElementwiseEntries (tests/support/elementwise_entries.hpp: MSE, MAE,
// RMSE, Huber, SmoothL1, and any loss added there). Bytes choose the loss, the reduction, float or double, the storage
// order, the shapes (0 and 1 rows/columns included, target sometimes of another shape), the loss's option (Huber's
// delta, SmoothL1's beta; valid and invalid), the gradient output (a resizable array of a wrong shape, or a strided Map
// of the right or a wrong shape), and hard values. Checks: see fuzz_common.hpp.
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include "elementwise_entries.hpp"
#include "fuzz_common.hpp"
#include "fuzz_weights.hpp"

namespace {

using namespace lossfn_fuzz;

struct Case {
  Eigen::Index rows, cols, target_rows, target_cols;
  double option;  ///< the number options_from turns into a loss's options (Huber's delta, SmoothL1's beta)
};

/// The unweighted calls of fuzz_regression before the weighted section (their bytes
/// come first: the seeds keep their meaning).
template <class Loss, class T, int Order, class P, class Tg>
void unweighted(FuzzedDataProvider& in, const Loss& loss, const Case& c, const P& pred, const Tg& target,
                unsigned call_errors, bool finite_domain) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using R = typename Loss::reduction;
  const bool shapes_match = c.rows == c.target_rows && c.cols == c.target_cols;
  if constexpr (R::reduces) {
    T value{};
    Plain grad;
    check_outcome(run([&] { value = loss.forward(pred, target); }), call_errors, "forward");
    check_outcome(run([&] { grad = loss.backward(pred, target); }), call_errors, "backward");

    // forward_backward into a strided Map, maybe of the wrong shape
    GradBuffer<T, Order> buffer;
    const bool wrong_out = in.ConsumeBool();
    const Eigen::Index out_rows = wrong_out ? c.rows + 1 : c.rows;
    const Eigen::Index gap = in.ConsumeIntegralInRange<Eigen::Index>(0, 2);
    T fused{};
    const unsigned fused_errors = call_errors | (wrong_out ? unsigned(kShape) : 0u);
    const Outcome got = run([&] { fused = loss.forward_backward(pred, target, buffer.view(out_rows, c.cols, gap)); });
    check_outcome(got, fused_errors, "forward_backward (Map)");
    if (got != kOk) {
      check(buffer.untouched(), "a failed forward_backward wrote into the caller's buffer");
      return;
    }
    // a resizable gradient of an unrelated shape is resized
    Plain resized = Plain::Constant(2, 3, T(-1));
    T fused2{};
    check_outcome(run([&] { fused2 = loss.forward_backward(pred, target, resized); }), 0, "forward_backward (Array)");

    const auto fused_grad = buffer.view(c.rows, c.cols, gap);
    check(close(fused, value, kRel<T>) && close(fused2, value, kRel<T>), "forward_backward's loss != forward's");
    check(all_close(fused_grad, grad, kRel<T>) && all_close(resized, grad, kRel<T>),
          "forward_backward's gradient != backward's");
    if (finite_domain) {
      check(std::isfinite(static_cast<double>(value)), "non-finite loss on finite in-domain inputs");
      check(all_finite(grad) && all_finite(fused_grad), "non-finite gradient on finite in-domain inputs");
    }
  } else {
    Plain terms, grad;
    check_outcome(run([&] { terms = loss.forward(pred, target); }), call_errors, "forward (None)");
    Plain upstream(c.rows, c.cols);
    fill(in, upstream);
    note_array("upstream", upstream);
    check_outcome(run([&] { grad = loss.backward(pred, target, upstream); }), call_errors, "backward (None)");
    if (!shapes_match) return;
    check(terms.rows() == c.rows && terms.cols() == c.cols && grad.rows() == c.rows && grad.cols() == c.cols,
          "None: per-term losses or gradient of the wrong shape");
    if (finite_domain && in_domain(upstream)) {
      check(all_finite(terms) && all_finite(grad), "None: non-finite output on finite in-domain inputs");
    }
  }
}

/// RMSE's Hessian diagonal (s w_i / L)(1 - s w_i e_i^2 / L^2), L = sqrt(s sum w e^2), is
/// unbounded as L -> 0 with the e_i not all 0 (float errors of 1e-40 give 1e40): the
/// finiteness check asks it only where the true value fits, max_i s w_i / L <= 1e30
/// (computed in double; L = 0 gives 0). The other elementwise diagonals are bounded
/// by a constant (2, 1 or 1/beta <= 1e30) times the weight and the scale.
template <class R, class T, class P, class Tg>
bool rmse_hessian_bounded(const P& pred, const Tg& target, const DrawnWeights<T>& w) {
  double sum = 0, summed_weights = 0, largest_weight = 0;
  for (Eigen::Index j = 0; j < pred.cols(); ++j)
    for (Eigen::Index i = 0; i < pred.rows(); ++i) {
      const double e = static_cast<double>(static_cast<T>(pred(i, j) - target(i, j))),
                   wt = w.at(pred.rows(), pred.cols(), i, j);
      sum += wt * e * e;
      summed_weights += wt;
      largest_weight = std::max(largest_weight, wt);
    }
  const double n = static_cast<double>(pred.size());
  const double s = std::is_same<R, lossfn::Sum>::value            ? 1.0
                   : std::is_same<R, lossfn::WeightedMean>::value ? (summed_weights > 0 ? 1 / summed_weights : 0.0)
                                                                  : 1 / n;
  const double root = std::sqrt(s * sum);
  return root == 0 || s * largest_weight / root <= 1e30;
}

/// Every call of one loss object; `make` built it (a Huber constructor may throw),
/// and builds it under another reduction for the weighted section.
template <class Entry, class Loss, class T, int Order, class Make>
void exercise(FuzzedDataProvider& in, const Loss& loss, const Make& make, const Case& c) {
  using Plain = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using R = typename Loss::reduction;
  const Operand<Plain> pred_in(in, c.rows, c.cols), target_in(in, c.target_rows, c.target_cols);
  const auto pred = pred_in.view();
  const auto target = target_in.view();
  const bool shapes_match = c.rows == c.target_rows && c.cols == c.target_cols;
  const bool empty_mean = R::divides_by_count && c.rows * c.cols == 0;
  const unsigned call_errors = (shapes_match ? 0u : unsigned(kShape)) | (empty_mean ? unsigned(kInvalid) : 0u);
  const bool finite_domain = in_domain(pred) && in_domain(target);
  note("%s, expected errors %u, finite domain %d\n", Loss::name, call_errors, int(finite_domain));
  note_array("pred", pred);
  note_array("target", target);
  unweighted<Loss, T, Order>(in, loss, c, pred, target, call_errors, finite_domain);

  PredTarget pt;
  pt.errors = call_errors;
  pt.finite_domain = finite_domain;
  pt.per_entry = true;
  // every diagonal is >= 0 but RMSE's, whose 1 - s w e^2 / L^2 may round below 0
  pt.convex = Entry::terms != lossfn_test::Terms::RootOfSum;
  // RMSE's forward_backward_hessian and forward_backward differ in the last bits (the
  // fuzzer found a 68 x 32 float Sum case): there kRel, value for value for the others
  pt.fused_exact = Entry::terms != lossfn_test::Terms::RootOfSum;
  const auto bounded = [&](auto reduction, const DrawnWeights<T>& w) {
    if constexpr (Entry::terms == lossfn_test::Terms::RootOfSum) {
      return rmse_hessian_bounded<decltype(reduction)>(pred, target, w);
    } else {
      return true;
    }
  };
  weighted_section<R, T, Order>(in, make, pred, target, pt, bounded);
}

/// One entry's loss built with options_from(c.option) under the chosen reduction
/// (0 Sum, 1 Mean, 2 None; None is Sum for a loss without None, RMSE), checking
/// that the options are accepted or refused as the entry says, then exercised.
template <class Entry, class T, int Order>
void with_entry(FuzzedDataProvider& in, const Case& c, int reduction) {
  const typename Entry::Options options = Entry::options_from(c.option);
  const auto build = [&](auto reduction_tag) {
    using R = decltype(reduction_tag);
    using Loss = decltype(Entry::make(R{}, options));
    Loss* made = nullptr;
    const Outcome got = run([&] { made = new Loss(Entry::make(R{}, options)); });
    check_outcome(got, Entry::accepts(options) ? 0u : unsigned(kInvalid), "constructor");
    if (made != nullptr) {
      const auto make = [&](auto other) { return Entry::make(other, options); };
      exercise<Entry, Loss, T, Order>(in, *made, make, c);
      delete made;
    }
  };
  if (reduction == 0) {
    build(lossfn::Sum{});
  } else if (reduction == 1) {
    build(lossfn::Mean{});
  } else if constexpr (Entry::terms == lossfn_test::Terms::RootOfSum) {
    build(lossfn::Sum{});
  } else {
    build(lossfn::None{});
  }
}

using lossfn_test::ElementwiseEntries;

/// The entries the first selector byte chooses (MSE, MAE, RMSE, Huber), as before
/// the registry: the seed corpus keeps its meaning. Every later entry runs, now and
/// then, after the last of them (SmoothL1 after Huber, ...), each on a bool of its
/// own consumed after all the bytes of the entries before it.
constexpr int kSelected = 4;

template <class T, int Order, std::size_t... K>
void with_type(FuzzedDataProvider& in, const Case& c, int loss, int reduction, std::index_sequence<K...>) {
  ((K == static_cast<std::size_t>(loss)
        ? with_entry<std::tuple_element_t<K, ElementwiseEntries>, T, Order>(in, c, reduction)
        : void()),
   ...);
  if (loss != kSelected - 1) return;
  ((K >= static_cast<std::size_t>(kSelected) && in.ConsumeBool()
        ? with_entry<std::tuple_element_t<K, ElementwiseEntries>, T, Order>(in, c, reduction)
        : void()),
   ...);
}

template <class T, int Order>
void with_type(FuzzedDataProvider& in, const Case& c, int loss, int reduction) {
  with_type<T, Order>(in, c, loss, reduction, std::make_index_sequence<std::tuple_size<ElementwiseEntries>::value>{});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  trace().clear();
  const int loss = in.ConsumeIntegralInRange<int>(0, kSelected - 1);
  const int reduction = in.ConsumeIntegralInRange<int>(0, 2);
  const bool is_float = in.ConsumeBool();
  const bool row_major = in.ConsumeBool();
  Case c{};
  // now and then more coefficients than one block of the kernel (2048)
  const bool big = in.ConsumeIntegralInRange<int>(0, 15) == 0;
  c.rows = big ? in.ConsumeIntegralInRange<Eigen::Index>(64, 70) : in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  c.cols = big ? in.ConsumeIntegralInRange<Eigen::Index>(30, 33) : in.ConsumeIntegralInRange<Eigen::Index>(0, 5);
  const bool mismatch = in.ConsumeIntegralInRange<int>(0, 7) == 0;
  c.target_rows = mismatch ? in.ConsumeIntegralInRange<Eigen::Index>(0, 5) : c.rows;
  c.target_cols = mismatch ? in.ConsumeIntegralInRange<Eigen::Index>(0, 5) : c.cols;
  const double options[] = {1.0,
                            0.5,
                            1e-30,
                            1e30,
                            2.5,
                            0.0,
                            -1.0,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity()};
  c.option = options[in.ConsumeIntegralInRange<int>(0, 8)];
  note("loss %d (MSE, MAE, RMSE, Huber [+ later entries]) reduction %d (Sum, Mean, None), %s, %s, option %g\n", loss,
       reduction, is_float ? "float" : "double", row_major ? "row-major" : "column-major", c.option);
  if (is_float) {
    row_major ? with_type<float, Eigen::RowMajor>(in, c, loss, reduction)
              : with_type<float, Eigen::ColMajor>(in, c, loss, reduction);
  } else {
    row_major ? with_type<double, Eigen::RowMajor>(in, c, loss, reduction)
              : with_type<double, Eigen::ColMajor>(in, c, loss, reduction);
  }
  end_case();
  return 0;
}
