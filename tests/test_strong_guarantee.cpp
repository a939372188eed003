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

// ---- distributions -----------------------------------------------------------

namespace {

/// A call that must throw E and leave both a Map over a raw buffer and a resizable
/// array (of another shape) exactly as they were.
template <class E, class Call>
void expect_untouched(const Call& call, Eigen::Index rows, Eigen::Index cols) {
  Buffer buffer;
  CHECK_THROWS_AS(call(buffer.map(rows, cols)), E);
  CHECK_THROWS_AS(call(buffer.map_rm(rows, cols)), E);
  CHECK(buffer.untouched());
  Resizable grad(1, 5);
  CHECK_THROWS_AS(call(grad.array), E);
  CHECK(grad.untouched(1, 5));
}

ArrayCM logits(Eigen::Index rows, Eigen::Index cols) { return values(rows, cols, -0.75); }

}  // namespace

TEST_CASE("strong guarantee: CrossEntropy") {
  const ArrayCM pred = logits(3, 4);
  const lossfn::CrossEntropy<lossfn::Mean> ce;
  const lossfn::CrossEntropy<lossfn::Sum> ce_sum;

  // a class index out of range in the LAST row: found by the O(m) scan before any write
  Eigen::ArrayXi bad_index(3);
  bad_index << 0, 3, 4;
  expect_untouched<std::out_of_range>([&](auto&& g) { return ce.forward_backward(pred, bad_index, g); }, 3, 4);
  Eigen::Array<unsigned, Eigen::Dynamic, 1> bad_unsigned(3);
  bad_unsigned << 1, 2, 7;
  expect_untouched<std::out_of_range>([&](auto&& g) { return ce_sum.forward_backward(pred, bad_unsigned, g); }, 3, 4);
  Eigen::ArrayXi negative(3);
  negative << -1, 0, 0;
  expect_untouched<std::out_of_range>([&](auto&& g) { return ce.forward_backward(pred, negative, g); }, 3, 4);

  // an integer target with more than one column, or of the wrong length
  const Eigen::ArrayXXi two_columns = Eigen::ArrayXXi::Zero(3, 2);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce.forward_backward(pred, two_columns, g); }, 3, 4);
  const Eigen::ArrayXi short_target = Eigen::ArrayXi::Zero(2);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce.forward_backward(pred, short_target, g); }, 3, 4);

  // soft target of the wrong shape; soft target with ignore_index
  const ArrayCM soft_wrong = ArrayCM::Constant(3, 3, 1.0 / 3);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce.forward_backward(pred, soft_wrong, g); }, 3, 4);
  lossfn::CrossEntropyOptions ignoring;
  ignoring.ignore_index = 1;
  const lossfn::CrossEntropy<> ce_ignore(ignoring);
  const ArrayCM soft = ArrayCM::Constant(3, 4, 0.25);
  expect_untouched<std::invalid_argument>([&](auto&& g) { return ce_ignore.forward_backward(pred, soft, g); }, 3, 4);

  // class_weights of the wrong length
  lossfn::CrossEntropyOptions weighted;
  weighted.class_weights = Eigen::ArrayXd::Ones(5);
  const lossfn::CrossEntropy<> ce_weighted(weighted);
  const Eigen::ArrayXi good(Eigen::ArrayXi::Zero(3));
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce_weighted.forward_backward(pred, good, g); }, 3, 4);

  // pred with samples but no class; Mean over no sample
  const ArrayCM no_class(3, 0);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return ce.forward_backward(no_class, good, g); }, 3, 0);
  const ArrayCM no_sample(0, 4);
  const Eigen::ArrayXi no_target(0);
  expect_untouched<std::invalid_argument>([&](auto&& g) { return ce.forward_backward(no_sample, no_target, g); }, 0, 4);

  // a gradient Map of the wrong shape
  Buffer buffer;
  CHECK_THROWS_AS(ce.forward_backward(pred, good, buffer.map(4, 3)), lossfn::shape_error);
  CHECK(buffer.untouched());
  // and the good call writes
  ce.forward_backward(pred, good, buffer.map(3, 4));
  CHECK_FALSE(buffer.untouched());
}

TEST_CASE("strong guarantee: KLDivergence") {
  const ArrayCM pred = logits(3, 4), target = ArrayCM::Constant(3, 4, 0.25);
  const lossfn::KLDivergence<lossfn::Mean> kl;
  const ArrayCM wrong = ArrayCM::Constant(4, 3, 0.25);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return kl.forward_backward(pred, wrong, g); }, 3, 4);
  const ArrayCM no_class(3, 0);
  expect_untouched<lossfn::shape_error>([&](auto&& g) { return kl.forward_backward(no_class, no_class, g); }, 3, 0);
  const ArrayCM no_sample(0, 4);
  expect_untouched<std::invalid_argument>([&](auto&& g) { return kl.forward_backward(no_sample, no_sample, g); }, 0, 4);
  Buffer buffer;
  CHECK_THROWS_AS(kl.forward_backward(pred, target, buffer.map(3, 3)), lossfn::shape_error);
  CHECK(buffer.untouched());
  kl.forward_backward(pred, target, buffer.map(3, 4));
  CHECK_FALSE(buffer.untouched());
}

// ---- metric learning -----------------------------------------------------------

TEST_CASE("strong guarantee: Contrastive (both gradient buffers)") {
  const ArrayCM x1 = values(3, 2, 0.5), x2 = values(3, 2, -0.5);
  const lossfn::Contrastive<lossfn::Mean> loss;
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
  // Mean over no pair
  const ArrayCM empty(0, 2);
  const Eigen::ArrayXd no_labels(0);
  expect_both_untouched(std::invalid_argument(""),
                        [&](auto&& g1, auto&& g2) { return loss.forward_backward(empty, empty, no_labels, g1, g2); });
  // g1 right and g2 wrong: g1 must not be written either
  Buffer b1, b2;
  CHECK_THROWS_AS(loss.forward_backward(x1, x2, labels, b1.map(3, 2), b2.map(2, 3)), lossfn::shape_error);
  CHECK(b1.untouched());
  CHECK(b2.untouched());
  loss.forward_backward(x1, x2, labels, b1.map(3, 2), b2.map(3, 2));
  CHECK_FALSE(b1.untouched());
  CHECK_FALSE(b2.untouched());
}
