// Writes every loss and its derivative, computed by lossfn, as CSV files that
// scripts/plots renders to docs/images/*.png with gnuplot:
//   plot_losses [output directory, default .]
// Then it reads each file back and checks that every derivative column agrees
// with a central difference of its value column, so the plots can be trusted.
//
// Each file is one figure: a '#' header naming the columns, then rows of
//   x, value_1, derivative_1, value_2, derivative_2, ...
#include <lossfn/binary_cross_entropy.hpp>
#include <lossfn/contrastive.hpp>
#include <lossfn/cross_entropy.hpp>
#include <lossfn/hinge.hpp>
#include <lossfn/huber.hpp>
#include <lossfn/kl_divergence.hpp>
#include <lossfn/mae.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/rmse.hpp>
#include <lossfn/sigmoid_focal.hpp>
#include <lossfn/soft_margin.hpp>
#include <lossfn/squared_hinge.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// One curve of a figure: the loss and its derivative at each x of the figure.
struct Curve {
  std::string label;
  std::vector<double> value, slope;
  std::vector<double> kinks;  // x where the derivative jumps (skipped by the check)
};

/// One CSV file: a grid of x and the curves drawn over it.
struct Figure {
  std::string file;
  std::vector<double> x;
  std::vector<Curve> curves;
};

/// n + 1 equally spaced points from lo to hi; x = lo + i (hi - lo) / n, so that
/// points such as 0 and 0.5 are hit exactly when the spacing allows it.
std::vector<double> grid(double lo, double hi, int n) {
  std::vector<double> x;
  for (int i = 0; i <= n; ++i) x.push_back(lo + (hi - lo) * i / n);
  return x;
}

Eigen::ArrayXXd as_column(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::ArrayXXd>(v.data(), static_cast<Eigen::Index>(v.size()), 1);
}

std::vector<double> as_vector(const Eigen::ArrayXXd& a) { return std::vector<double>(a.data(), a.data() + a.size()); }

/// An elementwise loss against the error e = pred - target (target 0): None gives
/// the per-element losses of the whole grid in one call, and backward with an
/// upstream gradient of ones gives each element's derivative.
template <class Loss>
Curve elementwise_curve(const std::string& label, const Loss& loss, const std::vector<double>& errors,
                        std::vector<double> kinks) {
  const Eigen::ArrayXXd pred = as_column(errors);
  const Eigen::ArrayXXd target = Eigen::ArrayXXd::Zero(pred.rows(), 1);
  const Eigen::ArrayXXd ones = Eigen::ArrayXXd::Ones(pred.rows(), 1);
  return {label, as_vector(loss.forward(pred, target)), as_vector(loss.backward(pred, target, ones)), std::move(kinks)};
}

/// RMSE over a batch of 4 errors (e, c, c, c) as a function of e: the root is
/// taken after the mean, so one element's curve depends on the others.
Curve rmse_curve(const std::string& label, const std::vector<double>& errors, double others,
                 std::vector<double> kinks) {
  const lossfn::RMSE<lossfn::Mean> rmse;
  Curve c{label, {}, {}, std::move(kinks)};
  Eigen::ArrayXXd pred = Eigen::ArrayXXd::Constant(4, 1, others), grad(4, 1);
  const Eigen::ArrayXXd target = Eigen::ArrayXXd::Zero(4, 1);
  for (double e : errors) {
    pred(0) = e;
    c.value.push_back(rmse.forward_backward(pred, target, grad));
    c.slope.push_back(grad(0));
  }
  return c;
}

void write(const std::string& dir, const Figure& f) {
  std::ofstream out(dir + "/" + f.file);
  out << "# x";
  for (const Curve& c : f.curves) out << ", " << c.label << ", d/dx " << c.label;
  out << "\n";
  char cell[40];
  for (std::size_t i = 0; i < f.x.size(); ++i) {
    std::snprintf(cell, sizeof cell, "%.17g", f.x[i]);
    out << cell;
    for (const Curve& c : f.curves) {
      std::snprintf(cell, sizeof cell, ",%.17g", c.value[i]);
      out << cell;
      std::snprintf(cell, sizeof cell, ",%.17g", c.slope[i]);
      out << cell;
    }
    out << "\n";
  }
}

/// The rows of a CSV file written by write(), header skipped.
std::vector<std::vector<double>> read(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
    rows.push_back(row);
  }
  return rows;
}

/// Reads the file back and compares, at every interior point away from a kink,
/// the derivative column with the central difference of the value column,
/// (v[i+1] - v[i-1]) / (x[i+1] - x[i-1]). That difference is off by about
/// h^2/6 f''' = (d[i+1] - 2 d[i] + d[i-1]) / 6 on a smooth curve, so the check
/// allows twice that (estimated from the derivative column) plus 1e-6 relative.
/// Returns the largest error seen, relative to max(1, |derivative|), or -1 if the
/// check fails or the file does not match the figure.
double check(const std::string& dir, const Figure& f) {
  const auto rows = read(dir + "/" + f.file);
  const std::size_t columns = 1 + 2 * f.curves.size();
  if (rows.size() != f.x.size()) return -1;
  for (const auto& row : rows)
    if (row.size() != columns) return -1;
  double worst = 0;
  for (std::size_t k = 0; k < f.curves.size(); ++k) {
    const std::size_t v = 1 + 2 * k, d = v + 1;
    for (std::size_t i = 1; i + 1 < rows.size(); ++i) {
      const double x0 = rows[i - 1][0], x1 = rows[i][0], x2 = rows[i + 1][0];
      const bool near_kink = std::any_of(f.curves[k].kinks.begin(), f.curves[k].kinks.end(),
                                         [&](double kink) { return x0 <= kink && kink <= x2; });
      if (near_kink) continue;
      const double numeric = (rows[i + 1][v] - rows[i - 1][v]) / (x2 - x0);
      const double analytic = rows[i][d];
      const double curvature = std::abs(rows[i + 1][d] - 2 * analytic + rows[i - 1][d]) / 6;
      const double error = std::abs(numeric - analytic);
      if (!(error <= 1e-6 * std::max(1.0, std::abs(analytic)) + 2 * curvature)) {
        std::printf("  %s, %s: at x = %g the derivative is %.9g but the values' slope is %.9g\n", f.file.c_str(),
                    f.curves[k].label.c_str(), x1, analytic, numeric);
        return -1;
      }
      worst = std::max(worst, error / std::max(1.0, std::abs(analytic)));
    }
  }
  return worst;
}

std::vector<Figure> regression_figures() {
  const std::vector<double> e = grid(-3, 3, 600);  // the error pred - target, step 0.01
  std::vector<Figure> figures;
  figures.push_back({"mse.csv", e, {elementwise_curve("MSE", lossfn::MSE<lossfn::None>{}, e, {})}});
  figures.push_back({"mae.csv", e, {elementwise_curve("MAE", lossfn::MAE<lossfn::None>{}, e, {0.0})}});
  figures.push_back({"huber.csv",
                     e,
                     {elementwise_curve("Huber delta=0.5", lossfn::Huber<lossfn::None>{0.5}, e, {-0.5, 0.5}),
                      elementwise_curve("Huber delta=1", lossfn::Huber<lossfn::None>{1.0}, e, {-1.0, 1.0}),
                      elementwise_curve("Huber delta=2", lossfn::Huber<lossfn::None>{2.0}, e, {-2.0, 2.0})}});
  figures.push_back(
      {"rmse.csv", e, {rmse_curve("RMSE with c = 0", e, 0.0, {0.0}), rmse_curve("RMSE with c = 1", e, 1.0, {})}});
  // the three robust-vs-not regression losses side by side
  figures.push_back({"regression.csv",
                     e,
                     {elementwise_curve("MSE", lossfn::MSE<lossfn::None>{}, e, {}),
                      elementwise_curve("MAE", lossfn::MAE<lossfn::None>{}, e, {0.0}),
                      elementwise_curve("Huber delta=1", lossfn::Huber<lossfn::None>{1.0}, e, {-1.0, 1.0})}});
  return figures;
}

/// CrossEntropy (logits, class-index target) of one sample with K = 3 as a
/// function of the true class's logit z, the other two logits 0:
/// L = log(e^z + 2) - z, dL/dz = p - 1 (smoothing eps: p - (1 - eps) - eps/3).
Curve cross_entropy_curve(const std::string& label, double smoothing, const std::vector<double>& logits) {
  lossfn::CrossEntropyOptions options;
  options.label_smoothing = smoothing;
  const lossfn::CrossEntropy<lossfn::Sum> ce(options);
  Curve c{label, {}, {}, {}};
  Eigen::ArrayXXd z = Eigen::ArrayXXd::Zero(1, 3), grad(1, 3);
  const Eigen::Matrix<int, 1, 1> target(0);
  for (double v : logits) {
    z(0, 0) = v;
    c.value.push_back(ce.forward_backward(z, target, grad));
    c.slope.push_back(grad(0, 0));
  }
  return c;
}

/// KL(P || Q) for two classes, Q = (q, 1 - q) given as probabilities, as a
/// function of q. backward gives dL/dQ_1 and dL/dQ_2; along the line
/// Q = (q, 1 - q) the derivative is dL/dQ_1 - dL/dQ_2 = -P_1/q + P_2/(1 - q).
Curve kl_curve(const std::string& label, double p1, const std::vector<double>& qs) {
  lossfn::KLDivergenceOptions options;
  options.input = lossfn::Input::Probabilities;
  const lossfn::KLDivergence<lossfn::Sum> kl(options);
  Curve c{label, {}, {}, {}};
  Eigen::ArrayXXd q(1, 2), grad(1, 2), p(1, 2);
  p << p1, 1 - p1;
  for (double v : qs) {
    q << v, 1 - v;
    c.value.push_back(kl.forward_backward(q, p, grad));
    c.slope.push_back(grad(0, 0) - grad(0, 1));
  }
  return c;
}

/// Contrastive (Euclidean) of one pair at distance D: x1 = (D, 0), x2 = (0, 0), so
/// dL/dx1 along the first axis is dL/dD. At D = 0 lossfn's gradient is 0 for
/// both labels (the similar pair's smooth D, the dissimilar pair's subgradient).
Curve contrastive_curve(const std::string& label, double margin, int y, const std::vector<double>& distances,
                        std::vector<double> kinks) {
  const lossfn::Contrastive<lossfn::Sum> loss(margin);
  Curve c{label, {}, {}, std::move(kinks)};
  Eigen::ArrayXXd x1 = Eigen::ArrayXXd::Zero(1, 2), x2 = Eigen::ArrayXXd::Zero(1, 2);
  Eigen::ArrayXXd g1(1, 2), g2(1, 2);
  const Eigen::Matrix<int, 1, 1> label_y(y);
  for (double d : distances) {
    x1(0, 0) = d;
    c.value.push_back(loss.forward_backward(x1, x2, label_y, g1, g2));
    c.slope.push_back(g1(0, 0));
  }
  return c;
}

std::vector<Figure> other_figures() {
  std::vector<Figure> figures;
  const std::vector<double> z = grid(-6, 6, 600);
  figures.push_back(
      {"cross_entropy.csv",
       z,
       {cross_entropy_curve("no smoothing", 0.0, z), cross_entropy_curve("label smoothing 0.1", 0.1, z)}});
  const std::vector<double> q = grid(0.02, 0.98, 480);
  figures.push_back(
      {"kl_divergence.csv", q, {kl_curve("P = (0.3 0.7)", 0.3, q), kl_curve("P = (1 0) one-hot", 1.0, q)}});
  const std::vector<double> d = grid(0, 2.5, 500);
  figures.push_back({"contrastive.csv",
                     d,
                     {contrastive_curve("similar (Y = 0)", 1.0, 0, d, {}),
                      contrastive_curve("dissimilar (Y = 1) M = 1", 1.0, 1, d, {0.0}),
                      contrastive_curve("dissimilar (Y = 1) M = 2", 2.0, 1, d, {0.0})}});
  return figures;
}

/// A binary loss of score x against one target or label for every x of the grid:
/// None gives the per-element losses, backward with upstream ones the derivatives.
template <class Loss>
Curve binary_curve(const std::string& label, const Loss& loss, const std::vector<double>& x, double target,
                   std::vector<double> kinks) {
  const Eigen::ArrayXXd pred = as_column(x);
  const Eigen::ArrayXXd y = Eigen::ArrayXXd::Constant(pred.rows(), 1, target);
  const Eigen::ArrayXXd ones = Eigen::ArrayXXd::Ones(pred.rows(), 1);
  return {label, as_vector(loss.forward(pred, y)), as_vector(loss.backward(pred, y, ones)), std::move(kinks)};
}

/// SigmoidFocal (no alpha) of a positive (y = 1) as a function of p_t = p =
/// sigmoid(z): the logit is z = log(p / (1 - p)), and the derivative is taken along
/// p_t, dL/dp = dL/dz / (p (1 - p)), as RetinaNet's figure 1 draws it.
Curve focal_curve(const std::string& label, double gamma, const std::vector<double>& pt) {
  lossfn::SigmoidFocalOptions options;
  options.alpha.reset();
  options.gamma = gamma;
  std::vector<double> z;
  for (double p : pt) z.push_back(std::log(p / (1 - p)));
  Curve c = binary_curve(label, lossfn::SigmoidFocal<lossfn::None>(options), z, 1.0, {});
  for (std::size_t i = 0; i < pt.size(); ++i) c.slope[i] /= pt[i] * (1 - pt[i]);
  return c;
}

std::vector<Figure> binary_figures() {
  std::vector<Figure> figures;
  const std::vector<double> z = grid(-6, 6, 600);
  const lossfn::BinaryCrossEntropy<lossfn::None> bce;
  figures.push_back({"binary_cross_entropy.csv",
                     z,
                     {binary_curve("y = 1", bce, z, 1.0, {}), binary_curve("y = 0", bce, z, 0.0, {})}});
  const std::vector<double> pt = grid(0.01, 0.99, 490);
  figures.push_back(
      {"sigmoid_focal.csv",
       pt,
       {focal_curve("gamma = 0 (BCE)", 0.0, pt), focal_curve("gamma = 0.5", 0.5, pt), focal_curve("gamma = 1", 1.0, pt),
        focal_curve("gamma = 2", 2.0, pt), focal_curve("gamma = 5", 5.0, pt)}});
  // label y = 1, so the score f is the margin y f
  const std::vector<double> margin = grid(-3, 3, 600);
  figures.push_back({"hinge.csv",
                     margin,
                     {binary_curve("Hinge", lossfn::Hinge<lossfn::None>{}, margin, 1.0, {1.0}),
                      binary_curve("SquaredHinge", lossfn::SquaredHinge<lossfn::None>{}, margin, 1.0, {1.0}),
                      binary_curve("SoftMargin", lossfn::SoftMargin<lossfn::None>{}, margin, 1.0, {})}});
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  std::vector<Figure> figures = regression_figures();
  for (Figure& f : other_figures()) figures.push_back(std::move(f));
  for (Figure& f : binary_figures()) figures.push_back(std::move(f));

  bool ok = true;
  for (const Figure& f : figures) {
    write(dir, f);
    const double worst = check(dir, f);
    std::printf("%-20s %zu points, %zu curve(s): ", (dir + "/" + f.file).c_str(), f.x.size(), f.curves.size());
    if (worst < 0) {
      std::printf("FAILED the finite-difference check\n");
      ok = false;
    } else {
      std::printf("largest |derivative - finite difference| / max(1, |derivative|) = %.2g\n", worst);
    }
  }
  std::puts(ok ? "plot_losses: every derivative column matches the slope of its value column"
               : "plot_losses: CHECK FAILED");
  return ok ? 0 : 1;
}
