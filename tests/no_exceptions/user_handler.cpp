// Built with -fno-exceptions. Proves that every loss compiles without exceptions,
// and that a failed check calls the user's handler with the right kind and the
// same message the exception would carry, before anything was written.
//   no_exceptions_user_handler <case>   case: shape, invalid_argument_option,
//                                       invalid_argument_empty, out_of_range,
//                                       out_of_range_label, restore
// The handler prints "user handler called as expected" and exits 0; anything
// else prints UNEXPECTED and exits 1.
#include <lossfn/lossfn.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "this test must be built with -fno-exceptions"
#endif
#ifndef LOSSFN_NO_EXCEPTIONS
#error "lossfn did not detect -fno-exceptions"
#endif

namespace {

lossfn::error_kind g_expected_kind = lossfn::error_kind::shape;
const char* g_expected_message = "";
// The caller's gradient buffer, full of a sentinel: the handler checks it was not written.
constexpr double kSentinel = -777.125;
std::vector<double> g_buffer(16, kSentinel);

bool buffer_untouched() {
  for (double v : g_buffer)
    if (std::memcmp(&v, &kSentinel, sizeof v) != 0) return false;
  return true;
}

void checking_handler(lossfn::error_kind kind, const char* message) {
  const bool ok = kind == g_expected_kind && std::strcmp(message, g_expected_message) == 0 && buffer_untouched();
  if (ok) {
    std::printf("user handler called as expected: %s\n", message);
    std::exit(0);
  }
  std::printf("UNEXPECTED handler call: kind %d, message '%s', buffer %s\n", static_cast<int>(kind), message,
              buffer_untouched() ? "untouched" : "WRITTEN");
  std::exit(1);
}

/// forward, backward and forward_backward of a reducing loss on valid data.
template <class Loss>
double exercise(const Loss& loss) {
  const Eigen::ArrayXXd pred = Eigen::ArrayXXd::Constant(3, 2, 0.5), target = Eigen::ArrayXXd::Constant(3, 2, -0.25);
  Eigen::ArrayXXd grad(3, 2);
  const double fused = loss.forward_backward(pred, target, grad);
  const Eigen::ArrayXXd g = loss.backward(pred, target);
  return loss.forward(pred, target) + fused + g.sum() + grad.sum();
}

/// forward and backward with upstream of a None loss.
template <class Loss>
double exercise_none(const Loss& loss) {
  const Eigen::ArrayXXf pred = Eigen::ArrayXXf::Constant(3, 2, 0.5f), target = Eigen::ArrayXXf::Zero(3, 2);
  const Eigen::ArrayXXf terms = loss.forward(pred, target);
  const Eigen::ArrayXXf g = loss.backward(pred, target, Eigen::ArrayXXf::Ones(3, 2));
  return static_cast<double>(terms.sum() + g.sum());
}

/// Every loss of the library, so that -fno-exceptions compiles all of them.
double exercise_all() {
  double total = 0;
  total += exercise(lossfn::MSE<lossfn::Mean>{}) + exercise_none(lossfn::MSE<lossfn::None>{});
  total += exercise(lossfn::MAE<lossfn::Sum>{}) + exercise_none(lossfn::MAE<lossfn::None>{});
  total += exercise(lossfn::RMSE<lossfn::Mean>{});
  total += exercise(lossfn::Huber<lossfn::Mean>{0.5}) + exercise_none(lossfn::Huber<lossfn::None>{});

  const Eigen::ArrayXXd logits = Eigen::ArrayXXd::Constant(3, 4, 0.5), soft = Eigen::ArrayXXd::Constant(3, 4, 0.25);
  const Eigen::ArrayXi classes = Eigen::ArrayXi::Constant(3, 2);
  Eigen::ArrayXXd grad(3, 4);
  lossfn::CrossEntropyOptions options;
  options.label_smoothing = 0.1;
  options.class_weights = Eigen::ArrayXd::Ones(4);
  const lossfn::CrossEntropy<lossfn::Mean> ce(options);
  total += ce.forward_backward(logits, classes, grad) + ce.forward(logits, soft) + ce.backward(logits, classes).sum();
  const Eigen::ArrayXd ce_terms = lossfn::CrossEntropy<lossfn::None>{}.forward(logits, classes);
  total += ce_terms.sum() + lossfn::CrossEntropy<lossfn::None>{}.backward(logits, soft, Eigen::ArrayXd::Ones(3)).sum();
  const lossfn::KLDivergence<lossfn::Sum> kl;
  total += kl.forward_backward(logits, soft, grad) + kl.backward(logits, soft).sum();

  const Eigen::ArrayXXf x1 = Eigen::ArrayXXf::Constant(3, 2, 0.5f), x2 = Eigen::ArrayXXf::Zero(3, 2);
  const Eigen::ArrayXi labels = Eigen::ArrayXi::LinSpaced(3, 0, 1);
  Eigen::ArrayXXf g1(3, 2), g2(3, 2);
  const lossfn::Contrastive<lossfn::Mean> contrastive(1.0, lossfn::Distance::Cosine);
  total += static_cast<double>(contrastive.forward_backward(x1, x2, labels, g1, g2) + g1.sum() + g2.sum());
  const auto g = lossfn::Contrastive<lossfn::None>{}.backward(x1, x2, labels, Eigen::ArrayXf::Ones(3));
  total += static_cast<double>(g.dx1.sum());
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "";
  if (!std::isfinite(exercise_all())) {
    std::printf("UNEXPECTED: a loss gave a non-finite value on valid data\n");
    return 1;
  }
  const lossfn::error_handler previous = lossfn::set_error_handler(&checking_handler);
  if (std::strcmp(which, "restore") == 0) {
    // set_error_handler returns the handler it replaces; nullptr restores the default
    const bool ok = lossfn::set_error_handler(previous) == &checking_handler &&
                    lossfn::set_error_handler(nullptr) == previous && lossfn::set_error_handler(previous) == previous;
    std::printf(ok ? "handlers restored\n" : "UNEXPECTED: set_error_handler did not return the previous handler\n");
    return ok ? 0 : 1;
  }
  if (std::strcmp(which, "shape") == 0) {
    g_expected_kind = lossfn::error_kind::shape;
    g_expected_message = "lossfn::MSE::forward_backward: pred is 3x2 but target is 2x3";
    const Eigen::ArrayXXd pred = Eigen::ArrayXXd::Zero(3, 2), target = Eigen::ArrayXXd::Zero(2, 3);
    lossfn::MSE<>{}.forward_backward(pred, target, Eigen::Map<Eigen::ArrayXXd>(g_buffer.data(), 3, 2));
  } else if (std::strcmp(which, "invalid_argument_option") == 0) {
    g_expected_kind = lossfn::error_kind::invalid_argument;
    g_expected_message = "lossfn::Huber::constructor: delta must be finite and > 0, got -1";
    const lossfn::Huber<> huber(-1.0);
    std::printf("UNEXPECTED: constructed with delta %g\n", huber.delta());
  } else if (std::strcmp(which, "out_of_range") == 0) {
    g_expected_kind = lossfn::error_kind::out_of_range;
    g_expected_message = "lossfn::CrossEntropy::forward_backward: target at row 2 is 4, not a class index in [0, 4)";
    const Eigen::ArrayXXd logits = Eigen::ArrayXXd::Zero(3, 4);
    Eigen::ArrayXi classes(3);
    classes << 0, 3, 4;
    lossfn::CrossEntropy<>{}.forward_backward(logits, classes, Eigen::Map<Eigen::ArrayXXd>(g_buffer.data(), 3, 4));
  } else if (std::strcmp(which, "out_of_range_label") == 0) {
    g_expected_kind = lossfn::error_kind::out_of_range;
    g_expected_message =
        "lossfn::Contrastive::forward_backward: label at row 1 is 2 (expected 0 = similar pair or 1 = dissimilar pair)";
    const Eigen::ArrayXXd x = Eigen::ArrayXXd::Zero(2, 2);
    Eigen::ArrayXi labels(2);
    labels << 1, 2;
    lossfn::Contrastive<>{}.forward_backward(x, x, labels, Eigen::Map<Eigen::ArrayXXd>(g_buffer.data(), 2, 2),
                                             Eigen::Map<Eigen::ArrayXXd>(g_buffer.data() + 8, 2, 2));
  } else if (std::strcmp(which, "invalid_argument_empty") == 0) {
    g_expected_kind = lossfn::error_kind::invalid_argument;
    g_expected_message =
        "lossfn::RMSE::forward_backward: empty input: the Mean of zero terms is undefined (use Sum, which gives 0)";
    const Eigen::ArrayXXd empty(0, 2);
    lossfn::RMSE<>{}.forward_backward(empty, empty, Eigen::Map<Eigen::ArrayXXd>(g_buffer.data(), 0, 2));
  }
  std::printf("UNEXPECTED: case '%s' returned without calling the handler\n", which);
  return 1;
}
