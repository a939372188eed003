// The one translation unit that holds Catch2's main (v2 without Catch2WithMain).
#define CATCH_CONFIG_MAIN
#include "catch.hpp"
