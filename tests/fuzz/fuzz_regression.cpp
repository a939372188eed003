// libFuzzer target: the regression family (MSE, MAE, RMSE, Huber, SmoothL1).
// Bytes choose the loss, the reduction, float or double, the storage order, the
// shapes (0 and 1 rows/columns included, target sometimes of another shape),
// Huber's delta (valid and invalid), the gradient output (a resizable array of a
// wrong shape, or a strided Map of the right or a wrong shape), and hard values.
// Checks: see fuzz_common.hpp.
#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>
#include <lossfn/smooth_l1.hpp>

#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"

namespace {

using namespace lossfn_fuzz;

struct Case {
  Eigen::Index rows, cols, target_rows, target_cols;
  double delta;
  bool delta_valid;
};

/// Every call of one loss object; `make` built it (a Huber constructor may throw).
template <class Loss, class T, int Order>
void exercise(FuzzedDataProvider& in, const Loss& loss, const Case& c) {
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

template <template <class> class Loss, class T, int Order>
void with_reduction(FuzzedDataProvider& in, const Case& c, int reduction) {
  switch (reduction) {
    case 0:
      exercise<Loss<lossfn::Sum>, T, Order>(in, Loss<lossfn::Sum>{}, c);
      break;
    case 1:
      exercise<Loss<lossfn::Mean>, T, Order>(in, Loss<lossfn::Mean>{}, c);
      break;
    default:
      if constexpr (!std::is_same<Loss<lossfn::Mean>, lossfn::RMSE<lossfn::Mean>>::value) {
        exercise<Loss<lossfn::None>, T, Order>(in, Loss<lossfn::None>{}, c);
      }
  }
}

// RMSE<None> does not compile: an alias that maps None to Sum keeps the switch uniform.
template <class R>
using RMSEAny = lossfn::RMSE<std::conditional_t<R::reduces, R, lossfn::Sum>>;

/// A loss whose constructor checks its one option (Huber's delta, SmoothL1's beta),
/// built from c.delta; `valid` says whether the constructor must accept it.
template <template <class> class Loss, class T, int Order>
void with_option(FuzzedDataProvider& in, const Case& c, int reduction, bool valid, const char* what) {
  const auto build = [&](auto reduction_tag) {
    using R = decltype(reduction_tag);
    Loss<R>* made = nullptr;
    const Outcome got = run([&] { made = new Loss<R>(c.delta); });
    check_outcome(got, valid ? 0u : unsigned(kInvalid), what);
    if (made != nullptr) {
      exercise<Loss<R>, T, Order>(in, *made, c);
      delete made;
    }
  };
  if (reduction == 0)
    build(lossfn::Sum{});
  else if (reduction == 1)
    build(lossfn::Mean{});
  else
    build(lossfn::None{});
}

template <class T, int Order>
void with_type(FuzzedDataProvider& in, const Case& c, int loss, int reduction) {
  switch (loss) {
    case 0:
      with_reduction<lossfn::MSE, T, Order>(in, c, reduction);
      break;
    case 1:
      with_reduction<lossfn::MAE, T, Order>(in, c, reduction);
      break;
    case 2:
      with_reduction<RMSEAny, T, Order>(in, c, reduction == 2 ? 0 : reduction);
      break;
    default:
      // Huber: the constructor checks delta
      with_option<lossfn::Huber, T, Order>(in, c, reduction, c.delta_valid, "Huber constructor");
      // then, now and then, SmoothL1 with beta = delta (0 valid: the L1 loss). Decided
      // after Huber has consumed its bytes, so the Huber seeds keep their meaning.
      if (in.ConsumeBool()) {
        const bool beta_valid = std::isfinite(c.delta) && c.delta >= 0;
        with_option<lossfn::SmoothL1, T, Order>(in, c, reduction, beta_valid, "SmoothL1 constructor");
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  trace().clear();
  const int loss = in.ConsumeIntegralInRange<int>(0, 3);
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
  const double deltas[] = {1.0,
                           0.5,
                           1e-30,
                           1e30,
                           2.5,
                           0.0,
                           -1.0,
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()};
  c.delta = deltas[in.ConsumeIntegralInRange<int>(0, 8)];
  c.delta_valid = std::isfinite(c.delta) && c.delta > 0;
  note("loss %d (MSE, MAE, RMSE, Huber [+ SmoothL1]) reduction %d (Sum, Mean, None), %s, %s, delta %g\n", loss,
       reduction, is_float ? "float" : "double", row_major ? "row-major" : "column-major", c.delta);
  if (is_float) {
    row_major ? with_type<float, Eigen::RowMajor>(in, c, loss, reduction)
              : with_type<float, Eigen::ColMajor>(in, c, loss, reduction);
  } else {
    row_major ? with_type<double, Eigen::RowMajor>(in, c, loss, reduction)
              : with_type<double, Eigen::ColMajor>(in, c, loss, reduction);
  }
  return 0;
}
