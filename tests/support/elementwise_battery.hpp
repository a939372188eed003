// The conformance battery every elementwise loss (MSE, MAE, RMSE, Huber, SmoothL1) runs:
// finite-difference gradients and Hessian diagonals for each reduction, shape and
// storage order, the reduction identities, Map/Block/Matrix/expression inputs, and
// float vs double.
#pragma once

#include <lossfn/errors.hpp>
#include <lossfn/reduction.hpp>

#include <cmath>
#include <string>

#include "catch.hpp"
#include "gradient_check.hpp"
#include "registry.hpp"

namespace lossfn_test {

using ArrayCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The type tag a battery passes to its pair generator.
template <class Plain>
struct PlainTag {
  using type = Plain;
};

/// pred and target uniform in [-2, 2] whose errors keep away from each kink the
/// loss lists (near_kink(e)), so central differences see a smooth function: the
/// pairs of the losses of e = pred - target.
template <class Plain, class NearKink>
std::pair<Plain, Plain> smooth_pair(Eigen::Index rows, Eigen::Index cols, unsigned seed, const NearKink& near_kink) {
  Plain pred = random_array<Plain>(rows, cols, seed, -2, 2);
  const Plain target = random_array<Plain>(rows, cols, seed + 1000, -2, 2);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      while (near_kink(static_cast<double>(pred(i, j) - target(i, j)))) pred(i, j) += 0.0731;
  return {pred, target};
}

/// Gradients of every reduction against central differences, at one shape and order.
/// pairs(PlainTag<Plain>{}, rows, cols, seed) gives (pred, target) of that shape,
/// valid for the loss and away from its kinks.
template <Terms Kind, class Plain, class Make, class Pairs>
void check_gradients(const std::string& label, const Make& make, const Pairs& pairs, Eigen::Index rows,
                     Eigen::Index cols, unsigned seed) {
  CAPTURE(label, rows, cols, Plain::IsRowMajor);
  const std::pair<Plain, Plain> pred_and_target = pairs(PlainTag<Plain>{}, rows, cols, seed);
  const Plain& pred = pred_and_target.first;
  const Plain& target = pred_and_target.second;
  const auto sum = make(lossfn::Sum{});
  const auto mean = make(lossfn::Mean{});

  const auto f_sum = [&](const Plain& p) { return sum.forward(p, target); };
  CHECK(gradient_error(label, f_sum, pred, sum.backward(pred, target)) < kGradientTolerance);
  const auto f_mean = [&](const Plain& p) { return mean.forward(p, target); };
  CHECK(gradient_error(label, f_mean, pred, mean.backward(pred, target)) < kGradientTolerance);

  // the fused pass: same value and gradient as forward and backward
  Plain fused(rows, cols);
  CHECK(mean.forward_backward(pred, target, fused) == Approx(mean.forward(pred, target)).epsilon(1e-14));
  CHECK(max_error(fused, mean.backward(pred, target)) < 1e-15);
  CHECK(sum.forward_backward(pred, target, fused) == Approx(sum.forward(pred, target)).epsilon(1e-14));
  CHECK(max_error(fused, sum.backward(pred, target)) < 1e-15);

  // Hessian diagonals against central differences of backward, and the one-pass call
  const auto g_sum = [&](const Plain& p) { return sum.backward(p, target); };
  CHECK(hessian_error(label, g_sum, pred, sum.hessian_diagonal(pred, target)) < kGradientTolerance);
  const auto g_mean = [&](const Plain& p) { return mean.backward(p, target); };
  const Plain hess_mean = mean.hessian_diagonal(pred, target);
  CHECK(hessian_error(label, g_mean, pred, hess_mean) < kGradientTolerance);
  Plain fused_hess(rows, cols);
  CHECK(mean.forward_backward_hessian(pred, target, fused, fused_hess) ==
        Approx(mean.forward(pred, target)).epsilon(1e-14));
  CHECK(max_error(fused, mean.backward(pred, target)) < 1e-15);
  CHECK(max_error(fused_hess, hess_mean) < 1e-15);

  // Sum = n x Mean in value and gradient (sqrt(n) x Mean for a root of the sum)
  const double n = static_cast<double>(pred.size());
  const double ratio = Kind == Terms::Additive ? n : std::sqrt(n);
  CHECK(sum.forward(pred, target) == Approx(ratio * mean.forward(pred, target)).epsilon(1e-13));
  CHECK(max_error(sum.backward(pred, target), ratio * mean.backward(pred, target)) < 1e-13);

  if constexpr (Kind == Terms::Additive) {
    const auto none = make(lossfn::None{});
    const Plain upstream = random_array<Plain>(rows, cols, seed + 7);
    // VJP: d/dpred of sum(upstream * per-term losses)
    const auto f_none = [&](const Plain& p) { return (upstream * Plain(none.forward(p, target))).sum(); };
    CHECK(gradient_error(label, f_none, pred, none.backward(pred, target, upstream)) < kGradientTolerance);
    const Plain terms = none.forward(pred, target);
    CHECK(terms.rows() == rows);
    CHECK(terms.cols() == cols);
    CHECK(terms.sum() == Approx(sum.forward(pred, target)).epsilon(1e-13));
    const Plain ones = Plain::Ones(rows, cols);
    CHECK(max_error(none.backward(pred, target, ones), sum.backward(pred, target)) < 1e-15);
    // None's Hessian diagonal: of sum(upstream * per-term losses)
    const auto g_none = [&](const Plain& p) { return none.backward(p, target, upstream); };
    CHECK(hessian_error(label, g_none, pred, none.hessian_diagonal(pred, target, upstream)) < kGradientTolerance);
    CHECK(max_error(none.hessian_diagonal(pred, target, ones), sum.hessian_diagonal(pred, target)) < 1e-15);
  }
}

/// The whole battery for one elementwise loss. make(reduction) builds the loss;
/// pairs gives its smooth operands (see check_gradients).
template <Terms Kind, class Make, class Pairs>
void run_elementwise_battery(const std::string& label, const Make& make, const Pairs& pairs) {
  const Eigen::Index shapes[][2] = {{1, 1}, {9, 1}, {1, 6}, {5, 4}, {3, 7}};
  unsigned seed = 11;
  for (const auto& shape : shapes) {
    check_gradients<Kind, ArrayCM>(label, make, pairs, shape[0], shape[1], seed++);
    check_gradients<Kind, ArrayRM>(label, make, pairs, shape[0], shape[1], seed++);
  }

  const auto mean = make(lossfn::Mean{});
  const std::pair<ArrayCM, ArrayCM> pred_and_target = pairs(PlainTag<ArrayCM>{}, 6, 5, 99);
  const ArrayCM& pred = pred_and_target.first;
  const ArrayCM& target = pred_and_target.second;
  const double value = mean.forward(pred, target);
  const ArrayCM grad = mean.backward(pred, target);

  SECTION("the value does not depend on storage order or on the kind of input") {
    const ArrayRM pred_rm = pred, target_rm = target;
    CHECK(mean.forward(pred_rm, target_rm) == Approx(value).epsilon(1e-14));
    CHECK(mean.forward(pred_rm, target) == Approx(value).epsilon(1e-14));  // mixed orders
    CHECK(max_error(mean.backward(pred_rm, target), grad) < 1e-15);
    CHECK(mean.forward(pred.matrix(), target.matrix()) == Approx(value).epsilon(1e-14));
    const Eigen::MatrixXd gm = mean.backward(pred.matrix(), target.matrix());
    CHECK(max_error(gm, grad) < 1e-15);
    // unevaluated expressions
    CHECK(mean.forward(pred * 1.0, target + 0.0) == Approx(value).epsilon(1e-14));
    // Map over a raw buffer, and a Ref
    const Eigen::Map<const ArrayCM> pred_map(pred.data(), pred.rows(), pred.cols());
    CHECK(mean.forward(pred_map, target) == Approx(value).epsilon(1e-14));
    const Eigen::Ref<const Eigen::MatrixXd> pred_ref = pred.matrix();
    CHECK(mean.forward(pred_ref, target.matrix()) == Approx(value).epsilon(1e-14));
  }

  SECTION("Blocks and strided Maps read and write the right coefficients") {
    ArrayCM big_pred = ArrayCM::Constant(10, 9, 123.0), big_target = ArrayCM::Constant(10, 9, -7.0);
    big_pred.block(2, 3, 6, 5) = pred;
    big_target.block(1, 1, 6, 5) = target;
    CHECK(mean.forward(big_pred.block(2, 3, 6, 5), big_target.block(1, 1, 6, 5)) == Approx(value).epsilon(1e-14));
    ArrayRM big_grad = ArrayRM::Constant(8, 8, 5.0);
    const double fused =
        mean.forward_backward(big_pred.block(2, 3, 6, 5), big_target.block(1, 1, 6, 5), big_grad.block(1, 2, 6, 5));
    CHECK(fused == Approx(value).epsilon(1e-14));
    CHECK(max_error(big_grad.block(1, 2, 6, 5), grad) < 1e-15);
    // forward_backward_hessian into two Blocks of row-major buffers
    ArrayRM big_hess = ArrayRM::Constant(8, 8, 5.0);
    CHECK(mean.forward_backward_hessian(big_pred.block(2, 3, 6, 5), big_target.block(1, 1, 6, 5),
                                        big_grad.block(1, 2, 6, 5),
                                        big_hess.block(2, 1, 6, 5)) == Approx(value).epsilon(1e-14));
    CHECK(max_error(big_grad.block(1, 2, 6, 5), grad) < 1e-15);
    CHECK(max_error(big_hess.block(2, 1, 6, 5), mean.hessian_diagonal(pred, target)) < 1e-15);
    CHECK(max_error(mean.hessian_diagonal(pred.matrix(), target * 1.0), mean.hessian_diagonal(pred, target)) < 1e-15);
    ArrayRM hess_untouched = big_hess;
    hess_untouched.block(2, 1, 6, 5).setConstant(5.0);
    CHECK((hess_untouched == 5.0).all());
    ArrayRM untouched = big_grad;
    untouched.block(1, 2, 6, 5).setConstant(5.0);
    CHECK((untouched == 5.0).all());  // nothing outside the block was written
    // every other column of a buffer, through an outer-stride Map
    ArrayCM wide = ArrayCM::Zero(6, 10);
    for (Eigen::Index j = 0; j < 5; ++j) wide.col(2 * j) = pred.col(j);
    const Eigen::Map<const ArrayCM, 0, Eigen::OuterStride<>> strided(wide.data(), 6, 5, Eigen::OuterStride<>(12));
    CHECK(mean.forward(strided, target) == Approx(value).epsilon(1e-14));
  }

  SECTION("a long vector crosses the kernel's blocks") {
    const std::pair<ArrayCM, ArrayCM> long_pred_and_long_target = pairs(PlainTag<ArrayCM>{}, 5000, 1, 5);
    const ArrayCM& long_pred = long_pred_and_long_target.first;
    const ArrayCM& long_target = long_pred_and_long_target.second;
    const auto sum = make(lossfn::Sum{});
    // one element at a time, through the 1x1 path; a root of a sum is squared back
    const auto term = [&](Eigen::Index i) {
      const double one = sum.forward(long_pred.block(i, 0, 1, 1), long_target.block(i, 0, 1, 1));
      return Kind == Terms::Additive ? one : one * one;
    };
    const auto total = [&](double loss) { return Kind == Terms::Additive ? loss : loss * loss; };
    double by_hand = 0;
    for (Eigen::Index i = 0; i < long_pred.size(); ++i) by_hand += term(i);
    CHECK(total(sum.forward(long_pred, long_target)) == Approx(by_hand).epsilon(1e-12));
    ArrayCM g(5000, 1);
    CHECK(total(sum.forward_backward(long_pred, long_target, g)) == Approx(by_hand).epsilon(1e-12));
    CHECK(max_error(g, sum.backward(long_pred, long_target)) < 1e-15);
  }

  SECTION("float agrees with double") {
    using ArrayF = Eigen::ArrayXXf;
    const ArrayF pred_f = pred.template cast<float>(), target_f = target.template cast<float>();
    const float value_f = mean.forward(pred_f, target_f);
    CHECK(static_cast<double>(value_f) ==
          Approx(mean.forward(pred_f.template cast<double>(), target_f.template cast<double>()))
              .epsilon(Tolerance<float>::rel));
    ArrayF grad_f(6, 5);
    mean.forward_backward(pred_f, target_f, grad_f);
    CHECK(max_error(grad_f, mean.backward(pred_f.template cast<double>(), target_f.template cast<double>())) <
          Tolerance<float>::rel);
    ArrayF hess_f(6, 5);
    mean.forward_backward_hessian(pred_f, target_f, grad_f, hess_f);
    CHECK(max_error(hess_f, mean.hessian_diagonal(pred_f.template cast<double>(), target_f.template cast<double>())) <
          Tolerance<float>::rel);
    CHECK(max_error(mean.hessian_diagonal(pred_f, target_f), hess_f) == 0);
    // long double compiles and agrees
    const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> pred_l = pred.template cast<long double>(),
                                                                    target_l = target.template cast<long double>();
    CHECK(static_cast<double>(mean.forward(pred_l, target_l)) == Approx(value).epsilon(1e-13));
  }

  SECTION("shape errors name the loss, the function and both shapes") {
    const ArrayCM wrong = ArrayCM::Zero(5, 6);
    const std::string name = label;
    CHECK_THROWS_WITH(mean.forward(pred, wrong), "lossfn::" + name + "::forward: pred is 6x5 but target is 5x6");
    CHECK_THROWS_AS(mean.forward(pred, wrong), lossfn::shape_error);
    CHECK_THROWS_WITH(mean.backward(pred, wrong), "lossfn::" + name + "::backward: pred is 6x5 but target is 5x6");
    ArrayCM out = ArrayCM::Constant(6, 5, 42.0);
    CHECK_THROWS_WITH(mean.forward_backward(pred, wrong, out),
                      "lossfn::" + name + "::forward_backward: pred is 6x5 but target is 5x6");
    CHECK((out == 42.0).all());  // a failed call writes nothing
    ArrayCM small = ArrayCM::Constant(5, 5, 42.0);
    CHECK_THROWS_AS(mean.forward_backward(pred, target, small.block(0, 0, 5, 5)), lossfn::shape_error);
    CHECK((small == 42.0).all());
    CHECK_THROWS_WITH(mean.hessian_diagonal(pred, wrong),
                      "lossfn::" + name + "::hessian_diagonal: pred is 6x5 but target is 5x6");
    ArrayCM hess = ArrayCM::Constant(6, 5, 43.0);
    CHECK_THROWS_WITH(mean.forward_backward_hessian(pred, wrong, out, hess),
                      "lossfn::" + name + "::forward_backward_hessian: pred is 6x5 but target is 5x6");
    CHECK_THROWS_WITH(mean.forward_backward_hessian(pred, target, out, small.block(0, 0, 5, 5)),
                      ContainsSubstring("hess_out is 5x5"));
    CHECK((out == 42.0).all());  // the gradient was not written either
    CHECK((hess == 43.0).all());
    // a resizable gradient is resized
    ArrayCM empty;
    mean.forward_backward(pred, target, empty);
    CHECK(max_error(empty, grad) < 1e-15);
  }

  SECTION("empty input: Sum gives 0, Mean is an error") {
    const ArrayCM none(0, 3);
    CHECK(make(lossfn::Sum{}).forward(none, none) == 0.0);
    CHECK(make(lossfn::Sum{}).backward(none, none).size() == 0);
    CHECK_THROWS_AS(mean.forward(none, none), std::invalid_argument);
    CHECK_THROWS_WITH(mean.forward(none, none), ContainsSubstring("lossfn::" + label + "::forward: empty input"));
    ArrayCM out;
    CHECK_THROWS_AS(mean.forward_backward(none, none, out), std::invalid_argument);
  }
}

}  // namespace lossfn_test
