// A siamese embedding learned with the contrastive loss: three Gaussian clusters in
// 8-D, pairs labelled 0 (same cluster, similar) or 1 (different clusters), and a
// linear map W (2 x 8) trained by plain gradient descent so that similar pairs land
// close together and dissimilar ones at least the margin apart. The loss gives
// dL/de1 and dL/de2 for the two embeddings e = W x; the chain rule by hand turns them
// into dL/dW = G1^T X1 + G2^T X2. Exits non-zero unless the loss fell and at least
// 90% of the pairs end on the right side of the margin's midpoint (D < M/2 for a
// similar pair, D > M/2 for a dissimilar one). Why not M itself: the hinge's push
// fades as D -> M, so gradient descent brings dissimilar pairs up to the margin from
// below (their loss ~0) while the similar pairs' pull balances it; the strict count
// at M is printed as well.
#include <lossfn/contrastive.hpp>

#include <cmath>
#include <cstdio>
#include <random>

int main() {
  constexpr int kClusters = 3, kInputDim = 8, kEmbedDim = 2, kPairs = 300, kEpochs = 150;
  const double margin = 1.0, learning_rate = 0.1;
  std::mt19937 engine(2024);
  std::normal_distribution<double> normal(0.0, 1.0);

  // cluster centres at distance ~3 from each other, points with noise 0.5
  Eigen::MatrixXd centres(kClusters, kInputDim);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres(i) = 1.2 * normal(engine);
  // pairs: row i of X1 and row i of X2; every other pair from the same cluster
  Eigen::MatrixXd x1(kPairs, kInputDim), x2(kPairs, kInputDim);
  Eigen::VectorXi labels(kPairs);
  std::uniform_int_distribution<int> pick(0, kClusters - 1);
  for (int i = 0; i < kPairs; ++i) {
    const int c1 = pick(engine);
    int c2 = c1;
    if (i % 2 == 1) c2 = (c1 + 1 + pick(engine) % (kClusters - 1)) % kClusters;
    for (int j = 0; j < kInputDim; ++j) {
      x1(i, j) = centres(c1, j) + 0.5 * normal(engine);
      x2(i, j) = centres(c2, j) + 0.5 * normal(engine);
    }
    labels(i) = c1 == c2 ? 0 : 1;
  }

  // W small and random; embeddings e = W x, one row per sample: E = X W^T
  Eigen::MatrixXd W(kEmbedDim, kInputDim);
  for (Eigen::Index i = 0; i < W.size(); ++i) W(i) = 0.1 * normal(engine);

  const lossfn::Contrastive<lossfn::Mean> loss(margin, lossfn::Distance::Euclidean);
  Eigen::MatrixXd e1(kPairs, kEmbedDim), e2(kPairs, kEmbedDim), g1(kPairs, kEmbedDim), g2(kPairs, kEmbedDim);
  double first = 0, last = 0;
  for (int epoch = 0; epoch <= kEpochs; ++epoch) {
    e1.noalias() = x1 * W.transpose();
    e2.noalias() = x2 * W.transpose();
    last = loss.forward_backward(e1, e2, labels, g1, g2);  // dL/de1, dL/de2
    if (epoch == 0) first = last;
    if (epoch % 25 == 0) std::printf("epoch %3d  loss %.5f\n", epoch, last);
    // e1_i = W x1_i, so dL/dW = sum_i g1_i x1_i^T + g2_i x2_i^T
    W -= learning_rate * (g1.transpose() * x1 + g2.transpose() * x2);
  }

  // how many pairs are on the right side: similar closer than the margin, dissimilar beyond it
  e1.noalias() = x1 * W.transpose();
  e2.noalias() = x2 * W.transpose();
  int right = 0, strict = 0;
  for (int i = 0; i < kPairs; ++i) {
    const double D = (e1.row(i) - e2.row(i)).norm();
    right += (labels(i) == 0) == (D < margin / 2) ? 1 : 0;
    strict += (labels(i) == 0) == (D < margin) ? 1 : 0;
  }
  const double share = static_cast<double>(right) / kPairs;
  std::printf("loss %.5f -> %.5f\n", first, last);
  std::printf("%d of %d pairs (%.1f%%) on the right side of M/2 = %.2f (of M itself: %.1f%%)\n", right, kPairs,
              100 * share, margin / 2, 100.0 * strict / kPairs);
  // the hand-made chain rule, checked by central differences in every entry of W
  const auto loss_at = [&](const Eigen::MatrixXd& w) {
    return loss.forward(x1 * w.transpose(), x2 * w.transpose(), labels);
  };
  loss.forward_backward(e1, e2, labels, g1, g2);
  const Eigen::MatrixXd dW = g1.transpose() * x1 + g2.transpose() * x2;
  double fd_error = 0;
  for (Eigen::Index i = 0; i < W.size(); ++i) {
    Eigen::MatrixXd up = W, down = W;
    up(i) += 1e-6;
    down(i) -= 1e-6;
    fd_error = std::fmax(fd_error, std::abs((loss_at(up) - loss_at(down)) / 2e-6 - dW(i)));
  }
  std::printf("dL/dW against finite differences: largest error %.1e\n", fd_error);

  const bool ok = last < 0.5 * first && share >= 0.9 && fd_error < 1e-6;
  std::puts(ok ? "siamese: the embedding separates the clusters" : "siamese: TRAINING FAILED");
  return ok ? 0 : 1;
}
