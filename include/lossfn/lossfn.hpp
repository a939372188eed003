/// @file
/// Every loss of lossfn. Include a single loss's header to compile less.
#pragma once

#include "version.hpp"
#include "reduction.hpp"
#include "mse.hpp"
#include "mae.hpp"
#include "rmse.hpp"
#include "huber.hpp"
