// CrossEntropy: storage orders and views, and no heap allocation (NoHeapAllocation).
// first: Eigen allocations become observable (see no_malloc.hpp)
#include "no_malloc.hpp"

#include <lossfn/cross_entropy.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "cross_entropy_reference.hpp"
#include "gradient_check.hpp"
#include "rowwise.hpp"

using lossfn::CrossEntropy;
using lossfn::CrossEntropyOptions;
using lossfn::Input;
using lossfn_test::max_error;
using lossfn_test::RowsCM;
using lossfn_test::RowsRM;
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, the reference

TEST_CASE("CrossEntropy: storage orders, Map, Block, Matrix and expression inputs") {
  const Eigen::Index m = 19, classes = 5;
  const RowsCM z = lossfn_test::random_array<RowsCM>(m, classes, 31, -3, 3);
  const Classes t = lossfn_test::random_classes(m, classes, 32);
  const RowsCM y = lossfn_test::random_distributions<RowsCM>(m, classes, 33);
  CrossEntropyOptions o;
  o.label_smoothing = 0.1;
  o.class_weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 34, 0.5, 2.0);
  const CrossEntropy<> ce(o);
  const double value = ce.forward(z, t);
  const RowsCM grad = ce.backward(z, t);

  const RowsRM z_rm = z;
  CHECK(scalar_error(ce.forward(z_rm, t), value) < 1e-15);
  CHECK(max_error(ce.backward(z_rm, t), grad) < 1e-16);
  CHECK(scalar_error(ce.forward(z_rm, y), ce.forward(z, y)) < 1e-15);
  CHECK(scalar_error(ce.forward(z, RowsRM(y)), ce.forward(z, y)) < 1e-15);  // mixed orders
  CHECK(scalar_error(ce.forward(z.matrix(), t.matrix()), value) < 1e-15);
  const Eigen::MatrixXd gm = ce.backward(z.matrix(), t);
  CHECK(max_error(gm, grad) < 1e-16);
  CHECK(scalar_error(ce.forward(z * 1.0, t + 0), value) < 1e-15);  // unevaluated expressions

  // a Block of a larger array, a strided Map, and a Block as the output
  RowsCM big = RowsCM::Constant(m + 4, classes + 3, 50.0);
  big.block(2, 1, m, classes) = z;
  CHECK(scalar_error(ce.forward(big.block(2, 1, m, classes), t), value) < 1e-15);
  RowsRM big_grad = RowsRM::Constant(m + 2, classes + 2, 7.0);
  CHECK(scalar_error(ce.forward_backward(big.block(2, 1, m, classes), t, big_grad.block(1, 1, m, classes)), value) <
        1e-15);
  CHECK(max_error(big_grad.block(1, 1, m, classes), grad) < 1e-16);
  big_grad.block(1, 1, m, classes).setConstant(7.0);
  CHECK((big_grad == 7.0).all());  // nothing outside the block was written
  const Eigen::Map<const RowsCM, 0, Eigen::OuterStride<>> strided(big.data() + 2 + big.rows(), m, classes,
                                                                  Eigen::OuterStride<>(big.rows()));
  CHECK(scalar_error(ce.forward(strided, t), value) < 1e-15);
  Eigen::ArrayXi wide_targets = Eigen::ArrayXi::Zero(2 * m);
  for (Eigen::Index i = 0; i < m; ++i) wide_targets(2 * i) = t(i);
  const Eigen::Map<const Eigen::ArrayXi, 0, Eigen::InnerStride<2>> every_other(wide_targets.data(), m);
  CHECK(scalar_error(ce.forward(z, every_other), value) < 1e-15);
  // a resizable gradient is resized; a Ref works as the output
  RowsCM empty;
  ce.forward_backward(z, t, empty);
  CHECK(max_error(empty, grad) < 1e-16);
  Eigen::MatrixXd out(m, classes);
  Eigen::Ref<Eigen::MatrixXd> ref(out);
  ce.forward_backward(z, t, ref);
  CHECK(max_error(out, grad) < 1e-16);
}

TEST_CASE("CrossEntropy: forward (Sum, Mean) and forward_backward into a caller's gradient allocate nothing") {
  const Eigen::Index m = 150, classes = 9;  // column-major: full blocks and a tail
  const Classes t = lossfn_test::random_classes(m, classes, 101);
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    CAPTURE(form_name(form));
    const RowsCM z = random_pred<RowsCM>(form, m, classes, 102);
    const RowsRM z_rm = z;
    const RowsCM y = lossfn_test::random_distributions<RowsCM>(m, classes, 103);
    const Eigen::ArrayXXf zf = z.cast<float>(), yf = y.cast<float>();
    RowsCM g(m, classes);
    RowsRM g_rm(m, classes);
    Eigen::ArrayXXf gf(m, classes);
    CrossEntropyOptions o;
    o.input = form;
    o.label_smoothing = 0.1;
    o.class_weights = Eigen::ArrayXd::Constant(classes, 2.0);
    o.ignore_index = 4;
    const CrossEntropy<> mean(o), plain;
    const CrossEntropy<lossfn::Sum> sum(o);
    o.ignore_index.reset();
    const CrossEntropy<> soft(o);
    const lossfn_test::NoHeapAllocation no_heap;
    CHECK_THROWS_AS(Eigen::ArrayXd(3), lossfn_test::eigen_assertion_failed);  // the guard works
    CHECK_NOTHROW(mean.forward(z, t));
    CHECK_NOTHROW(sum.forward(z_rm, t));
    CHECK_NOTHROW(mean.forward_backward(z, t, g));
    CHECK_NOTHROW(sum.forward_backward(z_rm, t, g_rm));
    CHECK_NOTHROW(plain.forward_backward(z, t, g));
    CHECK_NOTHROW(soft.forward(z, y));
    CHECK_NOTHROW(soft.forward_backward(z_rm, y, g_rm));
    CHECK_NOTHROW(soft.forward_backward(zf, yf, gf));
    CHECK_NOTHROW(mean.forward_backward(zf, t, gf));
  }
}
