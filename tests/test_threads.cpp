// Thread safety (DESIGN.md: a loss is a const functor whose only state is its
// options, so one object can be shared by many threads). Several threads share
// one const loss object and call forward_backward on their own data at the same
// time; every result must equal, bit for bit, the one computed on one thread
// beforehand. Run under ThreadSanitizer by scripts/sanitize (preset "tsan").
#include <lossfn/lossfn.hpp>

#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "gradient_check.hpp"

namespace {

using ArrayCM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int kThreads = 4;
constexpr int kIterations = 20;

/// Runs work(t) for t = 0..kThreads-1 once on this thread (the reference), then
/// kIterations times on each of kThreads threads at once; returns how many
/// concurrent results differed from their reference. work returns the loss
/// followed by every gradient coefficient.
template <class Work>
int concurrent_mismatches(const Work& work) {
  std::vector<std::vector<double>> reference;
  for (int t = 0; t < kThreads; ++t) reference.push_back(work(t));
  std::atomic<int> mismatches{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) {
      }  // start together, so the calls overlap
      for (int i = 0; i < kIterations; ++i) {
        if (work(t) != reference[static_cast<std::size_t>(t)]) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return mismatches.load();
}

template <class Plain>
std::vector<double> flatten(double loss, const Plain& grad) {
  std::vector<double> out{loss};
  for (Eigen::Index j = 0; j < grad.cols(); ++j)
    for (Eigen::Index i = 0; i < grad.rows(); ++i) out.push_back(static_cast<double>(grad(i, j)));
  return out;
}

/// Per-thread data: 300 x 8 = 2400 coefficients, more than one block of the kernel.
struct RegressionData {
  std::vector<ArrayCM> pred, target;
  RegressionData() {
    for (int t = 0; t < kThreads; ++t) {
      const auto seed = static_cast<unsigned>(100 + t);
      pred.push_back(lossfn_test::random_array<ArrayCM>(300, 8, seed, -3, 3));
      target.push_back(lossfn_test::random_array<ArrayCM>(300, 8, seed + 50, -3, 3));
    }
  }
};

/// One shared const elementwise loss, per-thread inputs and gradients.
template <class Loss>
void check_elementwise(const Loss& shared) {
  const RegressionData data;
  const auto work = [&](int t) {
    const auto i = static_cast<std::size_t>(t);
    ArrayCM grad(300, 8);
    const double loss = shared.forward_backward(data.pred[i], data.target[i], grad);
    return flatten(loss, grad);
  };
  CHECK(concurrent_mismatches(work) == 0);
  // the reference is not trivially equal for every thread (the data differ)
  CHECK(work(0) != work(1));
}

}  // namespace

TEST_CASE("threads: one const MSE shared by several threads") { check_elementwise(lossfn::MSE<lossfn::Mean>{}); }

TEST_CASE("threads: one const MAE shared by several threads") { check_elementwise(lossfn::MAE<lossfn::Sum>{}); }

TEST_CASE("threads: one const RMSE shared by several threads") { check_elementwise(lossfn::RMSE<lossfn::Mean>{}); }

TEST_CASE("threads: one const Huber shared by several threads") { check_elementwise(lossfn::Huber<lossfn::Mean>{0.7}); }

TEST_CASE("threads: one const CrossEntropy (weights, smoothing, ignore_index) shared by several threads") {
  lossfn::CrossEntropyOptions options;
  options.class_weights = Eigen::ArrayXd::LinSpaced(8, 0.5, 2.0);
  options.label_smoothing = 0.1;
  options.ignore_index = 3;
  const lossfn::CrossEntropy<lossfn::Mean> shared(options);
  std::vector<ArrayRM> logits;
  std::vector<Eigen::ArrayXi> classes;
  for (int t = 0; t < kThreads; ++t) {
    logits.push_back(lossfn_test::random_array<ArrayRM>(300, 8, static_cast<unsigned>(200 + t), -4, 4));
    Eigen::ArrayXi c(300);
    for (Eigen::Index i = 0; i < c.size(); ++i) c(i) = static_cast<int>((i * 7 + t) % 8);
    classes.push_back(c);
  }
  const auto work = [&](int t) {
    const auto i = static_cast<std::size_t>(t);
    ArrayRM grad(300, 8);
    const double loss = shared.forward_backward(logits[i], classes[i], grad);
    return flatten(loss, grad);
  };
  CHECK(concurrent_mismatches(work) == 0);
  CHECK(work(0) != work(1));
}

TEST_CASE("threads: one const KLDivergence shared by several threads") {
  const lossfn::KLDivergence<lossfn::Sum> shared;
  std::vector<ArrayCM> logits, targets;
  for (int t = 0; t < kThreads; ++t) {
    logits.push_back(lossfn_test::random_array<ArrayCM>(300, 8, static_cast<unsigned>(300 + t), -4, 4));
    ArrayCM p = lossfn_test::random_array<ArrayCM>(300, 8, static_cast<unsigned>(350 + t), 0, 1);
    p.colwise() /= p.rowwise().sum();
    targets.push_back(p);
  }
  const auto work = [&](int t) {
    const auto i = static_cast<std::size_t>(t);
    ArrayCM grad(300, 8);
    const double loss = shared.forward_backward(logits[i], targets[i], grad);
    return flatten(loss, grad);
  };
  CHECK(concurrent_mismatches(work) == 0);
  CHECK(work(0) != work(1));
}

TEST_CASE("threads: one const Contrastive (cosine) shared by several threads") {
  const lossfn::Contrastive<lossfn::Mean> shared(0.8, lossfn::Distance::Cosine);
  std::vector<ArrayRM> x1, x2;
  std::vector<Eigen::ArrayXd> labels;
  for (int t = 0; t < kThreads; ++t) {
    x1.push_back(lossfn_test::random_array<ArrayRM>(300, 8, static_cast<unsigned>(400 + t)));
    x2.push_back(lossfn_test::random_array<ArrayRM>(300, 8, static_cast<unsigned>(450 + t)));
    Eigen::ArrayXd y(300);
    for (Eigen::Index i = 0; i < y.size(); ++i) y(i) = static_cast<double>((i + t) % 2);
    labels.push_back(y);
  }
  const auto work = [&](int t) {
    const auto i = static_cast<std::size_t>(t);
    ArrayRM g1(300, 8), g2(300, 8);
    const double loss = shared.forward_backward(x1[i], x2[i], labels[i], g1, g2);
    std::vector<double> out = flatten(loss, g1);
    const std::vector<double> second = flatten(0.0, g2);
    out.insert(out.end(), second.begin(), second.end());
    return out;
  };
  CHECK(concurrent_mismatches(work) == 0);
  CHECK(work(0) != work(1));
}

TEST_CASE("threads: failing calls on several threads throw independently") {
  const lossfn::MSE<> shared;
  const ArrayCM pred = ArrayCM::Zero(3, 2), wrong = ArrayCM::Zero(2, 3);
  const auto work = [&](int t) {
    ArrayRM grad = ArrayRM::Constant(3, 2, t);
    double caught = 0;
    try {
      shared.forward_backward(pred, wrong, grad);
    } catch (const lossfn::shape_error& error) {
      caught = std::string(error.what()) == "lossfn::MSE::forward_backward: pred is 3x2 but target is 2x3" ? 1 : -1;
    }
    return flatten(caught, grad);
  };
  CHECK(concurrent_mismatches(work) == 0);
  CHECK(work(0).front() == 1);
}
