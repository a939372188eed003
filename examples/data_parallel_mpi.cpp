// Data-parallel training with MPI (Open MPI's C API): the batch is split into
// uneven shards over the processes, each process runs the loss on its shard only,
// and one MPI_Allreduce per step combines them, by the recipe of docs/sharding.md.
// Rank 0 also trains the same model on the whole batch in one process, with the
// Mean loss's forward_backward, and the program checks that the two runs are the
// same run: the loss at every step and the final parameters equal to 1e-12.
//
//   mpiexec -n 3 --oversubscribe data_parallel_mpi [diabetes.csv wine.csv]
//
// Any number of processes works (the demo runs it as one): the batch is always cut
// into the same 3 shards, and shard s is processed by rank s % P.
//
// Models, each a linear model (logits Z = X W + b) trained by full-batch gradient
// descent from W = 0, b = 0 for kSteps steps:
//   1. softmax classifier on examples/data/wine.csv (178 wines, 13 features,
//      3 cultivars), CrossEntropy<Mean> with class weights, label smoothing 0.1 and
//      ignore_index = -1; shards of 84, 30 and 64 rows. Every label of shard 1 is
//      ignored (its denominator is 0: it contributes nothing), and so is every 11th
//      row of the others;
//   2. linear regression on examples/data/diabetes.csv (442 patients, 10 features,
//      disease progression), RMSE<Mean>, whose root is taken after the reduction:
//      the shards run MSE<Sum>; shards of 250, 120 and 72 rows;
//   3. the same regression with Huber<Mean> (delta 1).
// Features and the regression target are standardised with the whole data set's
// mean and standard deviation.
//
// Per step, each rank sums over its shards [loss with Sum, denominator() of the Mean
// loss, X_sᵀ dL/dZ_s, column sums of dL/dZ_s] (the gradient of W and b: they are
// linear in dL/dZ, so the shards' parts add up), one MPI_Allreduce(MPI_SUM) of that
// vector, then L = S / N and the gradient x 1/N (RMSE: L = sqrt(S / N), the MSE<Sum>
// gradient x 1/(2 N L)).
//
// Check, on rank 0 (metric: max |a - b| / max(max |b|, tiny), over the vector of
// final parameters, and per step over the loss trajectory, taking the largest):
//   - sharded vs one process: <= 1e-12, for the loss at every step and for the
//     final parameters;
//   - the control, the naive data-parallel loop (the average of the shards' Mean
//     losses and gradients): must differ by > 1e-6, which shows the check can fail
//     and that the recipe matters;
//   - the loss went down (final < 0.8 x initial): the loop does train.
// Rank 0 broadcasts the verdict; every rank exits 0 on success, 1 otherwise.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // the C API only: no MPI-2 C++ bindings (libmpi_cxx)
#endif
#include <mpi.h>
#include <lossfn/cross_entropy.hpp>
#include <lossfn/huber.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef LOSSFN_MPI_REGRESSION_DATA
#define LOSSFN_MPI_REGRESSION_DATA "examples/data/diabetes.csv"
#endif
#ifndef LOSSFN_MPI_CLASS_DATA
#define LOSSFN_MPI_CLASS_DATA "examples/data/wine.csv"
#endif

namespace {

using Eigen::Index;
using Labels = Eigen::Matrix<int, Eigen::Dynamic, 1>;  // class-index targets
constexpr int kShards = 3;
constexpr int kSteps = 40;
constexpr int kIgnore = -1;
constexpr double kTolerance = 1e-12;  // sharded vs one process
constexpr double kControl = 1e-6;     // naive vs one process must differ by more

struct World {
  int rank = 0, size = 1;
};

void allreduce_sum(Eigen::VectorXd& v) {
  MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

// ---- data -------------------------------------------------------------------------

struct Table {
  Eigen::MatrixXd x;  // rows x features
  Eigen::VectorXd y;  // last column
};

/// A CSV whose first line is a header and whose last column is the target.
Table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> values;
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) values.push_back(std::stod(field));
    if (values.size() < 2 || (!rows.empty() && values.size() != rows.front().size()))
      throw std::runtime_error(path + ": rows of different lengths");
    rows.push_back(std::move(values));
  }
  if (rows.empty()) throw std::runtime_error(path + ": no rows");
  const auto m = static_cast<Index>(rows.size()), d = static_cast<Index>(rows.front().size()) - 1;
  Table t{Eigen::MatrixXd(m, d), Eigen::VectorXd(m)};
  for (Index i = 0; i < m; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    for (Index j = 0; j < d; ++j) t.x(i, j) = r[static_cast<std::size_t>(j)];
    t.y(i) = r.back();
  }
  return t;
}

/// Rank 0 reads the file and broadcasts it: every rank holds the same bits.
Table load(const std::string& path, const World& world) {
  Table t;
  std::int64_t shape[2] = {0, 0};
  if (world.rank == 0) {
    t = read_csv(path);
    shape[0] = t.x.rows();
    shape[1] = t.x.cols();
  }
  MPI_Bcast(shape, 2, MPI_INT64_T, 0, MPI_COMM_WORLD);
  t.x.resize(shape[0], shape[1]);
  t.y.resize(shape[0]);
  MPI_Bcast(t.x.data(), static_cast<int>(t.x.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  MPI_Bcast(t.y.data(), static_cast<int>(t.y.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return t;
}

Eigen::MatrixXd standardised(const Eigen::MatrixXd& x) {
  const Eigen::RowVectorXd mean = x.colwise().mean();
  const Eigen::MatrixXd centred = x.rowwise() - mean;
  const Eigen::RowVectorXd sd = (centred.colwise().squaredNorm() / static_cast<double>(x.rows())).cwiseSqrt();
  return centred.array().rowwise() / sd.array();
}

/// A batch and its split into kShards contiguous shards.
template <class Target>
struct Problem {
  Eigen::MatrixXd x;  // m x d
  Target y;           // m x 1
  Index outputs = 1;  // K: columns of the logits
  std::array<Index, kShards> rows{};
  Index start(int s) const {
    Index first = 0;
    for (int r = 0; r < s; ++r) first += rows[static_cast<std::size_t>(r)];
    return first;
  }
  Index size(int s) const { return rows[static_cast<std::size_t>(s)]; }
};

// ---- model ------------------------------------------------------------------------

/// Z = X W + b; its parameters as one vector: W (column-major), then b.
struct Linear {
  Eigen::MatrixXd w;
  Eigen::RowVectorXd b;
  Linear(Index d, Index k) : w(Eigen::MatrixXd::Zero(d, k)), b(Eigen::RowVectorXd::Zero(k)) {}
  Index parameters() const { return w.size() + b.size(); }
  template <class X>
  Eigen::MatrixXd logits(const X& x) const {
    return (x * w).rowwise() + b;
  }
  Eigen::VectorXd flat() const {
    Eigen::VectorXd p(parameters());
    p << Eigen::Map<const Eigen::VectorXd>(w.data(), w.size()), b.transpose();
    return p;
  }
  void step(const Eigen::VectorXd& grad, double rate) {
    w -= rate * Eigen::Map<const Eigen::MatrixXd>(grad.data(), w.rows(), w.cols());
    b -= rate * grad.tail(b.size()).transpose();
  }
};

/// Adds the parameters' gradient, given dL/dZ of rows X, into out (Linear's layout):
/// dL/dW = Xᵀ dL/dZ, dL/db = the column sums of dL/dZ.
template <class X, class G, class Out>
void add_parameter_gradient(const X& x, const G& g, Out&& out) {
  const Index d = x.cols(), k = g.cols();
  Eigen::Map<Eigen::MatrixXd>(out.data(), d, k).noalias() += x.transpose() * g;
  out.tail(k) += g.colwise().sum().transpose();
}

// ---- the losses and their sharded recipes -----------------------------------------

/// SumLoss runs on the shards, MeanLoss is the one-process loss and gives the
/// denominator; Root: RMSE (L = sqrt(S / N)).
template <class SumLoss, class MeanLoss, bool Root>
struct Recipe {
  SumLoss sum;
  MeanLoss mean;
  /// The loss and the factor of the all-reduced gradient, from S and N.
  std::pair<double, double> combine(double s, double n) const {
    if (n <= 0) return {0.0, 0.0};  // every sample ignored: Mean gives 0 and 0
    if constexpr (Root) {
      const double l = std::sqrt(s / n);
      return {l, l > 0 ? 1 / (2 * n * l) : 0.0};
    } else {
      return {s / n, 1 / n};
    }
  }
};

/// One process, the whole batch, the Mean loss.
template <class R, class T>
double whole_batch(const R& recipe, const Problem<T>& p, const Linear& model, Eigen::VectorXd& grad) {
  const Eigen::MatrixXd z = model.logits(p.x);
  Eigen::MatrixXd g(z.rows(), z.cols());
  const double loss = recipe.mean.forward_backward(z, p.y, g);
  grad.setZero();
  add_parameter_gradient(p.x, g, grad);
  return loss;
}

/// This rank's shards with Sum, one all-reduce of [S, N, gradient], then divide.
template <class R, class T>
double sharded(const R& recipe, const Problem<T>& p, const Linear& model, Eigen::VectorXd& grad, const World& world) {
  Eigen::VectorXd sums = Eigen::VectorXd::Zero(2 + model.parameters());
  for (int s = world.rank; s < kShards; s += world.size) {
    const auto x = p.x.middleRows(p.start(s), p.size(s));
    const auto y = p.y.middleRows(p.start(s), p.size(s));
    const Eigen::MatrixXd z = model.logits(x);
    Eigen::MatrixXd g(z.rows(), z.cols());
    sums(0) += recipe.sum.forward_backward(z, y, g);  // the shard's sum, and its gradient
    sums(1) += recipe.mean.denominator(z, y);         // what Mean would divide by
    add_parameter_gradient(x, g, sums.tail(model.parameters()));
  }
  allreduce_sum(sums);
  const auto [loss, factor] = recipe.combine(sums(0), sums(1));
  grad = sums.tail(model.parameters()) * factor;
  return loss;
}

/// The control: each shard's Mean loss and gradient, averaged over the shards.
template <class R, class T>
double naive(const R& recipe, const Problem<T>& p, const Linear& model, Eigen::VectorXd& grad, const World& world) {
  Eigen::VectorXd sums = Eigen::VectorXd::Zero(1 + model.parameters());
  for (int s = world.rank; s < kShards; s += world.size) {
    const auto x = p.x.middleRows(p.start(s), p.size(s));
    const auto y = p.y.middleRows(p.start(s), p.size(s));
    const Eigen::MatrixXd z = model.logits(x);
    Eigen::MatrixXd g(z.rows(), z.cols());
    sums(0) += recipe.mean.forward_backward(z, y, g);
    add_parameter_gradient(x, g, sums.tail(model.parameters()));
  }
  allreduce_sum(sums);
  grad = sums.tail(model.parameters()) / kShards;
  return sums(0) / kShards;
}

// ---- training and the check ----------------------------------------------------

struct Run {
  std::vector<double> losses;  // at the start of each step, then at the final parameters
  Eigen::VectorXd parameters;  // final
};

template <class Objective>
Run train(Index d, Index k, double rate, Objective objective) {
  Linear model(d, k);
  Eigen::VectorXd grad(model.parameters());
  Run run;
  for (int step = 0; step <= kSteps; ++step) {
    run.losses.push_back(objective(model, grad));
    if (step < kSteps) model.step(grad, rate);
  }
  run.parameters = model.flat();
  return run;
}

/// max |a - b| / max(max |b|, tiny)
double relative(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
}

/// The relative difference of the losses, step by step, the largest.
double trajectory(const Run& a, const Run& b) {
  double worst = 0;
  for (std::size_t t = 0; t < b.losses.size(); ++t)
    worst =
        std::max(worst, relative(Eigen::VectorXd::Constant(1, a.losses[t]), Eigen::VectorXd::Constant(1, b.losses[t])));
  return worst;
}

/// Trains the model three ways; rank 0 compares and prints. True when it passes
/// (on rank 0; the other ranks return true).
template <class R, class T>
bool run_model(const char* title, const R& recipe, const Problem<T>& p, double rate, const World& world) {
  const Index d = p.x.cols(), k = p.outputs;
  const Run sharded_run =
      train(d, k, rate, [&](const Linear& m, Eigen::VectorXd& g) { return sharded(recipe, p, m, g, world); });
  const Run naive_run =
      train(d, k, rate, [&](const Linear& m, Eigen::VectorXd& g) { return naive(recipe, p, m, g, world); });
  if (world.rank != 0) return true;
  const Run reference =
      train(d, k, rate, [&](const Linear& m, Eigen::VectorXd& g) { return whole_batch(recipe, p, m, g); });

  std::printf("== %s: %lld rows, %d steps of rate %.2f\n", title, static_cast<long long>(p.x.rows()), kSteps, rate);
  const Linear zero(d, k);
  for (int s = 0; s < kShards; ++s) {
    const Eigen::MatrixXd z = zero.logits(p.x.middleRows(p.start(s), p.size(s)));
    std::printf("   shard %d (rank %d): rows [%lld, %lld), denominator %.4g\n", s, s % world.size,
                static_cast<long long>(p.start(s)), static_cast<long long>(p.start(s) + p.size(s)),
                recipe.mean.denominator(z, p.y.middleRows(p.start(s), p.size(s))));
  }
  const double loss_diff = trajectory(sharded_run, reference);
  const double param_diff = relative(sharded_run.parameters, reference.parameters);
  const double naive_loss_diff = trajectory(naive_run, reference);
  const double naive_param_diff = relative(naive_run.parameters, reference.parameters);
  const double first = reference.losses.front(), last = reference.losses.back();
  std::printf("   one process: loss %.6f -> %.6f\n", first, last);
  std::printf("   sharded vs one process: loss trajectory %.3g, parameters %.3g (must be <= %.0e)\n", loss_diff,
              param_diff, kTolerance);
  std::printf(
      "   naive average of shard Means vs one process: loss trajectory %.3g, parameters %.3g "
      "(must be > %.0e); its final loss %.6f\n",
      naive_loss_diff, naive_param_diff, kControl, naive_run.losses.back());
  bool ok = true;
  const auto expect = [&ok](bool condition, const char* what) {
    if (!condition) std::printf("   FAILED: %s\n", what);
    ok = ok && condition;
  };
  expect(loss_diff <= kTolerance && param_diff <= kTolerance, "sharded run equals the one-process run");
  expect(naive_loss_diff > kControl && naive_param_diff > kControl, "the naive average differs");
  expect(last < 0.8 * first, "the loss went down by 20% or more");
  return ok;
}

bool run_all(const std::string& regression_path, const std::string& class_path, const World& world) {
  bool ok = true;

  // 1. softmax classifier, wine: rows sorted by cultivar, so the shards' class mixes differ
  const Table wine = load(class_path, world);
  Problem<Labels> classes{standardised(wine.x), wine.y.cast<int>(), 3, {84, 30, 64}};
  for (Index i = 0; i < classes.y.size(); ++i) {
    const bool in_shard_1 = i >= classes.start(1) && i < classes.start(2);
    if (in_shard_1 || i % 11 == 5) classes.y(i) = kIgnore;
  }
  lossfn::CrossEntropyOptions options;  // logits
  options.class_weights = Eigen::ArrayXd(3);
  options.class_weights << 1.0, 0.6, 1.5;
  options.label_smoothing = 0.1;
  options.ignore_index = kIgnore;
  using CE = Recipe<lossfn::CrossEntropy<lossfn::Sum>, lossfn::CrossEntropy<lossfn::Mean>, false>;
  ok = run_model("softmax classifier, CrossEntropy<Mean> (class weights, label smoothing 0.1, ignore_index)",
                 CE{lossfn::CrossEntropy<lossfn::Sum>(options), lossfn::CrossEntropy<lossfn::Mean>(options)}, classes,
                 0.5, world) &&
       ok;

  // 2. and 3. linear regression, diabetes
  const Table diabetes = load(regression_path, world);
  const Eigen::MatrixXd target = standardised(diabetes.y);
  const Problem<Eigen::MatrixXd> regression{standardised(diabetes.x), target, 1, {250, 120, 72}};
  using RMSE = Recipe<lossfn::MSE<lossfn::Sum>, lossfn::RMSE<lossfn::Mean>, true>;
  ok = run_model("linear regression, RMSE<Mean> (shards: MSE<Sum>)", RMSE{}, regression, 0.3, world) && ok;
  using Huber = Recipe<lossfn::Huber<lossfn::Sum>, lossfn::Huber<lossfn::Mean>, false>;
  ok = run_model("linear regression, Huber<Mean> (delta 1)",
                 Huber{lossfn::Huber<lossfn::Sum>(1.0), lossfn::Huber<lossfn::Mean>(1.0)}, regression, 0.3, world) &&
       ok;
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  World world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  int ok = 0;
  try {
    if (world.rank == 0) std::printf("%d MPI processes, %d shards\n", world.size, kShards);
    ok = run_all(argc > 1 ? argv[1] : LOSSFN_MPI_REGRESSION_DATA, argc > 2 ? argv[2] : LOSSFN_MPI_CLASS_DATA, world)
             ? 1
             : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_parallel_mpi (rank %d): %s\n", world.rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);  // the other ranks may be waiting in a collective
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);  // rank 0's verdict, for every rank's exit code
  if (world.rank == 0) std::printf("%s\n", ok ? "OK" : "FAILED");
  MPI_Finalize();
  return ok ? 0 : 1;
}
