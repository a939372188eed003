// CrossEntropy: float agrees with double; long double compiles.
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
using lossfn_test::scalar_error;
using namespace lossfn_test::cross_entropy;  // LD, Classes, form_name, random_pred, the reference

TEST_CASE("CrossEntropy: float agrees with double; long double compiles") {
  const Eigen::Index m = 150, classes = 7;  // full column-major float blocks (64 rows) and a tail
  for (Input form : {Input::Logits, Input::Probabilities, Input::LogProbabilities}) {
    CAPTURE(form_name(form));
    const Eigen::ArrayXXf pred = random_pred<RowsCM>(form, m, classes, 41).cast<float>();
    const Eigen::ArrayXXf y = lossfn_test::random_distributions<RowsCM>(m, classes, 42).cast<float>();
    const Classes t = lossfn_test::random_classes(m, classes, 43);
    CrossEntropyOptions o;
    o.input = form;
    o.label_smoothing = 0.1;
    o.class_weights = lossfn_test::random_array<Eigen::ArrayXd>(classes, 1, 44, 0.5, 2.0);
    const CrossEntropy<> ce(o);
    const RowsCM pred_d = pred.cast<double>(), y_d = y.cast<double>();
    const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> pred_rm = pred;
    Eigen::ArrayXXf g(m, classes);
    const float value = ce.forward_backward(pred, t, g);
    CHECK(scalar_error(value, ce.forward(pred_d, t)) < lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(g, ce.backward(pred_d, t)) < lossfn_test::Tolerance<float>::rel);
    CHECK(scalar_error(ce.forward(pred_rm, y), ce.forward(pred_d, y_d)) < lossfn_test::Tolerance<float>::rel);
    CHECK(max_error(ce.backward(pred_rm, y), ce.backward(pred_d, y_d)) < lossfn_test::Tolerance<float>::rel);
    const Eigen::Array<long double, Eigen::Dynamic, Eigen::Dynamic> pred_l = pred_d.cast<long double>();
    CHECK(scalar_error(static_cast<double>(ce.forward(pred_l, t)), ce.forward(pred_d, t)) < 1e-13);
  }
}
