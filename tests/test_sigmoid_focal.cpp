// SigmoidFocal (conformance batteries: test_sigmoid_focal_conformance.cpp): finite differences at every option,
// torchvision's definition, gamma = 0 against BinaryCrossEntropy bit for bit, and
// finite derivatives at saturated logits for every gamma >= 0.
#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/sigmoid_focal.hpp>
#include <lossfn/weights.hpp>

#include <cmath>
#include <limits>
#include <optional>

#include "binary_entries.hpp"
#include "catch.hpp"
#include "conformance.hpp"

using lossfn_test::ArrayCM;
using lossfn_test::max_error;
using lossfn_test::binary::SigmoidFocalEntry;
using FocalOptions = lossfn::SigmoidFocalOptions;

TEST_CASE("SigmoidFocal: conformance battery") { lossfn_test::check_gradients<SigmoidFocalEntry>(); }

TEST_CASE("SigmoidFocal: finite differences at every option (alpha, no alpha, gamma 0, 0.5, 1.5, 2)") {
  lossfn_test::check_gradients_every_variant<SigmoidFocalEntry>();
}

namespace {

/// torchvision.ops.sigmoid_focal_loss, term by term, in long double.
long double torchvision(long double z, long double y, std::optional<double> alpha, double gamma) {
  const long double p = 1 / (1 + std::exp(-z));
  const long double ce = std::max(z, 0.0L) - z * y + std::log1p(std::exp(-std::abs(z)));
  const long double p_t = p * y + (1 - p) * (1 - y);
  long double loss = ce * std::pow(1 - p_t, static_cast<long double>(gamma));
  if (alpha) loss *= *alpha * y + (1 - *alpha) * (1 - y);
  return loss;
}

/// The same in long double with 1 - p_t = p (1 - y) + (1 - p) y from 1 - p =
/// 1 / (1 + exp(z)) (no cancellation): the reference for derivatives at |z| >> 1,
/// where torchvision's 1 - p_t keeps no correct digit even in long double.
long double torchvision_stable(long double z, long double y, double alpha, double gamma) {
  const long double p = 1 / (1 + std::exp(-z)), q = 1 / (1 + std::exp(z));
  const long double ce = std::max(z, 0.0L) - z * y + std::log1p(std::exp(-std::abs(z)));
  const long double m = p * (1 - y) + q * y;
  return (alpha * y + (1 - alpha) * (1 - y)) * std::pow(m, static_cast<long double>(gamma)) * ce;
}

}  // namespace

TEST_CASE("SigmoidFocal equals torchvision's sigmoid_focal_loss") {
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(30, 3, 5, -12, 12);
  const ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(30, 3, 6);
  for (const FocalOptions& options : {FocalOptions{}, FocalOptions{std::nullopt, 0.5}, FocalOptions{0.8, 3.0}}) {
    const ArrayCM terms = lossfn::SigmoidFocal<lossfn::None>(options).forward(z, y);
    for (Eigen::Index k = 0; k < z.size(); ++k) {
      const long double want = torchvision(z(k), y(k), options.alpha, options.gamma);
      CHECK(std::abs(static_cast<long double>(terms(k)) - want) <= 1e-14L * (std::abs(z(k)) + 1));
    }
    // Mean is the mean of the terms, Sum their sum
    CHECK(lossfn::SigmoidFocal<lossfn::Sum>(options).forward(z, y) == Approx(terms.sum()).epsilon(1e-14));
    CHECK(lossfn::SigmoidFocal<>(options).forward(z, y) == Approx(terms.mean()).epsilon(1e-14));
  }
}

TEST_CASE("SigmoidFocal with gamma = 0 is BinaryCrossEntropy weighted by alpha_t, bit for bit") {
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(17, 4, 9, -6, 6);
  const ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(17, 4, 10);
  // no alpha: BinaryCrossEntropy itself, in every call and reduction
  const lossfn::SigmoidFocal<lossfn::None> plain_none(FocalOptions{std::nullopt, 0.0});
  const ArrayCM ones = ArrayCM::Ones(17, 4);
  CHECK((plain_none.forward(z, y) == lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, y)).all());
  CHECK((plain_none.backward(z, y, ones) == lossfn::BinaryCrossEntropy<lossfn::None>{}.backward(z, y, ones)).all());
  CHECK((plain_none.hessian_diagonal(z, y, ones) ==
         lossfn::BinaryCrossEntropy<lossfn::None>{}.hessian_diagonal(z, y, ones))
            .all());
  const lossfn::SigmoidFocal<> plain_mean(FocalOptions{std::nullopt, 0.0});
  CHECK(plain_mean.forward(z, y) == lossfn::BinaryCrossEntropy<>{}.forward(z, y));
  CHECK((plain_mean.backward(z, y) == lossfn::BinaryCrossEntropy<>{}.backward(z, y)).all());
  // alpha: BinaryCrossEntropy with weights alpha_t (Sum and None exactly; Mean's
  // gradient rounds alpha_t (p - y) / n in another order, within 1 ulp)
  const double alpha = 0.3;
  // alpha y + (1 - alpha)(1 - y), rounded as SigmoidFocal documents it
  const ArrayCM alpha_t = (1 - alpha) + (2 * alpha - 1) * y;
  const lossfn::SigmoidFocal<lossfn::Sum> focal_sum(FocalOptions{alpha, 0.0});
  ArrayCM g(17, 4), h(17, 4), g_bce(17, 4), h_bce(17, 4);
  const double focal_total = focal_sum.forward_backward_hessian(z, y, g, h);
  const double bce_total =
      lossfn::BinaryCrossEntropy<lossfn::Sum>{}.forward_backward_hessian(z, y, lossfn::weights(alpha_t), g_bce, h_bce);
  CHECK(focal_total == bce_total);
  CHECK((g == g_bce).all());
  CHECK((h == h_bce).all());
  CHECK((lossfn::SigmoidFocal<lossfn::None>(FocalOptions{alpha, 0.0}).forward(z, y) ==
         lossfn::BinaryCrossEntropy<lossfn::None>{}.forward(z, y, lossfn::weights(alpha_t)))
            .all());
}

TEST_CASE("SigmoidFocal: finite loss, gradient and Hessian at saturated logits for every gamma >= 0") {
  // the NaN reports of other libraries: gamma = 0 (0^0 via pow of 1 - p_t = 0) and
  // 0 < gamma < 1 ((1 - p_t)^(gamma - 1) = inf times 0)
  auto check_scalar = [](auto zero) {
    using T = decltype(zero);
    using A = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>;
    A z8(1, 8), y8(1, 8);
    z8 << T(1e4), T(-1e4), T(1e4), T(-1e4), T(80), T(-80), T(1e-30), T(0);
    y8 << 1, 0, 0, 1, 1, 0, 1, T(0.5);
    // 5 copies: 40 entries, through the vectorised lanes and the scalar tail
    const A z = z8.replicate(1, 5), y = y8.replicate(1, 5);
    A g(1, 40), h(1, 40);
    for (const double gamma : {0.0, 0.25, 0.5, 1.0, 2.0, 5.0}) {
      for (const std::optional<double> alpha : {std::optional<double>{}, std::optional<double>{0.25}}) {
        CAPTURE(gamma, alpha.has_value(), sizeof(T));
        const lossfn::SigmoidFocal<lossfn::Sum> focal(FocalOptions{alpha, gamma});
        const T total = focal.forward_backward_hessian(z, y, g, h);
        CHECK(std::isfinite(total));
        CHECK(g.isFinite().all());
        CHECK(h.isFinite().all());
        const A terms = lossfn::SigmoidFocal<lossfn::None>(FocalOptions{alpha, gamma}).forward(z, y);
        CHECK(terms.isFinite().all());
        // correct saturation: loss and gradient 0; wrong: loss ~ a |z|, gradient ~ +-a
        const T a_pos = alpha ? T(*alpha) : T(1), a_neg = alpha ? T(1 - *alpha) : T(1);
        for (Eigen::Index k = 0; k < 40; k += 8) {
          CAPTURE(k);
          CHECK(terms(k) == 0);
          CHECK(terms(k + 1) == 0);
          CHECK(g(k) == 0);
          CHECK(g(k + 1) == 0);
          CHECK(terms(k + 2) == Approx(a_neg * T(1e4)).epsilon(1e-6));
          CHECK(terms(k + 3) == Approx(a_pos * T(1e4)).epsilon(1e-6));
          CHECK(g(k + 2) == Approx(a_neg).epsilon(1e-6));
          CHECK(g(k + 3) == Approx(-a_pos).epsilon(1e-6));
        }
      }
    }
  };
  check_scalar(0.0f);
  check_scalar(0.0);
}

TEST_CASE("SigmoidFocal: derivatives near saturation match a long double reference") {
  // z up to 35 in double: 1 - p_t ~ 1e-15, where the naive gradient loses everything
  const Eigen::Index n = 8;
  ArrayCM z(n, 1), y(n, 1);
  z << 35, -35, 20, -20, 12, -12, 35, -35;
  y << 1, 0, 1, 0, 1, 0, 0, 1;
  for (const double gamma : {0.5, 2.0}) {
    const lossfn::SigmoidFocal<lossfn::None> focal(FocalOptions{0.25, gamma});
    const ArrayCM ones = ArrayCM::Ones(n, 1);
    const ArrayCM g = focal.backward(z, y, ones);
    for (Eigen::Index k = 0; k < n; ++k) {
      // central difference of the stable long double reference
      const long double step = 1e-6L;
      const long double want =
          (torchvision_stable(z(k) + step, y(k), 0.25, gamma) - torchvision_stable(z(k) - step, y(k), 0.25, gamma)) /
          (2 * step);
      CAPTURE(gamma, z(k), y(k), g(k), static_cast<double>(want));
      CHECK(std::abs(static_cast<long double>(g(k)) - want) <= 1e-6L * std::abs(want) + 1e-300L);
    }
  }
}

TEST_CASE("SigmoidFocal: bad targets and options") {
  const ArrayCM z = lossfn_test::random_array<ArrayCM>(3, 2, 41, -1, 1);
  ArrayCM y = lossfn_test::binary::unit_targets<ArrayCM>(3, 2, 42);
  y(0, 1) = -0.5;
  const lossfn::SigmoidFocal<> focal;
  CHECK_THROWS_WITH(focal.forward(z, y),
                    "lossfn::SigmoidFocal::forward: target at row 0, column 1 is -0.5: must be in [0, 1]");
  lossfn_test::expect_untouched<std::out_of_range>([&](auto&& g) { return focal.forward_backward(z, y, g); }, 3, 2);
  for (const double gamma : {-0.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CHECK_THROWS_WITH(lossfn::SigmoidFocal<>(FocalOptions{0.25, gamma}),
                      lossfn_test::ContainsSubstring("lossfn::SigmoidFocal::constructor: gamma"));
  }
  for (const double alpha : {-0.25, 1.5, std::nan("")}) {
    CHECK_THROWS_AS(lossfn::SigmoidFocal<>(FocalOptions{alpha, 2.0}), std::invalid_argument);
  }
  CHECK(lossfn::SigmoidFocal<>{}.options().alpha == 0.25);
  CHECK(lossfn::SigmoidFocal<>{}.options().gamma == 2.0);
}
