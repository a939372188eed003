// Catch2 v2 or v3 behind one include, chosen by LOSSFN_CATCH2_MAJOR (set by CMake).
#pragma once

#if LOSSFN_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#endif

namespace lossfn_test {
#if LOSSFN_CATCH2_MAJOR >= 3
using Catch::Matchers::ContainsSubstring;
#else
inline Catch::Matchers::StdString::ContainsMatcher ContainsSubstring(const std::string& text) {
  return Catch::Matchers::Contains(text);
}
#endif
}  // namespace lossfn_test
