/// @file
/// Every loss of lossfn. Include a single loss's header to compile less.
#pragma once

#include "version.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "reduction.hpp"
// regression
#include "mse.hpp"
#include "mae.hpp"
#include "rmse.hpp"
#include "huber.hpp"
// classification and distributions
#include "cross_entropy.hpp"
#include "kl_divergence.hpp"
// metric learning
#include "contrastive.hpp"
