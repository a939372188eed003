// libtorch's CPU losses over the same data as lossfn's cases (the softmax targets
// are drawn by torch, of the same shapes and kinds), one thread, named
// torch/<loss>/<op>/<type>/<shape> so scripts/bench puts them next to lossfn's.
// forward runs under NoGradGuard; forward_backward is loss.backward() on a leaf
// that requires grad (its grad is dropped each iteration, as a training step's
// zero_grad would), so autograd's bookkeeping is part of the figure, as it is
// for a user of libtorch. Built only when CMake finds Torch.
#include <torch/torch.h>

#include "bench_common.hpp"

namespace {

using lossfn_bench::Vec;

template <class S>
constexpr torch::Dtype dtype() {
  return sizeof(S) == 4 ? torch::kFloat : torch::kDouble;
}

template <class S>
torch::Tensor view(const Vec<S>& x) {
  return torch::from_blob(const_cast<S*>(x.data()), {static_cast<std::int64_t>(x.size())}, dtype<S>());
}

/// Registers forward and forward_backward of loss(pred, target) on vectors of n, pred
/// uniform in [pred_lo, pred_hi] and target in [target_lo, target_hi] (lossfn's cases'
/// data: random_vec's [-1, 1] by default).
template <class S, class Loss>
void add_elementwise(const std::string& label, Eigen::Index n, Loss loss, double pred_lo = -1, double pred_hi = 1,
                     double target_lo = -1, double target_hi = 1) {
  const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::count_name(n);
  auto data = [=](unsigned seed) {
    return seed == 1 ? view(lossfn_bench::cached_random<Vec<S>>(n, 1, 1, pred_lo, pred_hi))
                     : view(lossfn_bench::cached_random<Vec<S>>(n, 1, 2, target_lo, target_hi));
  };
  lossfn_bench::add("torch/" + label + "/forward" + tail, [n, loss, data](benchmark::State& state) {
    at::set_num_threads(1);
    const torch::Tensor pred = data(1);
    const torch::Tensor target = data(2);
    torch::NoGradGuard no_grad;
    for (auto _ : state) {
      torch::Tensor value = loss(pred, target);
      benchmark::DoNotOptimize(value.data_ptr());
    }
    lossfn_bench::set_bytes(state, n, sizeof(S), 2);
  });
  lossfn_bench::add("torch/" + label + "/forward_backward" + tail, [n, loss, data](benchmark::State& state) {
    at::set_num_threads(1);
    torch::Tensor pred = data(1).requires_grad_(true);
    const torch::Tensor target = data(2);
    for (auto _ : state) {
      pred.mutable_grad() = torch::Tensor();
      torch::Tensor value = loss(pred, target);
      value.backward();
      benchmark::DoNotOptimize(pred.grad().data_ptr());
    }
    lossfn_bench::set_bytes(state, n, sizeof(S), 3);
  });
}

template <class S>
bool register_regression() {
  for (Eigen::Index n : lossfn_bench::kRegressionSizes) {
    add_elementwise<S>("mse", n, [](const torch::Tensor& p, const torch::Tensor& t) { return torch::mse_loss(p, t); });
    add_elementwise<S>("mae", n, [](const torch::Tensor& p, const torch::Tensor& t) { return torch::l1_loss(p, t); });
    add_elementwise<S>("huber", n, [](const torch::Tensor& p, const torch::Tensor& t) {
      return torch::huber_loss(p, t, at::Reduction::Mean, 0.5);
    });
    // bench_binary.cpp's data: logits in [-4, 4], targets in [0, 1]
    add_elementwise<S>(
        "bce", n,
        [](const torch::Tensor& p, const torch::Tensor& t) { return torch::binary_cross_entropy_with_logits(p, t); },
        -4, 4, 0, 1);
  }
  return true;
}

/// Registers forward and forward_backward of loss(z, target) with z an m x K leaf.
template <class S, class Loss>
void add_rowwise(const std::string& name, const std::string& variant, Eigen::Index m, Eigen::Index k,
                 torch::Tensor target, int arrays_in, Loss loss) {
  using Z = lossfn_bench::Mat<S, Eigen::RowMajor>;
  const std::string tail = std::string("/") + lossfn_bench::scalar_name<S>() + "/" + lossfn_bench::shape_name(m, k);
  auto logits = [m, k] {
    const Z& z = lossfn_bench::cached_random<Z>(m, k, 31, -4.0, 4.0);
    return torch::from_blob(const_cast<S*>(z.data()), {static_cast<std::int64_t>(m), static_cast<std::int64_t>(k)},
                            dtype<S>());
  };
  lossfn_bench::add("torch/" + name + "/forward" + tail + variant, [=](benchmark::State& state) {
    at::set_num_threads(1);
    const torch::Tensor z = logits();
    torch::NoGradGuard no_grad;
    for (auto _ : state) {
      torch::Tensor value = loss(z, target);
      benchmark::DoNotOptimize(value.data_ptr());
    }
    lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in);
  });
  lossfn_bench::add("torch/" + name + "/forward_backward" + tail + variant, [=](benchmark::State& state) {
    at::set_num_threads(1);
    torch::Tensor z = logits().requires_grad_(true);
    for (auto _ : state) {
      z.mutable_grad() = torch::Tensor();
      torch::Tensor value = loss(z, target);
      value.backward();
      benchmark::DoNotOptimize(z.grad().data_ptr());
    }
    lossfn_bench::set_bytes(state, m * k, sizeof(S), arrays_in + 1);
  });
}

template <class S>
bool register_softmax() {
  for (const auto& shape : lossfn_bench::kSoftmaxShapes) {
    const Eigen::Index m = shape.first, k = shape.second;
    const auto mm = static_cast<std::int64_t>(m), kk = static_cast<std::int64_t>(k);
    // the same targets as bench_cross_entropy.cpp and bench_kl_divergence.cpp
    torch::Tensor labels = torch::empty({mm}, torch::kLong);
    for (std::int64_t i = 0; i < mm; ++i) labels[i] = (i * 7919) % kk;
    const torch::Tensor soft = torch::softmax(torch::rand({mm, kk}, dtype<S>()), 1);
    const torch::Tensor p = torch::softmax(torch::rand({mm, kk}, dtype<S>()) * 8 - 4, 1);
    const torch::Tensor log_p = torch::log(p);
    add_rowwise<S>("ce", "/index", m, k, labels, 1,
                   [](const torch::Tensor& z, const torch::Tensor& y) { return torch::cross_entropy_loss(z, y); });
    add_rowwise<S>("ce", "/soft", m, k, soft, 2,
                   [](const torch::Tensor& z, const torch::Tensor& y) { return torch::cross_entropy_loss(z, y); });
    // batchmean: the sum over the batch divided by m, as torch.nn.functional.kl_div does
    add_rowwise<S>("kl", "/logits", m, k, p, 2, [mm](const torch::Tensor& z, const torch::Tensor& y) {
      return torch::kl_div(torch::log_softmax(z, 1), y, at::Reduction::Sum) / mm;
    });
    add_rowwise<S>("kl", "/log", m, k, log_p, 2, [mm](const torch::Tensor& z, const torch::Tensor& y) {
      return torch::kl_div(z, y, at::Reduction::Sum, /*log_target=*/true) / mm;
    });
  }
  return true;
}

const bool registered = register_regression<float>() && register_regression<double>() && register_softmax<float>() &&
                        register_softmax<double>();

}  // namespace
