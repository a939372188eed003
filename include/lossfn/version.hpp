/// @file
/// The library's version; CMake reads it from here.
#pragma once

/// Major version: incremented on incompatible API changes.
#define LOSSFN_VERSION_MAJOR 0
/// Minor version: incremented when features are added compatibly.
#define LOSSFN_VERSION_MINOR 1
/// Patch version: incremented for compatible fixes.
#define LOSSFN_VERSION_PATCH 0

namespace lossfn {
/// major * 10000 + minor * 100 + patch
constexpr int version = LOSSFN_VERSION_MAJOR * 10000 + LOSSFN_VERSION_MINOR * 100 + LOSSFN_VERSION_PATCH;
}  // namespace lossfn
