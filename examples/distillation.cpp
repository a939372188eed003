// Knowledge distillation: a student softmax model learns to reproduce a teacher's
// output distribution, not just its top class, by minimising
//
//   T^2 KL(P_teacher || Q_student),  P = softmax(z_teacher / T),  Q = softmax(z_student / T)
//
// with lossfn::KLDivergence at a temperature T = 4 (Hinton, Vinyals & Dean 2015).
// The temperature softens both distributions so the small probabilities of the
// wrong classes (the teacher's "dark knowledge") carry gradient; the T^2 factor
// keeps the gradient's size independent of T, since d/dz = (1/T) d/d(z/T).
//
// The student is handed its logits divided by T as Input::Logits: lossfn takes
// the stable log-softmax itself. The teacher's P is passed as log-probabilities
// (log_target), computed here with a stable log-softmax of our own.
//
// The teacher is a small tanh network and the student a linear softmax model, so
// the student can only approximate it: the KL levels off above 0.
//
// Ends with the check: the KL fell below 20% of its starting value and the student
// agrees with the teacher's top class on >= 75% of held-out inputs (chance: 20%)
// (exit code 1 otherwise).
#include <lossfn/kl_divergence.hpp>

#include <cmath>
#include <cstdio>
#include <random>

namespace {

constexpr Eigen::Index kFeatures = 4, kClasses = 5;
constexpr double kTemperature = 4.0;

Eigen::MatrixXd random_normal(Eigen::Index rows, Eigen::Index cols, unsigned seed, double scale) {
  std::mt19937 engine(seed);
  std::normal_distribution<double> normal(0.0, scale);
  Eigen::MatrixXd a(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) a(i, j) = normal(engine);
  return a;
}

/// log softmax of each row: z - max - log sum exp(z - max), so large logits do not overflow.
Eigen::MatrixXd log_softmax(const Eigen::MatrixXd& z) {
  Eigen::MatrixXd shifted = z.colwise() - z.rowwise().maxCoeff();
  const Eigen::VectorXd log_norm = shifted.array().exp().rowwise().sum().log().matrix();
  return shifted.colwise() - log_norm;
}

/// Fraction of rows where a and b have their largest entry in the same column.
double agreement(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::Index same = 0;
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    Eigen::Index ka = 0, kb = 0;
    a.row(i).maxCoeff(&ka);
    b.row(i).maxCoeff(&kb);
    same += ka == kb ? 1 : 0;
  }
  return static_cast<double>(same) / static_cast<double>(a.rows());
}

}  // namespace

int main() {
  // the teacher: a fixed one-hidden-layer network, z = tanh(x A) B; the student
  // is linear, z = x w + b, so it can only approximate the teacher's distribution
  const Eigen::MatrixXd a = random_normal(kFeatures, 16, 11, 1.0), b = random_normal(16, kClasses, 14, 1.5);
  const auto teacher = [&](const Eigen::MatrixXd& in) -> Eigen::MatrixXd {
    return (in * a).array().tanh().matrix() * b;
  };
  const Eigen::MatrixXd x = random_normal(256, kFeatures, 12, 1.0);
  const Eigen::MatrixXd x_test = random_normal(256, kFeatures, 13, 1.0);
  const Eigen::MatrixXd teacher_z = teacher(x), teacher_test = teacher(x_test);
  const Eigen::MatrixXd log_p = log_softmax(teacher_z / kTemperature);  // the soft targets, as log P

  lossfn::KLDivergenceOptions options;
  options.input = lossfn::Input::Logits;                 // the student's z / T
  options.log_target = true;                             // P given as log P
  const lossfn::KLDivergence<lossfn::Mean> kl(options);  // Mean: per sample ('batchmean')

  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(kFeatures, kClasses);  // the student
  Eigen::RowVectorXd bias = Eigen::RowVectorXd::Zero(kClasses);
  const auto student = [&](const Eigen::MatrixXd& in) -> Eigen::MatrixXd { return (in * w).rowwise() + bias; };
  Eigen::MatrixXd scaled_z(x.rows(), kClasses), grad(x.rows(), kClasses);
  const double rate = 0.1, t2 = kTemperature * kTemperature;
  double first = 0, last = 0;
  std::printf("distilling a tanh network (4 -> 16 -> 5) into a linear softmax model at temperature %.0f\n",
              kTemperature);
  for (int step = 0; step <= 300; ++step) {
    scaled_z = student(x) / kTemperature;
    // dKL/d(z/T), already divided by the number of samples (Mean)
    const double loss = t2 * kl.forward_backward(scaled_z, log_p, grad);
    if (step == 0) first = loss;
    last = loss;
    if (step % 30 == 0) {
      std::printf("  step %3d: T^2 KL %.5f  top-class agreement (held-out) %.3f\n", step, loss,
                  agreement(student(x_test), teacher_test));
    }
    // chain rule: d(T^2 KL)/dz = T^2 (1/T) dKL/d(z/T) = T grad; z = x w + b
    w -= rate * kTemperature * (x.transpose() * grad);
    bias -= rate * kTemperature * grad.colwise().sum();
  }

  const double agree = agreement(student(x_test), teacher_test);
  const bool learned = last < 0.2 * first && agree >= 0.75;
  std::printf("distillation: T^2 KL %.5f -> %.5f (%.2f%% of the start), held-out agreement %.3f: %s\n", first, last,
              100 * last / first, agree, learned ? "learned" : "DID NOT LEARN");
  return learned ? 0 : 1;
}
