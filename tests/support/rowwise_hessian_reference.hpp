// The Hessian diagonal of CrossEntropy and KLDivergence as the separate scalar pass
// computed it before forward_backward_hessian became one pass (detail::rowwise_hessian,
// removed): per row, in double, from the loss's target weights c_ik and mass
// C_i = sum_k c_ik (written here from the options, independently of the kernel's
// dense and sparse parts) and the row's multiplier u_i:
//   logits:            u_i C_i q_ik (1 - q_ik), q_i = softmax(z_i) (max subtracted, exp twice)
//   probabilities:     u_i c_ik / p_ik^2, 0 where c_ik = 0
//   log-probabilities: 0
// The fused kernel must agree with it within a few ulps of pred's scalar: see
// hessian_excess.
#pragma once

#include <lossfn/options.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace lossfn_test {
namespace rowwise_hessian {

/// A row-wise target as the old pass saw it: c(i, k) and C_i in double.
struct Weights {
  Eigen::ArrayXXd c;
  Eigen::ArrayXd mass;
};

/// CrossEntropy's c for class-index targets t: w_t (1 - eps) [k = t] + w_k eps / K,
/// 0 on a row whose target is ignore_index.
template <class Targets>
Weights cross_entropy_index(const Targets& t, Eigen::Index classes, double eps, const Eigen::ArrayXd& w,
                            std::optional<Eigen::Index> ignore) {
  const auto weight = [&w](Eigen::Index k) { return w.size() == 0 ? 1.0 : w(k); };
  Weights out{Eigen::ArrayXXd::Zero(t.rows(), classes), Eigen::ArrayXd::Zero(t.rows())};
  for (Eigen::Index i = 0; i < t.rows(); ++i) {
    const auto ti = static_cast<Eigen::Index>(t(i));
    if (ignore && ti == *ignore) continue;
    for (Eigen::Index k = 0; k < classes; ++k)
      out.c(i, k) = (k == ti ? weight(ti) * (1 - eps) : 0.0) + weight(k) * eps / static_cast<double>(classes);
    out.mass(i) = out.c.row(i).sum();
  }
  return out;
}

/// CrossEntropy's c for soft targets y: w_k ((1 - eps) y_ik + eps / K).
template <class Y>
Weights cross_entropy_soft(const Y& y, double eps, const Eigen::ArrayXd& w) {
  const Eigen::Index classes = y.cols();
  Weights out{Eigen::ArrayXXd(y.rows(), classes), Eigen::ArrayXd(y.rows())};
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    for (Eigen::Index k = 0; k < classes; ++k)
      out.c(i, k) = (w.size() == 0 ? 1.0 : w(k)) *
                    ((1 - eps) * static_cast<double>(y(i, k)) + eps / static_cast<double>(classes));
    out.mass(i) = out.c.row(i).sum();
  }
  return out;
}

/// KLDivergence's c: P (exp of the target with log_target).
template <class Y>
Weights kl_divergence(const Y& y, bool log_target) {
  Weights out{Eigen::ArrayXXd(y.rows(), y.cols()), Eigen::ArrayXd(y.rows())};
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    for (Eigen::Index k = 0; k < y.cols(); ++k) {
      const double p = static_cast<double>(y(i, k));
      out.c(i, k) = log_target ? std::exp(p) : p;
    }
    out.mass(i) = out.c.row(i).sum();
  }
  return out;
}

/// The old pass's Hessian diagonal (see the file comment); u holds u_i per row.
template <class Z>
Eigen::ArrayXXd reference(lossfn::Input form, const Z& z, const Weights& target, const Eigen::ArrayXd& u) {
  Eigen::ArrayXXd h(z.rows(), z.cols());
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    if (form == lossfn::Input::Logits) {
      double top = -std::numeric_limits<double>::infinity();
      for (Eigen::Index k = 0; k < z.cols(); ++k) top = std::max(top, static_cast<double>(z(i, k)));
      double norm = 0;
      for (Eigen::Index k = 0; k < z.cols(); ++k) norm += std::exp(static_cast<double>(z(i, k)) - top);
      for (Eigen::Index k = 0; k < z.cols(); ++k) {
        const double q = std::exp(static_cast<double>(z(i, k)) - top) / norm;
        h(i, k) = u(i) * target.mass(i) * q * (1 - q);
      }
    } else if (form == lossfn::Input::Probabilities) {
      for (Eigen::Index k = 0; k < z.cols(); ++k) {
        const double p = static_cast<double>(z(i, k));
        h(i, k) = target.c(i, k) == 0 ? 0.0 : u(i) * target.c(i, k) / (p * p);
      }
    } else {
      h.row(i).setZero();
    }
  }
  return h;
}

/// The largest difference of h (pred's scalar S) from an expected diagonal ref (the
/// old pass's, another call's), in units of S's epsilon times the entry's scale: |u_i| C_i q_ik + |ref| for logits (the
/// Hessian is u C q - u C q^2, and q carries an absolute rounding error of about epsilon, as the gradient u (C q - c)
/// does), |ref| for probabilities; plus |u_i| C_i (logits) or 1 times the smallest normal number (a vectorised exp's
/// floor, a subnormal quotient). A non-finite reference must be matched exactly (same infinity, or NaN): else the
/// result is infinite. Reference values beyond S's range are compared after rounding to S.
template <class S, class Z, class H, class R>
double excess_over(lossfn::Input form, const Z& z, const Weights& target, const Eigen::ArrayXd& u, const H& h,
                   const R& ref) {
  const double eps = static_cast<double>(std::numeric_limits<S>::epsilon());
  const double tiny = static_cast<double>(std::numeric_limits<S>::min());
  double worst = 0;
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    double top = -std::numeric_limits<double>::infinity(), norm = 0;
    for (Eigen::Index k = 0; k < z.cols(); ++k) top = std::max(top, static_cast<double>(z(i, k)));
    for (Eigen::Index k = 0; k < z.cols(); ++k) norm += std::exp(static_cast<double>(z(i, k)) - top);
    for (Eigen::Index k = 0; k < z.cols(); ++k) {
      const double expected = static_cast<double>(static_cast<S>(static_cast<double>(ref(i, k))));
      const double got = static_cast<double>(h(i, k));
      if (got == expected) continue;
      if (!std::isfinite(expected) || !std::isfinite(got)) {
        const bool same = (std::isnan(expected) && std::isnan(got)) || expected == got;
        if (!same) return std::numeric_limits<double>::infinity();
        continue;
      }
      double scale = std::abs(expected), floor = tiny;
      if (form == lossfn::Input::Logits) {
        const double weight = std::abs(u(i)) * target.mass(i);
        scale += weight * std::exp(static_cast<double>(z(i, k)) - top) / norm;
        floor = weight * tiny;
      }
      const double excess = std::abs(got - expected) / (eps * scale + floor);
      worst = std::max(worst, excess);
    }
  }
  return worst;
}

/// excess_over against the old pass (reference).
template <class S, class Z, class H>
double hessian_excess(lossfn::Input form, const Z& z, const Weights& target, const Eigen::ArrayXd& u, const H& h) {
  return excess_over<S>(form, z, target, u, h, reference(form, z, target, u));
}

}  // namespace rowwise_hessian
}  // namespace lossfn_test
