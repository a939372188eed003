// Built with -fno-exceptions: what happens when a check fails and the handler
// does not end the program.
//   no_exceptions_default_handler default    the default handler: message on stderr, abort
//   no_exceptions_default_handler returning  a user handler that returns: abort follows
// ctest (expect_abort.cmake) requires an abort and the message on stderr.
#include <lossfn/huber.hpp>
#include <lossfn/mse.hpp>

#include <cstdio>
#include <cstring>

namespace {
void returning_handler(lossfn::error_kind /*kind*/, const char* message) {
  std::fprintf(stderr, "returning handler: %s\n", message);
}
}  // namespace

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "default";
  if (std::strcmp(which, "returning") == 0) {
    lossfn::set_error_handler(&returning_handler);
    const lossfn::Huber<> huber(0.0);
    std::printf("not reached: delta %g\n", huber.delta());
    return 0;
  }
  const Eigen::ArrayXXd pred = Eigen::ArrayXXd::Zero(2, 3), target = Eigen::ArrayXXd::Zero(3, 2);
  Eigen::ArrayXXd grad;
  const double loss = lossfn::MSE<>{}.forward_backward(pred, target, grad);
  std::printf("not reached: loss %g\n", loss);
  return 0;
}
