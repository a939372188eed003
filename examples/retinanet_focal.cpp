// RetinaNet's classification loss with lossfn: the sigmoid focal loss summed over
// the anchors and classes of an image and divided by the number of positive
// (foreground) anchors, max(1, P), then averaged over the images of the batch, as
// torchvision's RetinaNetClassificationHead.compute_loss does
// (sigmoid_focal_loss(..., reduction="sum") / max(1, num_foreground), summed and
// divided by the number of images). docs/retinanet.md explains it.
//
// A batch of two images, C = 3 classes, every anchor a row of C logits:
//   image 0: 20 anchors, 4 positive (matched to a box of some class), 13
//            background, 3 ignored (IoU between the two thresholds);
//   image 1: 12 anchors, no positive (no box in the image), 10 background, 2 ignored.
// Targets are one-hot rows (all zero for background); ignored anchors get weight 0
// (an m x 1 weights column), so they add nothing to the loss or the gradient.
//
// Checked (exits non-zero if any check fails):
// 1. the normalised loss equals torchvision's formula, written out here in
//    double, over the anchors that are not ignored;
// 2. the gradient (SigmoidFocal<Sum>'s, divided the same way) equals central
//    finite differences of that formula, and so does the Hessian diagonal;
// 3. ignored anchors: gradient rows exactly 0, and moving their logits leaves the
//    loss exactly as it was;
// 4. image 1 (no positive): its normaliser is max(1, 0) = 1, its loss finite;
// 5. the normaliser folded into the weights (valid / (B max(1, P_b)), the whole
//    batch in one Sum call) gives the same loss and gradient;
// 6. what Mean and WeightedMean would divide by instead (their denominator():
//    A C and C x valid anchors), and how far their loss is from RetinaNet's.
#include <lossfn/sigmoid_focal.hpp>
#include <lossfn/weights.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

constexpr int kClasses = 3;
constexpr int kBackground = -1;
constexpr int kIgnored = -2;
constexpr double kAlpha = 0.25, kGamma = 2.0;  // RetinaNet's (and torchvision's defaults)

struct Image {
  Eigen::ArrayXXd logits;   // anchors x classes
  Eigen::ArrayXXd targets;  // one-hot rows, zero rows for background and ignored anchors
  Eigen::ArrayXd valid;     // 1, or 0 for an ignored anchor
  Eigen::Index positives = 0;
  double normaliser() const { return static_cast<double>(std::max<Eigen::Index>(1, positives)); }
};

/// An image from its anchors' matches (a class index, kBackground or kIgnored).
/// The logits start from RetinaNet's prior, the bias -log((1 - pi) / pi) with
/// pi = 0.01 (about -4.6, every class unlikely), plus a deterministic spread, and
/// a positive anchor's own class somewhat higher: a partly trained head.
Image make_image(const std::vector<int>& matches, double phase) {
  const auto anchors = static_cast<Eigen::Index>(matches.size());
  const double prior = -std::log((1 - 0.01) / 0.01);
  Image image;
  image.logits.resize(anchors, kClasses);
  image.targets = Eigen::ArrayXXd::Zero(anchors, kClasses);
  image.valid = Eigen::ArrayXd::Ones(anchors);
  for (Eigen::Index a = 0; a < anchors; ++a) {
    for (Eigen::Index c = 0; c < kClasses; ++c)
      image.logits(a, c) = prior + 3.0 * std::sin(1.3 * static_cast<double>(a) + 0.7 * static_cast<double>(c) + phase);
    const int match = matches[static_cast<std::size_t>(a)];
    if (match == kIgnored) image.valid(a) = 0;
    if (match >= 0) {
      image.targets(a, match) = 1;
      image.logits(a, match) += 4.0;
      ++image.positives;
    }
  }
  return image;
}

/// torchvision's sigmoid_focal_loss, one term, written out: p = sigmoid(z),
/// ce = BCE with logits, p_t = p y + (1 - p)(1 - y), alpha_t = alpha y +
/// (1 - alpha)(1 - y), loss = alpha_t (1 - p_t)^gamma ce.
double focal_term(double z, double y) {
  const double p = 1 / (1 + std::exp(-z));
  const double ce = std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
  const double p_t = p * y + (1 - p) * (1 - y);
  const double alpha_t = kAlpha * y + (1 - kAlpha) * (1 - y);
  return alpha_t * std::pow(1 - p_t, kGamma) * ce;
}

/// The reference batch loss: per image, the focal terms of its valid anchors
/// summed and divided by max(1, P); the images' losses averaged.
double reference_loss(const std::vector<Image>& batch) {
  double total = 0;
  for (const Image& image : batch) {
    double sum = 0;
    for (Eigen::Index a = 0; a < image.logits.rows(); ++a) {
      if (image.valid(a) == 0) continue;
      for (Eigen::Index c = 0; c < kClasses; ++c) sum += focal_term(image.logits(a, c), image.targets(a, c));
    }
    total += sum / image.normaliser();
  }
  return total / static_cast<double>(batch.size());
}

lossfn::SigmoidFocalOptions focal_options() {
  lossfn::SigmoidFocalOptions options;
  options.alpha = kAlpha;
  options.gamma = kGamma;
  return options;
}

/// The batch loss with lossfn, per image: SigmoidFocal<Sum> with the ignore mask
/// as weights, value, gradient and Hessian diagonal divided by B max(1, P_b).
double lossfn_loss(const std::vector<Image>& batch, std::vector<Eigen::ArrayXXd>& grads,
                   std::vector<Eigen::ArrayXXd>& hessians) {
  const lossfn::SigmoidFocal<lossfn::Sum> focal(focal_options());
  double total = 0;
  grads.resize(batch.size());
  hessians.resize(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const Image& image = batch[b];
    grads[b].resize(image.logits.rows(), kClasses);
    hessians[b].resize(image.logits.rows(), kClasses);
    const double sum = focal.forward_backward_hessian(image.logits, image.targets, lossfn::weights(image.valid),
                                                      grads[b], hessians[b]);
    const double scale = 1.0 / (static_cast<double>(batch.size()) * image.normaliser());
    total += sum * scale;
    grads[b] *= scale;  // the gradient of the normalised loss: the same division
    hessians[b] *= scale;
  }
  return total;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

}  // namespace

int main() {
  const int B = kBackground, I = kIgnored;
  std::vector<Image> batch;
  batch.push_back(make_image({B, B, 2, B, I, B, 0, B, B, I, B, 1, B, B, B, I, 2, B, B, B}, 0.0));
  batch.push_back(make_image({B, B, I, B, B, B, B, I, B, B, B, B}, 2.0));
  bool ok = true;
  const auto verdict = [&ok](bool pass) {
    ok &= pass;
    return pass ? "ok" : "FAILED";
  };

  std::vector<Eigen::ArrayXXd> grads, hessians;
  const double loss = lossfn_loss(batch, grads, hessians);
  const double reference = reference_loss(batch);
  std::printf("RetinaNet classification loss, 2 images, %d classes, alpha %.2f, gamma %.0f\n", kClasses, kAlpha,
              kGamma);
  for (std::size_t b = 0; b < batch.size(); ++b)
    std::printf("  image %zu: %td anchors, %td positive, %td ignored: normaliser max(1, P) = %.0f\n", b,
                batch[b].logits.rows(), batch[b].positives, static_cast<Eigen::Index>((batch[b].valid == 0).count()),
                batch[b].normaliser());

  // 1. the value
  const double value_error = relative(loss, reference);
  std::printf("1. loss %.15g, torchvision's formula %.15g: relative difference %.2g (<= 1e-13)  %s\n", loss, reference,
              value_error, verdict(value_error <= 1e-13));

  // 2. gradient and Hessian diagonal against central differences of the reference
  double grad_error = 0, hess_error = 0, largest_grad = 0;
  std::vector<Image> probe = batch;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    for (Eigen::Index i = 0; i < batch[b].logits.size(); ++i) {
      const double z = batch[b].logits(i), h = 1e-4;
      probe[b].logits(i) = z + h;
      const double up = reference_loss(probe);
      probe[b].logits(i) = z - h;
      const double down = reference_loss(probe);
      probe[b].logits(i) = z;
      const double slope = (up - down) / (2 * h), curvature = (up - 2 * reference + down) / (h * h);
      grad_error = std::max(grad_error, std::abs(slope - grads[b](i)));
      hess_error = std::max(hess_error, std::abs(curvature - hessians[b](i)));
      largest_grad = std::max(largest_grad, std::abs(grads[b](i)));
    }
  }
  // central differences with h = 1e-4: truncation ~ h^2 |f'''| / 6, rounding
  // ~ 1e-16 / h for the slope and 1e-16 / h^2 for the curvature
  std::printf(
      "2. gradient (largest entry %.3g) vs finite differences: %.2g (<= 1e-8); Hessian diagonal: %.2g (<= 1e-5)"
      "  %s\n",
      largest_grad, grad_error, hess_error, verdict(grad_error <= 1e-8 && hess_error <= 1e-5));

  // 3. ignored anchors
  bool ignored_zero = true, ignored_inert = true;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    Image& image = probe[b];
    for (Eigen::Index a = 0; a < image.logits.rows(); ++a) {
      if (image.valid(a) != 0) continue;
      ignored_zero &= (grads[b].row(a) == 0).all() && (hessians[b].row(a) == 0).all();
      image.logits.row(a) += 5.0;
    }
  }
  std::vector<Eigen::ArrayXXd> moved_grads, moved_hessians;
  ignored_inert = lossfn_loss(probe, moved_grads, moved_hessians) == loss;
  std::printf(
      "3. ignored anchors: gradient and Hessian rows exactly 0: %s; logits moved by 5, loss unchanged: %s  %s\n",
      ignored_zero ? "yes" : "no", ignored_inert ? "yes" : "no", verdict(ignored_zero && ignored_inert));

  // 4. the image without positives: its share of the loss above is its plain Sum
  const lossfn::SigmoidFocal<lossfn::Sum> focal(focal_options());
  const auto plain_sum = [&focal](const Image& image) {
    Eigen::ArrayXXd g(image.logits.rows(), kClasses), h(image.logits.rows(), kClasses);
    return focal.forward_backward_hessian(image.logits, image.targets, lossfn::weights(image.valid), g, h);
  };
  const double empty_sum = plain_sum(batch[1]);
  const bool empty_ok = std::isfinite(empty_sum) && batch[1].normaliser() == 1.0;
  std::printf("4. image 1 (no positive): Sum %.6g, divided by max(1, 0) = 1, finite  %s\n", empty_sum,
              verdict(empty_ok));

  // 5. the normaliser folded into the weights: one Sum call over the whole batch
  Eigen::Index rows = 0;
  for (const Image& image : batch) rows += image.logits.rows();
  Eigen::ArrayXXd logits(rows, kClasses), targets(rows, kClasses);
  Eigen::ArrayXd weights(rows);
  Eigen::Index row = 0;
  for (const Image& image : batch) {
    const Eigen::Index n = image.logits.rows();
    logits.middleRows(row, n) = image.logits;
    targets.middleRows(row, n) = image.targets;
    weights.segment(row, n) = image.valid / (static_cast<double>(batch.size()) * image.normaliser());
    row += n;
  }
  Eigen::ArrayXXd folded_grad(rows, kClasses), folded_hess(rows, kClasses);
  const double folded =
      focal.forward_backward_hessian(logits, targets, lossfn::weights(weights), folded_grad, folded_hess);
  double folded_grad_error = 0;
  row = 0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const Eigen::Index n = batch[b].logits.rows();
    folded_grad_error =
        std::max(folded_grad_error, (folded_grad.middleRows(row, n) - grads[b]).abs().maxCoeff() / largest_grad);
    row += n;
  }
  const double folded_error = relative(folded, loss);
  std::printf(
      "5. one call, weights valid / (B max(1, P_b)): loss %.15g, relative difference %.2g, gradient %.2g "
      "(both <= 1e-14)  %s\n",
      folded, folded_error, folded_grad_error, verdict(folded_error <= 1e-14 && folded_grad_error <= 1e-14));

  // 6. what Mean and WeightedMean divide by, for image 0 (their denominator(): the
  // number they divide the same weighted sum by)
  const Image& image = batch[0];
  const double sum = plain_sum(image);
  const double by_mean = lossfn::SigmoidFocal<lossfn::Mean>(focal_options())
                             .denominator(image.logits, image.targets, lossfn::weights(image.valid));
  const double by_weighted = lossfn::SigmoidFocal<lossfn::WeightedMean>(focal_options())
                                 .denominator(image.logits, image.targets, lossfn::weights(image.valid));
  const double terms = static_cast<double>(image.logits.size());
  const double valid_terms = image.valid.sum() * kClasses;
  const bool relations = by_mean == terms && by_weighted == valid_terms;
  std::printf(
      "6. image 0: Sum / max(1, P) = %.6g (RetinaNet); Mean divides by %.0f (A C): %.6g, %.1fx smaller; "
      "WeightedMean by %.0f (C x valid anchors): %.6g, %.1fx smaller  %s\n",
      sum / image.normaliser(), by_mean, sum / by_mean, by_mean / image.normaliser(), by_weighted, sum / by_weighted,
      by_weighted / image.normaliser(), verdict(relations));
  return ok ? 0 : 1;
}
