// Every loss (but Contrastive, header-only) x scalar x reduction x call (with and
// without weights; elementwise: also the Hessian calls) x common
// wrapper type (Array, Matrix, Map, Block, Ref; both storage orders for the row-wise
// losses), compiled with LOSSFN_COMPILED_KERNELS. Two ctest tests read this unit:
//   lossfn.kernels.no_implicit_kernels: its object defines no kernel body (nm), so
//     every call here met an extern template of detail/instances.hpp;
//   lossfn.kernels.coverage: it links against lossfn::kernels alone for the kernel
//     bodies, so a declared instance that src/kernels does not define is a link
//     error, and runs (forward_backward agrees with forward).
#include <lossfn/lossfn.hpp>

#include <cmath>
#include <cstdio>

namespace {

int failures = 0;

template <class S>
void expect_same(S a, S b, const char* what) {
  if (!(std::abs(a - b) <= S(1e-4) * (S(1) + std::abs(a)))) {
    std::printf("lossfn kernels coverage: %s: %g != %g\n", what, static_cast<double>(a), static_cast<double>(b));
    ++failures;
  }
}

/// Every call of an elementwise loss L<R> for R in Sum, Mean, None, over one pred
/// and target of any wrapper type.
template <template <class> class L, class P, class T>
void elementwise_calls(const P& pred, const T& target, const char* what) {
  using S = typename P::Scalar;
  typename P::PlainObject grad(pred.rows(), pred.cols());
  for (const bool mean : {false, true}) {
    S f, fb;
    if (mean) {
      f = L<lossfn::Mean>{}.forward(pred, target);
      fb = L<lossfn::Mean>{}.forward_backward(pred, target, grad);
      grad = L<lossfn::Mean>{}.backward(pred, target);
    } else {
      f = L<lossfn::Sum>{}.forward(pred, target);
      fb = L<lossfn::Sum>{}.forward_backward(pred, target, grad);
      grad = L<lossfn::Sum>{}.backward(pred, target);
    }
    expect_same(f, fb, what);
  }
  // Hessian diagonals and weights (a column, broadcast over the row), WeightedMean
  typename P::PlainObject hess(pred.rows(), pred.cols());
  const Eigen::Array<S, Eigen::Dynamic, 1> w = Eigen::Array<S, Eigen::Dynamic, 1>::Constant(pred.rows(), S(0.5));
  hess = L<lossfn::Sum>{}.hessian_diagonal(pred, target);
  hess = L<lossfn::Mean>{}.hessian_diagonal(pred, target, lossfn::weights(w));
  expect_same(L<lossfn::Mean>{}.forward_backward_hessian(pred, target, grad, hess),
              L<lossfn::Mean>{}.forward(pred, target), what);
  const S weighted = L<lossfn::WeightedMean>{}.forward(pred, target, lossfn::weights(w));
  expect_same(L<lossfn::WeightedMean>{}.forward_backward(pred, target, lossfn::weights(w), grad), weighted, what);
  expect_same(L<lossfn::WeightedMean>{}.forward_backward_hessian(pred, target, lossfn::weights(w), grad, hess),
              weighted, what);
  grad = L<lossfn::WeightedMean>{}.backward(pred, target, lossfn::weights(w));
  hess = L<lossfn::WeightedMean>{}.hessian_diagonal(pred, target, lossfn::weights(w));
  expect_same(L<lossfn::Sum>{}.forward_backward(pred, target, lossfn::weights(w), grad),
              L<lossfn::Sum>{}.forward(pred, target, lossfn::weights(w)), what);
}

template <template <class> class L, class P, class T>
void per_term_calls(const P& pred, const T& target, const char* what) {
  using S = typename P::Scalar;
  const typename P::PlainObject terms = L<lossfn::None>{}.forward(pred, target);
  const typename P::PlainObject vjp = L<lossfn::None>{}.backward(pred, target, terms);
  expect_same(static_cast<S>(terms.sum()), L<lossfn::Sum>{}.forward(pred, target), what);
  const typename P::PlainObject hess = L<lossfn::None>{}.hessian_diagonal(pred, target, terms);
  const typename P::PlainObject w = P::PlainObject::Constant(pred.rows(), pred.cols(), S(2));
  const typename P::PlainObject weighted_terms = L<lossfn::None>{}.forward(pred, target, lossfn::weights(w));
  const typename P::PlainObject weighted_vjp = L<lossfn::None>{}.backward(pred, target, lossfn::weights(w), terms);
  const typename P::PlainObject weighted_hess =
      L<lossfn::None>{}.hessian_diagonal(pred, target, lossfn::weights(w), terms);
  expect_same(static_cast<S>(weighted_terms.sum()), static_cast<S>(2 * terms.sum()), what);
  static_cast<void>(vjp);
  static_cast<void>(hess);
  static_cast<void>(weighted_vjp);
  static_cast<void>(weighted_hess);
}

template <class S>
void elementwise(const char* what) {
  using A = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const A pred = A::Random(7, 5), target = A::Random(7, 5);
  const M pm = pred.matrix(), tm = target.matrix();
  const Eigen::Map<const A> map(pred.data(), 7, 5);
  const Eigen::Ref<const M> ref(tm);
  const A big = A::Random(9, 8);
  elementwise_calls<lossfn::MSE>(pred, target, what);
  elementwise_calls<lossfn::MSE>(pm, ref, what);
  elementwise_calls<lossfn::MSE>(big.block(1, 2, 7, 5), map, what);
  elementwise_calls<lossfn::MAE>(pred, target, what);
  elementwise_calls<lossfn::Huber>(pm, tm, what);
  elementwise_calls<lossfn::SmoothL1>(map, target, what);
  elementwise_calls<lossfn::RMSE>(pred, big.block(1, 2, 7, 5), what);
  per_term_calls<lossfn::MSE>(pred, target, what);
  per_term_calls<lossfn::MAE>(pm, tm, what);
  per_term_calls<lossfn::Huber>(map, target, what);
  per_term_calls<lossfn::SmoothL1>(pred, target, what);
}

/// Every call of a row-wise loss (an object per options) over pred and target.
template <class Loss, class LossNone, class P, class T>
void rowwise_calls(const Loss& loss, const LossNone& none, const P& pred, const T& target, const char* what) {
  using S = typename P::Scalar;
  typename P::PlainObject grad(pred.rows(), pred.cols());
  const S f = loss.forward(pred, target);
  expect_same(f, loss.forward_backward(pred, target, grad), what);
  const typename P::PlainObject fb_grad = grad;
  grad = loss.backward(pred, target);
  const auto per_row = none.forward(pred, target);
  grad = none.backward(pred, target, per_row);
  // the Hessian calls: fused (the same loss and gradient as forward_backward), and alone
  typename P::PlainObject fused(pred.rows(), pred.cols()), hess(pred.rows(), pred.cols());
  expect_same(f, loss.forward_backward_hessian(pred, target, fused, hess), what);
  expect_same(static_cast<S>((fused.array() - fb_grad.array()).abs().maxCoeff()), S(0), what);
  hess = loss.hessian_diagonal(pred, target);
  hess = none.hessian_diagonal(pred, target, per_row);
}

template <class S, int Order, class I>
void cross_entropy(const char* what) {
  using A = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Order>;
  const Eigen::Index m = 300, k = 6;  // more rows than one column-major block
  const A pred = A::Random(m, k);
  Eigen::Array<I, Eigen::Dynamic, 1> labels(m);
  for (Eigen::Index i = 0; i < m; ++i) labels(i) = static_cast<I>(i % k);
  A soft = (A::Random(m, k) + S(2));
  for (Eigen::Index i = 0; i < m; ++i) soft.row(i) /= soft.row(i).sum();
  const M pm = pred.matrix();
  const Eigen::Map<const A> map(pred.data(), m, k);
  const Eigen::Ref<const M> ref(pm);
  for (const lossfn::Input form :
       {lossfn::Input::Logits, lossfn::Input::Probabilities, lossfn::Input::LogProbabilities}) {
    for (int variant = 0; variant < 3; ++variant) {
      lossfn::CrossEntropyOptions o;
      o.input = form;
      if (variant >= 1) o.label_smoothing = 0.1;
      if (variant == 2) o.class_weights = Eigen::ArrayXd::Constant(k, 0.5);
      const lossfn::CrossEntropy<lossfn::Mean> ce(o);
      const lossfn::CrossEntropy<lossfn::Sum> ce_sum(o);
      const lossfn::CrossEntropy<lossfn::None> ce_none(o);
      const A p = form == lossfn::Input::Logits ? pred : soft;
      rowwise_calls(ce, ce_none, p, labels, what);
      rowwise_calls(ce_sum, ce_none, p.matrix(), labels.matrix(), what);
      if (form == lossfn::Input::Logits) {
        rowwise_calls(ce, ce_none, map, labels, what);
        rowwise_calls(ce, ce_none, ref, labels, what);
        rowwise_calls(ce, ce_none, pred.block(0, 0, m, k), labels, what);
      }
      if (variant != 1) rowwise_calls(ce, ce_none, p, soft, what);
    }
  }
}

template <class S, int Order>
void kl_divergence(const char* what) {
  using A = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Order>;
  const Eigen::Index m = 300, k = 6;
  const A pred = A::Random(m, k);
  A target = (A::Random(m, k) + S(2));
  for (Eigen::Index i = 0; i < m; ++i) target.row(i) /= target.row(i).sum();
  for (const bool log_target : {false, true}) {
    lossfn::KLDivergenceOptions o;
    o.log_target = log_target;
    const A t = log_target ? A(target.log()) : target;
    rowwise_calls(lossfn::KLDivergence<lossfn::Mean>(o), lossfn::KLDivergence<lossfn::None>(o), pred, t, what);
    rowwise_calls(lossfn::KLDivergence<lossfn::Sum>(o), lossfn::KLDivergence<lossfn::None>(o), pred.matrix(),
                  t.matrix(), what);
  }
}

}  // namespace

int main() {
  elementwise<float>("elementwise float");
  elementwise<double>("elementwise double");
  cross_entropy<float, Eigen::ColMajor, int>("cross entropy float col-major int");
  cross_entropy<float, Eigen::RowMajor, Eigen::Index>("cross entropy float row-major Index");
  cross_entropy<double, Eigen::ColMajor, Eigen::Index>("cross entropy double col-major Index");
  cross_entropy<double, Eigen::RowMajor, int>("cross entropy double row-major int");
  kl_divergence<float, Eigen::ColMajor>("kl float col-major");
  kl_divergence<float, Eigen::RowMajor>("kl float row-major");
  kl_divergence<double, Eigen::ColMajor>("kl double col-major");
  kl_divergence<double, Eigen::RowMajor>("kl double row-major");
  if (failures != 0) return 1;
  std::printf("lossfn kernels coverage: ok\n");
  return 0;
}
