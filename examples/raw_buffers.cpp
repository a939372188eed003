// lossfn on memory you already own: a std::vector, a C array, a row-major buffer
// with padding. Eigen::Map views the memory without copying it; lossfn reads
// Maps in place, and forward_backward writes the gradient straight into a Map
// of your own buffer (no allocation: a Map is never resized, it must already
// have pred's shape, or the call throws lossfn::shape_error).
//
// Ends with the check: every loss and gradient equals a plain loop over the raw
// buffers, and the padding the gradient must not touch is untouched.
#include <lossfn/huber.hpp>
#include <lossfn/mse.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b)); }

/// 1. std::vector<double>: a column view with Map<const ArrayXd>, the gradient
///    written into another vector through Map<ArrayXd>.
bool from_vectors() {
  const std::vector<double> pred = {0.5, 2.0, -1.0, 4.0, 0.25};
  const std::vector<double> target = {0.0, 1.5, 0.0, 1.0, 0.25};
  std::vector<double> grad(pred.size());
  const auto n = static_cast<Eigen::Index>(pred.size());

  Eigen::Map<const Eigen::ArrayXd> p(pred.data(), n), t(target.data(), n);
  Eigen::Map<Eigen::ArrayXd> g(grad.data(), n);
  const double loss = lossfn::MSE<lossfn::Mean>{}.forward_backward(p, t, g);

  // the same by hand: L = 1/n sum (p - t)^2, dL/dp_i = 2 (p_i - t_i) / n
  double expected = 0;
  bool ok = true;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const double e = pred[i] - target[i];
    expected += e * e / static_cast<double>(pred.size());
    ok &= close(grad[i], 2 * e / static_cast<double>(pred.size()));
  }
  ok &= close(loss, expected);
  std::printf("std::vector<double> x5      MSE  = %.6f, grad[1] = %.6f  %s\n", loss, grad[1], ok ? "ok" : "WRONG");
  return ok;
}

/// 2. C arrays of float read as 2 x 3 row-major matrices (the layout of
///    float a[2][3]); float sums are accumulated in double inside lossfn.
bool from_c_arrays() {
  using RowMajor = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const float pred[2][3] = {{0.1f, 2.0f, -3.0f}, {0.5f, 0.0f, 1.0f}};
  const float target[2][3] = {{0.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}};
  float grad[2][3] = {};

  Eigen::Map<const RowMajor> p(&pred[0][0], 2, 3), t(&target[0][0], 2, 3);
  Eigen::Map<RowMajor> g(&grad[0][0], 2, 3);
  const lossfn::Huber<lossfn::Sum> huber(1.0);
  const float loss = huber.forward_backward(p, t, g);

  // by hand: 1/2 e^2 inside |e| <= 1, |e| - 1/2 outside; gradient clamp(e, -1, 1)
  double expected = 0;
  bool ok = true;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      const double e = static_cast<double>(pred[i][j]) - static_cast<double>(target[i][j]);
      expected += std::abs(e) <= 1 ? 0.5 * e * e : std::abs(e) - 0.5;
      ok &= std::abs(static_cast<double>(grad[i][j]) - std::clamp(e, -1.0, 1.0)) < 1e-6;
    }
  ok &= std::abs(static_cast<double>(loss) - expected) < 1e-5;
  std::printf("float[2][3] row-major       Huber = %.6f, grad[0][2] = %.6f  %s\n", static_cast<double>(loss),
              static_cast<double>(grad[0][2]), ok ? "ok" : "WRONG");
  return ok;
}

/// 3. A row-major batch buffer of m records of 4 doubles, where the first 3 are
///    the prediction and the 4th is something else (an id, padding): an outer
///    stride of 4 views the m x 3 predictions in place, and the gradient goes
///    into the same layout of another buffer, leaving its 4th column untouched.
bool from_strided_records() {
  using RowMajor = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Strided = Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
  using StridedOut = Eigen::Map<RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
  const Eigen::Index m = 3, width = 4;
  const std::vector<double> records = {1.0, 2.0, 3.0, 101, 0.0, -1.0, 0.5, 102, 2.0, 2.0, 2.0, 103};
  const std::vector<double> target = {1.5, 2.0, 2.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0};  // m x 3, dense
  std::vector<double> grad_records(records.size(), -7.0);                            // -7: "not written"

  Strided p(records.data(), m, 3, Eigen::OuterStride<>(width));
  Eigen::Map<const RowMajor> t(target.data(), m, 3);
  StridedOut g(grad_records.data(), m, 3, Eigen::OuterStride<>(width));
  const double loss = lossfn::MSE<lossfn::Sum>{}.forward_backward(p, t, g);

  double expected = 0;
  bool ok = true;
  for (Eigen::Index i = 0; i < m; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) {
      const double e = records[static_cast<std::size_t>(i * width + j)] - target[static_cast<std::size_t>(i * 3 + j)];
      expected += e * e;
      ok &= close(grad_records[static_cast<std::size_t>(i * width + j)], 2 * e);
    }
    ok &= grad_records[static_cast<std::size_t>(i * width + 3)] == -7.0;  // the 4th field was not touched
  }
  ok &= close(loss, expected);
  std::printf("3 records of 4, stride 4    MSE  = %.6f, padding untouched  %s\n", loss, ok ? "ok" : "WRONG");
  return ok;
}

/// 4. A Map with the wrong shape is refused before anything is written.
bool wrong_shape_is_refused() {
  const std::vector<double> pred = {1, 2, 3, 4}, target = {0, 0, 0, 0};
  std::vector<double> grad(3, -7.0);
  Eigen::Map<const Eigen::ArrayXd> p(pred.data(), 4), t(target.data(), 4);
  Eigen::Map<Eigen::ArrayXd> g(grad.data(), 3);  // one short: a Map cannot be resized
  bool refused = false;
  try {
    lossfn::MSE<>{}.forward_backward(p, t, g);
  } catch (const lossfn::shape_error& e) {
    refused = true;
    std::printf("a 3-entry gradient Map for 4 predictions: %s\n", e.what());
  }
  const bool untouched = std::all_of(grad.begin(), grad.end(), [](double v) { return v == -7.0; });
  return refused && untouched;
}

}  // namespace

int main() {
  bool ok = from_vectors();
  ok &= from_c_arrays();
  ok &= from_strided_records();
  ok &= wrong_shape_is_refused();
  std::puts(ok ? "raw_buffers: every result matches a plain loop over the buffers, written in place"
               : "raw_buffers: CHECK FAILED");
  return ok ? 0 : 1;
}
