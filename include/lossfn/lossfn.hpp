/// @file
/// Every loss of lossfn. Include a single loss's header to compile less.
#pragma once

#include "errors.hpp"
#include "options.hpp"
#include "reduction.hpp"
#include "version.hpp"
#include "weights.hpp"
// regression
#include "huber.hpp"
#include "mae.hpp"
#include "mse.hpp"
#include "rmse.hpp"
#include "smooth_l1.hpp"
// classification and distributions
#include "cross_entropy.hpp"
#include "focal.hpp"
#include "kl_divergence.hpp"
#include "poly_cross_entropy.hpp"
// binary
#include "binary_cross_entropy.hpp"
#include "hinge.hpp"
#include "sigmoid_focal.hpp"
#include "soft_margin.hpp"
#include "squared_hinge.hpp"
// multi-class and multi-label margins
#include "multi_margin.hpp"
#include "multilabel_soft_margin.hpp"
// metric learning
#include "contrastive.hpp"
