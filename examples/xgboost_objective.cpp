// lossfn as XGBoost's objective: gradient-boosted trees trained through XGBoost's
// C API, where each boosting round takes the gradient and the Hessian diagonal of
// the loss at the current predictions (XGBoosterBoostOneIter). lossfn's
// forward_backward_hessian writes both, in one pass, straight into XGBoost's
// buffers (Eigen Maps, no copy).
//
// Data: examples/data/diabetes.csv (442 patients, 10 features, a disease
// progression score; source and licence in examples/data/README.md); every 5th
// row is held out (354 training rows, 88 held-out rows).
//
// 1. MSE against XGBoost's built-in reg:squarederror. The built-in objective is
//    1/2 sum e^2 (grad = pred - y, hess = 1 per row); lossfn's MSE<Sum> is
//    sum e^2 (grad 2 e, hess 2): the same objective times c = 2. XGBoost's tree
//    for (c g, c h) is the tree for (g, h) when the regularisation is scaled by c
//    as well (see booster_params). Then the Newton steps coincide and so do the
//    predictions, on the training and on the held-out rows. A control run that
//    does not scale the regularisation must differ: it shows the check can fail.
// 2. Huber with its exact Hessian (1 on the quadratic piece, 0 on the linear
//    one), an objective XGBoost does not have (its reg:pseudohubererror is the
//    smooth pseudo-Huber): it must beat the best constant on the held-out rows.
//
// Data for 3 and 4: examples/data/wine.csv (178 wines, 13 chemical measurements,
// 3 cultivars; source and licence in examples/data/README.md), split the same way
// (143 training rows, 35 held-out rows).
//
// 3. CrossEntropy against XGBoost's built-in multi:softprob. XGBoost's margins are
//    n x k (k = num_class = 3), row-major, and so are the gradient and the Hessian
//    it takes. CrossEntropy<Sum> on those logits and the class indices has
//    gradient q - onehot(y), XGBoost's own; its exact Hessian diagonal is
//    q (1 - q), and multi:softprob's is documented and coded as 2 p (1 - p), so
//    the objective doubles it (see softprob_objective for why XGBoost's factor 2
//    is a sound choice). With the same gradient and Hessian the trees and the
//    predicted probabilities are the same up to float rounding (XGBoost computes
//    p in float, lossfn in double rounded once). A control with the exact,
//    undoubled diagonal must differ far beyond the tolerance.
// 4. CrossEntropy with label smoothing 0.1 and class weights, an objective
//    XGBoost does not have (row weights could give it the class weights, nothing
//    gives it label smoothing): trained the same way, it must beat the constant
//    model (the training class priors) on the held-out rows, in log loss and in
//    accuracy.
//
// Data for 5 and 6: examples/data/breast_cancer.csv (UCI Breast Cancer Wisconsin
// (Diagnostic): 569 breast masses, 30 features, 1 = malignant; source and licence
// in examples/data/README.md), split the same way (456 training rows, 113
// held-out rows).
//
// 5. BinaryCrossEntropy<Sum> from logits against XGBoost's built-in
//    binary:logistic. Its gradient sigmoid(z) - y and Hessian diagonal
//    sigmoid(z) (1 - sigmoid(z)) are binary:logistic's own, so with the same
//    parameters and base_score 0.5 (margin 0 for both runs) the predicted
//    probabilities agree up to float rounding. A control that starts the custom
//    run from another base_score (the training share of positives) must differ
//    far beyond the tolerance.
// 6. SigmoidFocal<Sum> (torchvision's definition, gamma 2, alpha favouring the
//    rare positives) against plain BinaryCrossEntropy<Sum> on an imbalanced
//    training split (1 malignant training row in 10 kept): the focal model must
//    find more of the malignant rows it never saw (recall at threshold 0.5).
//
// Exits non-zero if any check fails.
#include <xgboost/c_api.h>
#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/cross_entropy.hpp>
#include <lossfn/huber.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>
#include <lossfn/sigmoid_focal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef LOSSFN_XGBOOST_DATA
#define LOSSFN_XGBOOST_DATA "examples/data/diabetes.csv"
#endif
#ifndef LOSSFN_XGBOOST_CLASS_DATA
#define LOSSFN_XGBOOST_CLASS_DATA "examples/data/wine.csv"
#endif
#ifndef LOSSFN_XGBOOST_BINARY_DATA
#define LOSSFN_XGBOOST_BINARY_DATA "examples/data/breast_cancer.csv"
#endif

namespace {

// XGBoost's buffers: n rows x k outputs, row-major (k = 1 for regression).
using RowMajorXXf = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MarginMap = Eigen::Map<const RowMajorXXf>;
using OutputMap = Eigen::Map<RowMajorXXf>;

constexpr int kRounds = 60;

void check(int status, const char* call) {
  if (status != 0) throw std::runtime_error(std::string(call) + ": " + XGBGetLastError());
}

// ---- data ---------------------------------------------------------------------

struct Rows {
  std::vector<float> x;  // rows x cols, row-major
  std::vector<float> y;  // rows
  Eigen::Index cols = 0;
  Eigen::Index rows() const { return static_cast<Eigen::Index>(y.size()); }
  Eigen::Map<const RowMajorXXf> target() const { return {y.data(), rows(), 1}; }
};

/// Reads a CSV whose first line is a header and whose last column is the target;
/// row i goes to `held_out` if i % 5 == 4, else to `train`.
void read_csv(const std::string& path, Rows& train, Rows& held_out) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);  // header
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    if (line.empty()) continue;
    std::vector<float> values;
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) values.push_back(std::stof(field));
    Rows& rows = i % 5 == 4 ? held_out : train;
    const auto cols = static_cast<Eigen::Index>(values.size()) - 1;
    if (rows.cols != 0 && rows.cols != cols) throw std::runtime_error(path + ": rows of different lengths");
    rows.cols = cols;
    rows.x.insert(rows.x.end(), values.begin(), values.end() - 1);
    rows.y.push_back(values.back());
  }
}

// ---- XGBoost handles ------------------------------------------------------------

class DMatrix {
 public:
  explicit DMatrix(const Rows& rows) {
    check(XGDMatrixCreateFromMat(rows.x.data(), static_cast<bst_ulong>(rows.rows()), static_cast<bst_ulong>(rows.cols),
                                 std::numeric_limits<float>::quiet_NaN(), &handle_),
          "XGDMatrixCreateFromMat");
    check(XGDMatrixSetFloatInfo(handle_, "label", rows.y.data(), static_cast<bst_ulong>(rows.y.size())),
          "XGDMatrixSetFloatInfo");
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() { XGDMatrixFree(handle_); }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

class Booster {
 public:
  Booster(const DMatrix& train, const std::vector<std::pair<std::string, std::string>>& params) {
    DMatrixHandle cache[] = {train.get()};
    check(XGBoosterCreate(cache, 1, &handle_), "XGBoosterCreate");
    for (const auto& [key, value] : params)
      check(XGBoosterSetParam(handle_, key.c_str(), value.c_str()), "XGBoosterSetParam");
  }
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() { XGBoosterFree(handle_); }
  BoosterHandle get() const { return handle_; }

  /// The model's predictions on `data` (output_margin: before the objective's
  /// transform; training: as a custom objective must ask for them), copied out of
  /// XGBoost's buffer, which the next call overwrites.
  std::vector<float> predict(const DMatrix& data, bool output_margin = false, bool training = false) const {
    bst_ulong length = 0;
    const float* result = nullptr;
    check(XGBoosterPredict(handle_, data.get(), output_margin ? 1 : 0, 0, training ? 1 : 0, &length, &result),
          "XGBoosterPredict");
    return std::vector<float>(result, result + length);
  }

 private:
  BoosterHandle handle_ = nullptr;
};

using Params = std::vector<std::pair<std::string, std::string>>;

/// The settings both runs share, and the regularisation of the objective scaled
/// by c. XGBoost grows each tree from the sums G and H of the gradient and the
/// Hessian over the rows of a node: leaf weight -G / (H + lambda) (L1 alpha
/// shrinks G), split gain 1/2 [G_L^2/(H_L + lambda) + G_R^2/(H_R + lambda)
/// - G^2/(H + lambda)] - gamma, and no child with H < min_child_weight. Replacing
/// (g, h) by (c g, c h) and (lambda, alpha, gamma, min_child_weight) by c times
/// themselves leaves every leaf weight unchanged and multiplies every gain by c,
/// so the same splits win and the trees are the same. For c = 2 every one of
/// these products is exact in floating point.
/// tree_method "exact" (every split point is tried; "hist"/"approx" would sketch
/// quantiles, "approx" weighted by the Hessian) and one thread keep both runs'
/// sums in one order. base_score, the first prediction, is the training mean.
Params booster_params(double c, float base_score, const std::string& objective) {
  const auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return std::string(text);
  };
  return {{"objective", objective},  // with a custom objective: the output transform (identity) only
          {"tree_method", "exact"},
          {"nthread", "1"},
          {"seed", "0"},
          {"max_depth", "3"},
          {"eta", "0.1"},
          {"base_score", number(static_cast<double>(base_score))},
          {"lambda", number(1.0 * c)},
          {"alpha", number(0.5 * c)},
          {"gamma", number(10.0 * c)},
          {"min_child_weight", number(2.0 * c)}};
}

/// Trains `rounds` rounds with a custom objective: the current margins of the
/// training rows (n x k, row-major) go to `objective(margin, grad, hess)`, which
/// writes the gradient and Hessian diagonal into n x k buffers XGBoost then
/// takes. k = 1 for regression, num_class for multi:softprob.
template <class Objective>
void train_custom(Booster& booster, const DMatrix& train, Eigen::Index k, int rounds, const Objective& objective) {
  std::vector<float> grad, hess;
  for (int round = 0; round < rounds; ++round) {
    const std::vector<float> margin = booster.predict(train, /*output_margin=*/true, /*training=*/true);
    const auto n = static_cast<Eigen::Index>(margin.size()) / k;
    grad.resize(margin.size());
    hess.resize(margin.size());
    objective(MarginMap(margin.data(), n, k), OutputMap(grad.data(), n, k), OutputMap(hess.data(), n, k));
    check(XGBoosterBoostOneIter(booster.get(), train.get(), grad.data(), hess.data(),
                                static_cast<bst_ulong>(grad.size())),
          "XGBoosterBoostOneIter");
  }
}

void train_builtin(Booster& booster, const DMatrix& train, int rounds) {
  for (int round = 0; round < rounds; ++round)
    check(XGBoosterUpdateOneIter(booster.get(), round, train.get()), "XGBoosterUpdateOneIter");
}

double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return d;
}

float mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x);
  return static_cast<float>(s / static_cast<double>(v.size()));
}

// ---- 1. MSE = reg:squarederror ----------------------------------------------------

bool mse_matches_squarederror(const Rows& train_rows, const Rows& test_rows, const DMatrix& train,
                              const DMatrix& test) {
  const float base = mean(train_rows.y);
  const auto target = train_rows.target();

  // lossfn's MSE<Sum>: sum (pred - y)^2, gradient 2 e, Hessian 2, per row.
  const lossfn::MSE<lossfn::Sum> mse;
  const auto mse_objective = [&](const MarginMap& margin, OutputMap grad, OutputMap hess) {
    mse.forward_backward_hessian(margin, target, grad, hess);
  };

  Booster builtin(train, booster_params(1.0, base, "reg:squarederror"));
  train_builtin(builtin, train, kRounds);
  Booster custom(train, booster_params(2.0, base, "reg:squarederror"));  // MSE<Sum> = 2 x squarederror
  train_custom(custom, train, 1, kRounds, mse_objective);
  Booster control(train, booster_params(1.0, base, "reg:squarederror"));  // regularisation NOT scaled
  train_custom(control, train, 1, kRounds, mse_objective);

  const std::vector<float> test_pred = custom.predict(test);
  const double train_diff = largest_difference(custom.predict(train), builtin.predict(train));
  const double test_diff = largest_difference(test_pred, builtin.predict(test));
  const double control_diff = largest_difference(control.predict(test), builtin.predict(test));

  // Tolerance: 32 float ulps of the largest target (2^-15 at 256..512: ~1e-3).
  // The two runs build the same trees (above), so their leaf values and thus the
  // predictions can differ only by floating-point rounding, if the sums of the
  // gradients were formed in another order; with lossfn's 2 e, exact in float,
  // and one thread they are the same bits (measured: 0). A different tree moves
  // predictions by whole leaf values; the control run shows how far: its
  // difference must exceed the tolerance by far, or this check could not fail.
  float top = 0;
  for (float y : train_rows.y) top = std::max(top, std::abs(y));
  for (float y : test_rows.y) top = std::max(top, std::abs(y));
  const double tolerance = 32.0 * static_cast<double>(std::nextafter(top, 2 * top) - top);

  const bool ok = train_diff <= tolerance && test_diff <= tolerance && control_diff > 100 * tolerance;
  std::printf("MSE<Sum> with regularisation x2 vs reg:squarederror, %d rounds, depth 3, eta 0.1\n", kRounds);
  std::printf("  largest prediction difference: training rows %.3g, held-out rows %.3g (tolerance %.3g)\n", train_diff,
              test_diff, tolerance);
  // for scale: held-out RMSE of the model and of the constant training mean (lossfn's RMSE)
  const lossfn::RMSE<lossfn::Mean> rmse;
  const auto test_target = test_rows.target();
  const RowMajorXXf constant = RowMajorXXf::Constant(test_rows.rows(), 1, base);
  std::printf("  held-out RMSE %.2f (training mean %.2f: %.2f)\n",
              static_cast<double>(rmse.forward(MarginMap(test_pred.data(), test_rows.rows(), 1), test_target)),
              static_cast<double>(base), static_cast<double>(rmse.forward(constant, test_target)));
  std::printf("  control, regularisation not scaled: held-out rows differ by %.3g (must exceed %.3g)  %s\n",
              control_diff, 100 * tolerance, ok ? "ok" : "MISMATCH");
  return ok;
}

// ---- 2. Huber, exact Hessian ------------------------------------------------------

/// The constant c minimising sum Huber(c - y) over the training rows: the root of
/// the gradient sum clamp(c - y_i, -delta, delta), which increases with c;
/// bisection between the smallest and the largest target.
double best_constant(const lossfn::Huber<lossfn::Sum>& huber, const Rows& rows) {
  const Eigen::ArrayXd y = rows.target().cast<double>();
  double lo = y.minCoeff(), hi = y.maxCoeff();
  for (int i = 0; i < 100; ++i) {
    const double c = 0.5 * (lo + hi);
    const double slope = huber.backward(Eigen::ArrayXd::Constant(y.size(), c), y).sum();
    (slope < 0 ? lo : hi) = c;
  }
  return 0.5 * (lo + hi);
}

bool huber_beats_constant(const Rows& train_rows, const Rows& test_rows, const DMatrix& train, const DMatrix& test) {
  // delta: residuals up to ~1/2 of the target's spread (sd ~ 77) count quadratically,
  // larger ones linearly.
  const double delta = 40.0;
  const lossfn::Huber<lossfn::Sum> huber(delta);
  const auto target = train_rows.target();
  const auto huber_objective = [&](const MarginMap& margin, OutputMap grad, OutputMap hess) {
    huber.forward_backward_hessian(margin, target, grad, hess);
  };

  // Where every row of a leaf is on a linear piece (H = 0) the Newton step
  // -G / (H + lambda) is a plain gradient step of size 1/lambda; max_delta_step
  // caps each leaf's step at delta, the range over which the quadratic model of
  // the loss is exact.
  const double constant = best_constant(huber, train_rows);
  Params params = booster_params(1.0, static_cast<float>(constant), "reg:squarederror");
  params.emplace_back("max_delta_step", std::to_string(delta));
  Booster booster(train, params);
  train_custom(booster, train, 1, 2 * kRounds, huber_objective);

  const std::vector<float> pred = booster.predict(test);
  const Eigen::ArrayXd p = Eigen::Map<const Eigen::ArrayXf>(pred.data(), test_rows.rows()).cast<double>();
  const Eigen::ArrayXd y = test_rows.target().cast<double>();
  const Eigen::ArrayXd c = Eigen::ArrayXd::Constant(y.size(), constant);
  const lossfn::Huber<lossfn::Mean> mean_huber(delta);
  const double model_loss = mean_huber.forward(p, y), constant_loss = mean_huber.forward(c, y);
  const auto mae = [&](const Eigen::ArrayXd& q) { return (q - y).abs().mean(); };

  const bool ok = model_loss < constant_loss;
  std::printf("Huber(delta %.0f), exact Hessian, %d rounds, held-out rows:\n", delta, 2 * kRounds);
  std::printf("  mean Huber loss %.2f (MAE %.2f) vs best training constant %.2f: %.2f (MAE %.2f)  %s\n", model_loss,
              mae(p), constant, constant_loss, mae(c), ok ? "ok" : "NOT BETTER");
  return ok;
}

// ---- 3. CrossEntropy = multi:softprob ---------------------------------------------

using Labels = Eigen::Matrix<int, Eigen::Dynamic, 1>;  // class-index targets for lossfn

Labels class_labels(const Rows& rows) {
  Labels labels(rows.rows());
  for (Eigen::Index i = 0; i < rows.rows(); ++i) labels(i) = static_cast<int>(rows.y[static_cast<std::size_t>(i)]);
  return labels;
}

constexpr int kClasses = 3;

/// The settings of every classification run. Unlike booster_params no scaling:
/// CrossEntropy<Sum>'s gradient and doubled Hessian are multi:softprob's own.
/// base_score 0.5 for every class is a uniform first prediction.
Params softprob_params() {
  return {{"objective", "multi:softprob"},  // with a custom objective: the softmax output transform only
          {"num_class", std::to_string(kClasses)},
          {"tree_method", "exact"},
          {"nthread", "1"},
          {"seed", "0"},
          {"max_depth", "3"},
          {"eta", "0.3"},
          {"base_score", "0.5"},
          {"lambda", "1"},
          {"alpha", "0"},
          {"gamma", "0"},
          {"min_child_weight", "1"}};
}

/// CrossEntropy<Sum> (any options) on the n x k margins, with its Hessian diagonal
/// times 2. Why 2, besides matching multi:softprob: the Hessian of a row's loss in
/// its k logits is C (diag(q) - q q^T), not diagonal; D = 2 C diag(q (1 - q))
/// minus it is C (diag(q (1 - q)) + q q^T - diag(q^2)), whose off-diagonal entries
/// C q_k q_j sum, over j != k, to C q_k (1 - q_k), its diagonal entry: a
/// diagonally dominant matrix with a non-negative diagonal, so D - H >= 0. The
/// doubled diagonal bounds the full Hessian from above in every direction, so
/// XGBoost's per-output Newton steps, taken for all k outputs of a row at once,
/// do not overshoot; the exact diagonal does not bound it (for k = 2 it is half
/// the Hessian along the direction (1, -1) the two steps take).
struct SoftprobObjective {
  const lossfn::CrossEntropy<lossfn::Sum>& loss;
  const Labels& labels;
  float factor;
  void operator()(const MarginMap& margin, OutputMap grad, OutputMap hess) const {
    loss.forward_backward_hessian(margin, labels, grad, hess);
    hess *= factor;
  }
};

struct Scores {
  double log_loss, accuracy;
};

/// Held-out mean log loss (lossfn's CrossEntropy on the probabilities) and
/// accuracy of n x k predicted probabilities, row-major.
Scores scores(const std::vector<float>& prob, const Labels& labels) {
  const auto n = labels.rows();
  const Eigen::ArrayXXd p = MarginMap(prob.data(), n, kClasses).cast<double>();
  lossfn::CrossEntropyOptions options;
  options.input = lossfn::Input::Probabilities;
  const double log_loss = lossfn::CrossEntropy<lossfn::Mean>(options).forward(p, labels);
  Eigen::Index hits = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Index best = 0;
    p.row(i).maxCoeff(&best);
    hits += best == labels(i) ? 1 : 0;
  }
  return {log_loss, static_cast<double>(hits) / static_cast<double>(n)};
}

bool cross_entropy_matches_softprob(const Rows& test_rows, const DMatrix& train, const DMatrix& test,
                                    const Labels& labels) {
  const lossfn::CrossEntropy<lossfn::Sum> ce;  // logits, class-index targets

  Booster builtin(train, softprob_params());
  train_builtin(builtin, train, kRounds);
  Booster custom(train, softprob_params());
  train_custom(custom, train, kClasses, kRounds, SoftprobObjective{ce, labels, 2.0f});
  Booster control(train, softprob_params());  // the exact diagonal, NOT doubled
  train_custom(control, train, kClasses, kRounds, SoftprobObjective{ce, labels, 1.0f});

  const std::vector<float> test_prob = builtin.predict(test);
  const double train_diff = largest_difference(custom.predict(train), builtin.predict(train));
  const double test_diff = largest_difference(custom.predict(test), test_prob);
  const double control_diff = largest_difference(control.predict(test), test_prob);

  // Tolerance 1e-5 on probabilities. The gradients and Hessians of the two runs
  // differ by float rounding only (XGBoost: p = expf(z - max) / float(sum), then
  // p - 1 and max(2 p (1 - p), 1e-16) in float, the floor never reached here;
  // lossfn: in double, rounded once), a few parts in 2^24 each; through the leaf
  // sums -G / (H + lambda), 60 rounds of eta 0.3 steps and the softmax this moves
  // the probabilities by about one float ulp at 1, 1.2e-7 (printed below; XGBoost
  // 1.7.4, g++ and clang++), as long as the trees are the same. A different tree moves them by a
  // leaf value: the control's difference must exceed the tolerance 100 times over.
  const double tolerance = 1e-5;
  const bool ok = train_diff <= tolerance && test_diff <= tolerance && control_diff > 100 * tolerance;
  std::printf("CrossEntropy<Sum> with Hessian x2 vs multi:softprob, %d classes, %d rounds, depth 3, eta 0.3\n",
              kClasses, kRounds);
  std::printf("  largest probability difference: training rows %.3g, held-out rows %.3g (tolerance %.3g)\n", train_diff,
              test_diff, tolerance);
  const Scores s = scores(test_prob, class_labels(test_rows));
  std::printf("  multi:softprob held-out log loss %.4f, accuracy %.4f\n", s.log_loss, s.accuracy);
  std::printf("  control, exact Hessian not doubled: held-out rows differ by %.3g (must exceed %.3g)  %s\n",
              control_diff, 100 * tolerance, ok ? "ok" : "MISMATCH");
  return ok;
}

// ---- 4. CrossEntropy with label smoothing and class weights -----------------------

bool smoothed_weighted_beats_priors(const Rows& test_rows, const DMatrix& train, const DMatrix& test,
                                    const Labels& labels) {
  // class weights n / (k n_c) ("balanced": each class weighs as much in total)
  Eigen::ArrayXd counts = Eigen::ArrayXd::Zero(kClasses);
  for (Eigen::Index i = 0; i < labels.rows(); ++i) counts(labels(i)) += 1;
  lossfn::CrossEntropyOptions options;
  options.label_smoothing = 0.1;
  options.class_weights = static_cast<double>(labels.rows()) / (kClasses * counts);
  const lossfn::CrossEntropy<lossfn::Sum> ce(options);

  Booster booster(train, softprob_params());
  train_custom(booster, train, kClasses, kRounds, SoftprobObjective{ce, labels, 2.0f});

  const Labels test_labels = class_labels(test_rows);
  const Scores model = scores(booster.predict(test), test_labels);
  // the constant model: every held-out row gets the training class priors
  std::vector<float> priors(static_cast<std::size_t>(test_rows.rows() * kClasses));
  for (std::size_t i = 0; i < priors.size(); ++i)
    priors[i] =
        static_cast<float>(counts(static_cast<Eigen::Index>(i % kClasses)) / static_cast<double>(labels.rows()));
  const Scores constant = scores(priors, test_labels);

  const bool ok = model.log_loss < constant.log_loss && model.accuracy > constant.accuracy;
  std::printf("CrossEntropy<Sum>, label smoothing %.1f, class weights (%.3f, %.3f, %.3f), Hessian x2, %d rounds,\n",
              options.label_smoothing, options.class_weights(0), options.class_weights(1), options.class_weights(2),
              kRounds);
  std::printf("  held-out log loss %.4f, accuracy %.4f vs class priors (%.3f, %.3f, %.3f): %.4f, %.4f  %s\n",
              model.log_loss, model.accuracy, counts(0) / static_cast<double>(labels.rows()),
              counts(1) / static_cast<double>(labels.rows()), counts(2) / static_cast<double>(labels.rows()),
              constant.log_loss, constant.accuracy, ok ? "ok" : "NOT BETTER");
  return ok;
}

// ---- 5. BinaryCrossEntropy = binary:logistic ---------------------------------------

/// The settings of every binary run. binary:logistic's gradient and Hessian are
/// p - y and p (1 - p) (p = sigmoid(margin)), exactly BinaryCrossEntropy<Sum>'s
/// from logits, so no scaling either. base_score: XGBoost starts every row at the
/// margin logit(base_score), for a custom objective as for the built-in one (the
/// "objective" parameter, binary:logistic in both, converts it and gives the
/// sigmoid output transform); 0.5 puts both at margin 0. min_child_weight 0: the
/// focal loss's Hessians are small on well-classified rows (the (1 - p_t)^gamma
/// factor), and a floor of 1 on a child's summed Hessian would stop it splitting
/// long before BCE; lambda 1 keeps every leaf's -G / (H + lambda) bounded.
Params logistic_params() {
  return {{"objective", "binary:logistic"},  // with a custom objective: the sigmoid output transform only
          {"tree_method", "exact"},
          {"nthread", "1"},
          {"seed", "0"},
          {"max_depth", "3"},
          {"eta", "0.3"},
          {"base_score", "0.5"},
          {"lambda", "1"},
          {"alpha", "0"},
          {"gamma", "0"},
          {"min_child_weight", "0"}};
}

bool binary_cross_entropy_matches_logistic(const Rows& train_rows, const DMatrix& train, const DMatrix& test) {
  const auto target = train_rows.target();            // labels 0 / 1, as float, n x 1 like the margins
  const lossfn::BinaryCrossEntropy<lossfn::Sum> bce;  // from logits (the default input)
  const auto bce_objective = [&](const MarginMap& margin, OutputMap grad, OutputMap hess) {
    bce.forward_backward_hessian(margin, target, grad, hess);
  };
  // control: the same objective from another first margin, base_score = the
  // training share of positives (a common choice): the runs must then differ
  Params control_params = logistic_params();
  for (auto& [key, value] : control_params)
    if (key == "base_score") value = std::to_string(mean(train_rows.y));

  Booster builtin(train, logistic_params());
  train_builtin(builtin, train, kRounds);
  Booster custom(train, logistic_params());
  train_custom(custom, train, 1, kRounds, bce_objective);
  Booster control(train, control_params);
  train_custom(control, train, 1, kRounds, bce_objective);

  const std::vector<float> test_prob = builtin.predict(test);
  const double train_diff = largest_difference(custom.predict(train), builtin.predict(train));
  const double test_diff = largest_difference(custom.predict(test), test_prob);
  const double control_diff = largest_difference(control.predict(test), test_prob);

  // Tolerance 1e-5 on probabilities, as for multi:softprob (3.): XGBoost forms
  // p = 1 / (1 + expf(-margin)), p - y and max(p (1 - p), 1e-16) in float, lossfn
  // rounds its own once; the same trees then give probabilities a few float ulps
  // apart (printed), a different tree moves them by a leaf value: the control's
  // difference must exceed the tolerance 100 times over.
  const double tolerance = 1e-5;
  const bool ok = train_diff <= tolerance && test_diff <= tolerance && control_diff > 100 * tolerance;
  std::printf("BinaryCrossEntropy<Sum> (logits) vs binary:logistic, base_score 0.5, %d rounds, depth 3, eta 0.3\n",
              kRounds);
  std::printf("  largest probability difference: training rows %.3g, held-out rows %.3g (tolerance %.3g)\n", train_diff,
              test_diff, tolerance);
  std::printf(
      "  control, base_score %.3f for the custom run only: held-out rows differ by %.3g (must exceed %.3g)  %s\n",
      static_cast<double>(mean(train_rows.y)), control_diff, 100 * tolerance, ok ? "ok" : "MISMATCH");
  return ok;
}

// ---- 6. SigmoidFocal on an imbalanced split ----------------------------------------

/// Splits `rows` in two: every `keep`-th positive row (the 1st, the keep+1-th, ...)
/// and every negative one go to `kept`, the other positive rows to `dropped`. A
/// deterministic imbalanced training split; the dropped rows are never trained on.
void drop_positives(const Rows& rows, int keep, Rows& kept, Rows& dropped) {
  kept.cols = dropped.cols = rows.cols;
  int positives = 0;
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    const float y = rows.y[static_cast<std::size_t>(i)];
    Rows& to = y == 1.0f && positives++ % keep != 0 ? dropped : kept;
    const auto row = rows.x.begin() + i * rows.cols;
    to.x.insert(to.x.end(), row, row + rows.cols);
    to.y.push_back(y);
  }
}

Eigen::Index positives(const Rows& rows) {
  return static_cast<Eigen::Index>(std::count(rows.y.begin(), rows.y.end(), 1.0f));
}

/// Positive rows predicted positive (probability >= 0.5) and rows predicted right.
struct Counts {
  Eigen::Index found = 0, right = 0;
};

Counts counts(const Booster& booster, const Rows& rows) {
  const DMatrix data(rows);
  const std::vector<float> prob = booster.predict(data);
  Counts c;
  for (std::size_t i = 0; i < prob.size(); ++i) {
    const bool predicted = prob[i] >= 0.5f, actual = rows.y[i] == 1.0f;
    c.found += predicted && actual ? 1 : 0;
    c.right += predicted == actual ? 1 : 0;
  }
  return c;
}

struct Outcome {
  double recall;           // over every positive never trained on (held-out and dropped rows)
  double held_out_recall;  // over the held-out rows' positives
  double accuracy;         // over the held-out rows
};

template <class Objective>
Outcome train_and_score(const DMatrix& train, const Rows& held_out, const Rows& dropped, const Objective& objective) {
  Booster booster(train, logistic_params());
  train_custom(booster, train, 1, kRounds, objective);
  const Counts h = counts(booster, held_out), d = counts(booster, dropped);
  const auto ratio = [](Eigen::Index a, Eigen::Index b) { return static_cast<double>(a) / static_cast<double>(b); };
  return {ratio(h.found + d.found, positives(held_out) + dropped.rows()), ratio(h.found, positives(held_out)),
          ratio(h.right, held_out.rows())};
}

/// The focal loss as XGBoost's objective. It is not convex in the logit: its
/// second derivative is negative on badly misclassified rows (for alpha 0.75,
/// gamma 2 down to about -0.035, at margin -3.8 for a positive row). XGBoost's
/// Newton step per leaf, -G / (H + lambda), assumes curvature >= 0, so the
/// Hessian diagonal is floored at 0 there (those rows then take a gradient step
/// of size 1 / lambda). On this data the floor changes none of the figures printed
/// (measured without it); it is there for data where many rows are misclassified.
struct FocalObjective {
  const lossfn::SigmoidFocal<lossfn::Sum>& loss;
  MarginMap target;
  void operator()(const MarginMap& margin, OutputMap grad, OutputMap hess) const {
    loss.forward_backward_hessian(margin, target, grad, hess);
    hess = hess.max(0.0f);
  }
};

bool focal_beats_bce_recall(const Rows& train_rows, const Rows& held_out) {
  // one positive (malignant) training row in 10 kept: 17 of 303, 5.6%
  constexpr int kKeep = 10;
  Rows imbalanced, dropped;
  drop_positives(train_rows, kKeep, imbalanced, dropped);
  const DMatrix train(imbalanced);
  const auto target = imbalanced.target();

  const lossfn::BinaryCrossEntropy<lossfn::Sum> bce;
  const auto bce_objective = [&](const MarginMap& margin, OutputMap grad, OutputMap hess) {
    bce.forward_backward_hessian(margin, target, grad, hess);
  };
  // torchvision's alpha weighs the positive rows' terms by alpha and the negative
  // ones' by 1 - alpha; its default 0.25 favours the negatives (in RetinaNet the
  // rare foreground anchors, once gamma has muted the many easy background ones).
  // Here the positives are the rare class: alpha = the negatives' share of the
  // training rows, so that both classes weigh the same in total ("balanced").
  lossfn::SigmoidFocalOptions options;
  options.alpha = 1.0 - static_cast<double>(positives(imbalanced)) / static_cast<double>(imbalanced.rows());
  options.gamma = 2.0;
  const lossfn::SigmoidFocal<lossfn::Sum> focal(options);
  // for information, not checked: the same alpha with gamma 0 (alpha-weighted
  // BCE), to tell the share of the class weighting from that of gamma
  lossfn::SigmoidFocalOptions alpha_only = options;
  alpha_only.gamma = 0.0;
  const lossfn::SigmoidFocal<lossfn::Sum> weighted(alpha_only);

  const Outcome b = train_and_score(train, held_out, dropped, bce_objective);
  const Outcome f = train_and_score(train, held_out, dropped, FocalObjective{focal, target});
  const Outcome w = train_and_score(train, held_out, dropped, FocalObjective{weighted, target});

  const bool ok = f.recall > b.recall;
  std::printf(
      "Imbalanced training split: 1 positive row in %d kept, %td rows (%td positive); never trained on: %td "
      "held-out rows (%td positive) and %td dropped positive rows; threshold 0.5, %d rounds\n",
      kKeep, imbalanced.rows(), positives(imbalanced), held_out.rows(), positives(held_out), dropped.rows(), kRounds);
  const auto show = [](const char* what, const Outcome& o, const char* verdict) {
    std::printf("  %-42s recall %.4f (held-out rows %.4f), held-out accuracy %.4f%s\n", what, o.recall,
                o.held_out_recall, o.accuracy, verdict);
  };
  char focal_name[64], weighted_name[64];
  std::snprintf(focal_name, sizeof focal_name, "SigmoidFocal<Sum>, alpha %.3f, gamma 2:", *options.alpha);
  std::snprintf(weighted_name, sizeof weighted_name, "SigmoidFocal<Sum>, alpha %.3f, gamma 0:", *options.alpha);
  show("BinaryCrossEntropy<Sum>:", b, "");
  show(focal_name, f, ok ? "  ok" : "  RECALL NOT BETTER");
  show(weighted_name, w, "  (for information)");
  return ok;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    int major = 0, minor = 0, patch = 0;
    XGBoostVersion(&major, &minor, &patch);
    const std::string path = argc > 1 ? argv[1] : LOSSFN_XGBOOST_DATA;
    Rows train_rows, test_rows;
    read_csv(path, train_rows, test_rows);
    std::printf("XGBoost %d.%d.%d, %s: %td training rows, %td held-out rows, %td features\n", major, minor, patch,
                path.c_str(), train_rows.rows(), test_rows.rows(), train_rows.cols);
    const DMatrix train(train_rows), test(test_rows);
    bool ok = mse_matches_squarederror(train_rows, test_rows, train, test);
    ok &= huber_beats_constant(train_rows, test_rows, train, test);

    const std::string class_path = argc > 2 ? argv[2] : LOSSFN_XGBOOST_CLASS_DATA;
    Rows wine_train, wine_test;
    read_csv(class_path, wine_train, wine_test);
    std::printf("%s: %td training rows, %td held-out rows, %td features\n", class_path.c_str(), wine_train.rows(),
                wine_test.rows(), wine_train.cols);
    const DMatrix class_train(wine_train), class_test(wine_test);
    const Labels labels = class_labels(wine_train);
    ok &= cross_entropy_matches_softprob(wine_test, class_train, class_test, labels);
    ok &= smoothed_weighted_beats_priors(wine_test, class_train, class_test, labels);

    const std::string binary_path = argc > 3 ? argv[3] : LOSSFN_XGBOOST_BINARY_DATA;
    Rows cancer_train, cancer_test;
    read_csv(binary_path, cancer_train, cancer_test);
    std::printf("%s: %td training rows, %td held-out rows, %td features\n", binary_path.c_str(), cancer_train.rows(),
                cancer_test.rows(), cancer_train.cols);
    const DMatrix binary_train(cancer_train), binary_test(cancer_test);
    ok &= binary_cross_entropy_matches_logistic(cancer_train, binary_train, binary_test);
    ok &= focal_beats_bce_recall(cancer_train, cancer_test);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xgboost_objective: %s\n", e.what());
    return 1;
  }
}
