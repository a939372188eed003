// Robust regression: fit y = w x + b by gradient descent to data where 10% of the
// points are gross outliers, once with each of MSE, MAE and Huber. The outliers
// sit at large x far below the line, so they pull the least-squares slope down;
// MAE and Huber bound each point's pull (|dL/dpred| <= 1/n for MAE, delta/n for
// Huber) and recover the slope. Huber's delta (0.5) is set above the noise (0.2),
// so inliers get the quadratic, efficient part and outliers the linear one.
//
// Ends with the check: Huber and MAE slopes within 0.1 of the true slope, the MSE
// slope off by more than 0.5 (exit code 1 otherwise).
#include <lossfn/huber.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>

#include <cmath>
#include <cstdio>
#include <random>

namespace {

constexpr double kTrueSlope = 2.5;
constexpr double kTrueIntercept = 1.0;

struct Data {
  Eigen::ArrayXXd x, y;  // n x 1 columns
};

/// 200 points on the line with N(0, 0.2^2) noise; every 10th point, taken among
/// those with x > 0, is replaced by a gross outlier 20 to 30 below the line.
Data make_data() {
  const Eigen::Index n = 200;
  std::mt19937 engine(7);
  std::uniform_real_distribution<double> uniform_x(-2.0, 2.0), drop(20.0, 30.0);
  std::normal_distribution<double> noise(0.0, 0.2);
  Data d{Eigen::ArrayXXd(n, 1), Eigen::ArrayXXd(n, 1)};
  for (Eigen::Index i = 0; i < n; ++i) {
    d.x(i) = uniform_x(engine);
    d.y(i) = kTrueSlope * d.x(i) + kTrueIntercept + noise(engine);
    if (i % 10 == 0) {
      d.x(i) = std::abs(d.x(i));
      d.y(i) = kTrueSlope * d.x(i) + kTrueIntercept - drop(engine);
    }
  }
  return d;
}

struct Fit {
  double slope, intercept;
};

/// Full-batch gradient descent on L(w, b) = loss(w x + b, y). The loss gives
/// dL/dpred in one fused pass; the chain rule through pred = w x + b gives
/// dL/dw = sum_i g_i x_i and dL/db = sum_i g_i.
template <class Loss>
Fit gradient_descent(const char* label, const Loss& loss, const Data& d, double step, int iterations) {
  double w = 0, b = 0;
  Eigen::ArrayXXd pred(d.x.rows(), 1), grad(d.x.rows(), 1);  // reused: no allocation per step
  for (int it = 0; it <= iterations; ++it) {
    pred = w * d.x + b;
    const double value = loss.forward_backward(pred, d.y, grad);
    if (it % (iterations / 4) == 0) {
      std::printf("  %-5s step %5d: loss %9.4f  slope %7.4f  intercept %7.4f\n", label, it, value, w, b);
    }
    if (it == iterations) break;
    // a step size that shrinks as 1/sqrt(t) lets the sign-like MAE gradient settle
    const double rate = step / std::sqrt(1.0 + it / 100.0);
    w -= rate * (grad * d.x).sum();
    b -= rate * grad.sum();
  }
  return {w, b};
}

}  // namespace

int main() {
  const Data d = make_data();
  std::printf("fitting y = %.1f x + %.1f to 200 points, 20 of them gross outliers\n", kTrueSlope, kTrueIntercept);

  const Fit mse = gradient_descent("MSE", lossfn::MSE<>{}, d, 0.2, 4000);
  const Fit mae = gradient_descent("MAE", lossfn::MAE<>{}, d, 1.0, 4000);
  const Fit huber = gradient_descent("Huber", lossfn::Huber<>{0.5}, d, 1.0, 4000);

  std::printf("\n%-12s %8s %10s\n", "loss", "slope", "intercept");
  std::printf("%-12s %8.4f %10.4f\n", "true", kTrueSlope, kTrueIntercept);
  std::printf("%-12s %8.4f %10.4f\n", "MSE", mse.slope, mse.intercept);
  std::printf("%-12s %8.4f %10.4f\n", "MAE", mae.slope, mae.intercept);
  std::printf("%-12s %8.4f %10.4f\n", "Huber (0.5)", huber.slope, huber.intercept);

  const bool robust_ok = std::abs(mae.slope - kTrueSlope) < 0.1 && std::abs(huber.slope - kTrueSlope) < 0.1;
  const bool mse_pulled = std::abs(mse.slope - kTrueSlope) > 0.5;
  std::printf("\nlinear_regression: MAE and Huber recover the slope: %s; MSE is pulled away by the outliers: %s\n",
              robust_ok ? "yes" : "NO", mse_pulled ? "yes" : "NO");
  return robust_ok && mse_pulled ? 0 : 1;
}
