// The strong guarantee of DESIGN.md: every check of a call runs before the call
// writes any output, so a call that throws leaves the caller's gradient buffers
// exactly as they were (bytes and, for resizable objects, shape). Each error a
// loss can raise at a call is provoked against buffers full of a sentinel.
#include <lossfn/lossfn.hpp>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {

using ArrayCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapCM = Eigen::Map<ArrayCM>;
using MapRM = Eigen::Map<ArrayRM>;

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

ArrayCM values(Eigen::Index rows, Eigen::Index cols, double offset) {
  ArrayCM x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = offset + 0.25 * static_cast<double>(i);
  return x;
}

/// Every call-time error of an elementwise loss (MSE, MAE, Huber, RMSE) under Sum or Mean.
template <class Loss>
void elementwise_errors(const Loss& loss, const std::string& name) {
  CAPTURE(name);
  const ArrayCM pred = values(3, 2, 0.5), target = values(3, 2, -1.0), wrong = values(2, 3, 0.0);

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
  {  // the same call with good arguments does write (the sentinel test can fail)
    Buffer buffer;
    loss.forward_backward(pred, target, buffer.map(3, 2));
    CHECK_FALSE(buffer.untouched());
  }
}

}  // namespace

TEST_CASE("strong guarantee: MSE") {
  elementwise_errors(lossfn::MSE<lossfn::Mean>{}, "MSE<Mean>");
  elementwise_errors(lossfn::MSE<lossfn::Sum>{}, "MSE<Sum>");
}

TEST_CASE("strong guarantee: MAE") {
  elementwise_errors(lossfn::MAE<lossfn::Mean>{}, "MAE<Mean>");
  elementwise_errors(lossfn::MAE<lossfn::Sum>{}, "MAE<Sum>");
}

TEST_CASE("strong guarantee: RMSE") {
  elementwise_errors(lossfn::RMSE<lossfn::Mean>{}, "RMSE<Mean>");
  elementwise_errors(lossfn::RMSE<lossfn::Sum>{}, "RMSE<Sum>");
}

TEST_CASE("strong guarantee: Huber") {
  elementwise_errors(lossfn::Huber<lossfn::Mean>{0.5}, "Huber<Mean>");
  elementwise_errors(lossfn::Huber<lossfn::Sum>{2.0}, "Huber<Sum>");
}
