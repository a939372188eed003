// Accuracy of the fast float sums (include/lossfn/detail/accumulate.hpp): float
// terms are summed in float per block and the blocks combined in double, with a
// fall-back to double for any block whose float sum may have overflowed or
// underflowed. These tests hold that path to a long double reference.
#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "catch.hpp"

namespace {

using Floats = Eigen::ArrayXf;

Floats uniform_floats(Eigen::Index n, unsigned seed, float lo, float hi) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  Floats x(n);
  for (Eigen::Index i = 0; i < n; ++i) x(i) = uniform(engine);
  return x;
}

/// sum_i term(pred_i - target_i) with the difference and every sum in long double
/// (64-bit mantissa): the reference the float results are measured against.
long double reference_sum(const Floats& pred, const Floats& target,
                          const std::function<long double(long double)>& term) {
  long double total = 0;
  for (Eigen::Index i = 0; i < pred.size(); ++i) {
    total += term(static_cast<long double>(pred(i)) - static_cast<long double>(target(i)));
  }
  return total;
}

double relative_error(double value, long double reference) {
  return static_cast<double>(std::abs((static_cast<long double>(value) - reference) / reference));
}

}  // namespace

TEST_CASE("Float MSE, MAE, Huber and RMSE forward over 1e7 random floats stay within 1e-6 of long double") {
  const Eigen::Index n = 10000000;
  // errors of either sign, spread over two decades of magnitude
  const Floats pred = uniform_floats(n, 11, -10.0f, 10.0f);
  const Floats target = uniform_floats(n, 12, -10.0f, 10.0f);
  const long double count = static_cast<long double>(n);
  const double delta = 1.5;  // about a third of the errors on Huber's quadratic branch

  const long double squares = reference_sum(pred, target, [](long double e) { return e * e; });
  const long double absolutes = reference_sum(pred, target, [](long double e) { return std::abs(e); });
  const long double hubers = reference_sum(pred, target, [delta](long double e) {
    const long double a = std::abs(e), d = delta;
    return a <= d ? 0.5L * e * e : d * (a - 0.5L * d);  // the Huber formula of DESIGN.md
  });

  const double mse_sum = lossfn::MSE<lossfn::Sum>{}.forward(pred, target);
  const double mse_mean = lossfn::MSE<lossfn::Mean>{}.forward(pred, target);
  const double mae_sum = lossfn::MAE<lossfn::Sum>{}.forward(pred, target);
  const double mae_mean = lossfn::MAE<lossfn::Mean>{}.forward(pred, target);
  const double huber_sum = lossfn::Huber<lossfn::Sum>(delta).forward(pred, target);
  const double huber_mean = lossfn::Huber<lossfn::Mean>(delta).forward(pred, target);
  const double rmse = lossfn::RMSE<lossfn::Mean>{}.forward(pred, target);
  Floats grad(n);
  const double mse_fused = lossfn::MSE<lossfn::Mean>{}.forward_backward(pred, target, grad);
  const double huber_fused = lossfn::Huber<lossfn::Mean>(delta).forward_backward(pred, target, grad);

  CHECK(relative_error(mse_sum, squares) <= 1e-6);
  CHECK(relative_error(mse_mean, squares / count) <= 1e-6);
  CHECK(relative_error(mse_fused, squares / count) <= 1e-6);
  CHECK(relative_error(mae_sum, absolutes) <= 1e-6);
  CHECK(relative_error(mae_mean, absolutes / count) <= 1e-6);
  CHECK(relative_error(huber_sum, hubers) <= 1e-6);
  CHECK(relative_error(huber_mean, hubers / count) <= 1e-6);
  CHECK(relative_error(huber_fused, hubers / count) <= 1e-6);
  CHECK(relative_error(rmse, std::sqrt(squares / count)) <= 1e-6);
  // for the notes: how much headroom the 1e-6 bound has
  WARN("relative errors at 1e7 floats: MSE " << relative_error(mse_mean, squares / count) << ", MAE "
                                             << relative_error(mae_mean, absolutes / count) << ", Huber "
                                             << relative_error(huber_mean, hubers / count));
}

TEST_CASE("A float error whose square overflows float still gives the double-accumulated MSE") {
  // One error of 1e20 among 1e5 zeros: e^2 = 1e40 > FLT_MAX (3.4e38), but the mean,
  // 1e40 / 1e5 = 1e35, is a float. A float-only sum would return inf.
  const Eigen::Index n = 100000;
  Floats pred = Floats::Zero(n);
  const Floats target = Floats::Zero(n);
  pred(4321) = 1e20f;
  const long double expected = static_cast<long double>(1e20f) * static_cast<long double>(1e20f) / n;
  const float value = lossfn::MSE<lossfn::Mean>{}.forward(pred, target);
  Floats grad(n);
  const float fused = lossfn::MSE<lossfn::Mean>{}.forward_backward(pred, target, grad);
  CHECK(std::isfinite(value));
  CHECK(relative_error(value, expected) <= 1e-6);
  CHECK(relative_error(fused, expected) <= 1e-6);
  CHECK(grad(4321) == Approx(2e20 / n).epsilon(1e-6));  // 2 e / n, the MSE gradient
}

TEST_CASE("Float errors whose squares underflow float keep their sum exact to float precision") {
  // e = 1e-20: e^2 = 1e-40 is below FLT_MIN (1.2e-38), a denormal with few digits;
  // the sum over 1e5 terms, 1e-35, is a normal float and must be right to ~1e-7.
  const Eigen::Index n = 100000;
  const Floats pred = Floats::Constant(n, 1e-20f);
  const Floats target = Floats::Zero(n);
  const long double e = static_cast<long double>(1e-20f);
  const long double expected = e * e * n;  // the Sum of n equal squares
  CHECK(relative_error(lossfn::MSE<lossfn::Sum>{}.forward(pred, target), expected) <= 1e-6);
  CHECK(relative_error(lossfn::Huber<lossfn::Sum>(1.0).forward(pred, target), expected / 2) <= 1e-6);
}

TEST_CASE("Inputs in strided and mixed-order blocks are summed as accurately as flat ones") {
  // A 2000 x 3000 column-major array read through a row-major copy of its target:
  // the layouts differ, so the kernel walks pieces of rows and columns.
  const Eigen::Index rows = 2000, cols = 3000;
  const Floats flat_pred = uniform_floats(rows * cols, 21, -3.0f, 3.0f);
  const Floats flat_target = uniform_floats(rows * cols, 22, -3.0f, 3.0f);
  const Eigen::Map<const Eigen::ArrayXXf> pred(flat_pred.data(), rows, cols);
  const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> target =
      Eigen::Map<const Eigen::ArrayXXf>(flat_target.data(), rows, cols);
  const long double squares = reference_sum(flat_pred, flat_target, [](long double x) { return x * x; });
  CHECK(relative_error(lossfn::MSE<lossfn::Sum>{}.forward(pred, target), squares) <= 1e-6);
  CHECK(relative_error(lossfn::MSE<lossfn::Sum>{}.forward(pred.block(0, 0, rows, cols), target), squares) <= 1e-6);
}
