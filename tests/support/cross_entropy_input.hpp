// CrossEntropy options that differ from the defaults only in the input form, for
// the tests that call CrossEntropy on probabilities or log-probabilities (its
// own edge tests and KLDivergence's, which compare the two losses).
#pragma once

#include <lossfn/cross_entropy.hpp>

namespace lossfn_test {

inline lossfn::CrossEntropyOptions ce_input(lossfn::Input form) {
  lossfn::CrossEntropyOptions options;
  options.input = form;
  return options;
}

}  // namespace lossfn_test
