// The weights battery (FAMILIES.md 1.1), run for every registered loss by
// LOSSFN_CONFORMANCE_TEST_CASES: properties that hold for any loss, so a loss
// added later is covered from its first commit.
//
//   repetition     integer row weights k_i (0 included) under Sum and WeightedMean
//                  equal the batch with row i repeated k_i times (dropped for 0) under
//                  Sum and Mean: loss, gradients (row i = the sum over its copies) and
//                  Hessian diagonals; row-major and column-major
//   equal weights  WeightedMean with every weight c equals Mean; Mean with weights c
//                  equals c x Mean
//   None           forward gives w x the terms; backward(..., weights, u) equals
//                  backward(..., u x w); likewise hessian_diagonal
//   broadcast      (elementwise) an m x 1 column or a 1 x d row equals the same
//                  weights spelled out in pred's shape
//   derivatives    the weighted gradients and Hessian diagonal under WeightedMean
//                  against central differences
//   tiny weights   WeightedMean with denormal weights equals the same weights scaled up
//   sharding       weighted shards run with Sum, recombined with WeightedMean's
//                  denominator(), equal the whole batch under WeightedMean
//   errors         a weight of the wrong shape: shape_error; negative, NaN or
//                  infinite: std::out_of_range naming row, column and value; the
//                  gradient buffers untouched
#pragma once

#include <lossfn/errors.hpp>
#include <lossfn/mse.hpp>
#include <lossfn/reduction.hpp>
#include <lossfn/weights.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "gradient_check.hpp"
#include "registry.hpp"

namespace lossfn_test {
namespace weights_detail {

/// Entry::has_hessian, true when the entry does not say (FAMILIES.md: every loss
/// has a Hessian diagonal unless its family says otherwise).
template <class Entry, class = void>
struct declares_no_hessian : std::false_type {};
template <class Entry>
struct declares_no_hessian<Entry, std::void_t<decltype(Entry::has_hessian)>> : std::bool_constant<!Entry::has_hessian> {
};
template <class Entry>
constexpr bool has_hessian = !declares_no_hessian<Entry>::value;

/// f(first, targets...) with the entry's target arguments: target, class indices,
/// or x2 and labels.
template <class Entry, class Plain, class F>
decltype(auto) call(const Operands<Plain>& ops, TargetForm form, F&& f) {
  if constexpr (Entry::shape == CallShape::Pair) {
    return f(ops.a, ops.b, ops.labels);
  } else if constexpr (!dense_targets<Entry>::value) {
    static_cast<void>(form);
    return f(ops.a, ops.labels);
  } else if constexpr (index_targets<Entry>::value) {
    if (form == TargetForm::Index) return f(ops.a, ops.labels);
    return f(ops.a, ops.b);
  } else {
    static_cast<void>(form);
    return f(ops.a, ops.b);
  }
}

template <class Plain>
struct Result {
  double loss = 0;
  Plain g1, g2, h, h2;  ///< gradients and Hessian diagonals (the second input's: pairs)
};

/// forward_backward (and hessian_diagonal) of a reducing loss, with the weights w
/// or (w empty) without.
template <class Entry, class Loss, class Plain, class W>
Result<Plain> reduced(const Loss& loss, const Operands<Plain>& ops, TargetForm form, const W& w) {
  Result<Plain> r;
  r.g1.resize(ops.a.rows(), ops.a.cols());
  r.g2.resize(ops.a.rows(), ops.a.cols());
  call<Entry>(ops, form, [&](const auto&... args) {
    if constexpr (Entry::shape == CallShape::Pair) {
      r.loss = w.size() == 0 ? static_cast<double>(loss.forward_backward(args..., r.g1, r.g2))
                             : static_cast<double>(loss.forward_backward(args..., lossfn::weights(w), r.g1, r.g2));
      if constexpr (has_hessian<Entry>) {
        auto h = w.size() == 0 ? loss.hessian_diagonal(args...) : loss.hessian_diagonal(args..., lossfn::weights(w));
        r.h = h.dx1;
        r.h2 = h.dx2;
      }
    } else {
      r.loss = w.size() == 0 ? static_cast<double>(loss.forward_backward(args..., r.g1))
                             : static_cast<double>(loss.forward_backward(args..., lossfn::weights(w), r.g1));
      if constexpr (has_hessian<Entry>) {
        r.h = w.size() == 0 ? loss.hessian_diagonal(args...) : loss.hessian_diagonal(args..., lossfn::weights(w));
      }
    }
  });
  return r;
}

/// ops with row i repeated k_i times (k = the integer weights).
template <class Plain>
Operands<Plain> repeated(const Operands<Plain>& ops, const Eigen::ArrayXd& k) {
  const auto total = static_cast<Eigen::Index>(k.sum());
  Operands<Plain> out{Plain(total, ops.a.cols()), Plain(ops.b.rows() == 0 ? 0 : total, ops.b.cols()),
                      Eigen::ArrayXi(ops.labels.size() == 0 ? 0 : total)};
  Eigen::Index row = 0;
  for (Eigen::Index i = 0; i < k.size(); ++i) {
    for (int c = 0; c < static_cast<int>(k(i)); ++c, ++row) {
      out.a.row(row) = ops.a.row(i);
      if (ops.b.rows() != 0) out.b.row(row) = ops.b.row(i);
      if (ops.labels.size() != 0) out.labels(row) = ops.labels(i);
    }
  }
  return out;
}

/// The rows of g (over the repeated batch) summed back onto the original rows.
template <class Plain>
Plain folded(const Plain& g, const Eigen::ArrayXd& k, Eigen::Index cols) {
  Plain out = Plain::Zero(k.size(), cols);
  Eigen::Index row = 0;
  for (Eigen::Index i = 0; i < k.size(); ++i) {
    for (int c = 0; c < static_cast<int>(k(i)); ++c, ++row) out.row(i) += g.row(row);
  }
  return out;
}

template <class A, class B>
double relative_error(const A& a, const B& b) {
  const double scale = std::max(1.0, static_cast<double>(b.abs().maxCoeff()));
  return max_error(a, b) / scale;
}

/// The number of columns (classes) of every operand: variants(kCols) build the
/// options (CrossEntropy's class weights have one entry per column).
constexpr Eigen::Index kCols = 4;

template <class Entry, class Plain>
void repetition_in(const typename Entry::Options& options, TargetForm form) {
  const Eigen::Index m = 9, d = kCols;
  const auto ops = Entry::template operands<Plain>(m, d, 23, form);
  Eigen::ArrayXd k(m);
  for (Eigen::Index i = 0; i < m; ++i) k(i) = static_cast<double>((i * 5 + 2) % 4);  // 2 3 0 1 2 3 0 1 2
  const auto expanded = repeated(ops, k);
  const auto check = [&](const Result<Plain>& weighted, const Result<Plain>& reference, const char* reduction) {
    CAPTURE(reduction);
    CHECK(weighted.loss == Approx(reference.loss).epsilon(1e-12).margin(1e-14));
    CHECK(relative_error(weighted.g1, folded(reference.g1, k, d)) < 1e-13);
    if constexpr (Entry::shape == CallShape::Pair) {
      CHECK(relative_error(weighted.g2, folded(reference.g2, k, d)) < 1e-13);
    }
    // a root of a sum (RMSE) is not separable: its diagonal is not the copies' sum
    if constexpr (has_hessian<Entry> && !root_of_sum<Entry>()) {
      CHECK(relative_error(weighted.h, folded(reference.h, k, d)) < 1e-13);
      if constexpr (Entry::shape == CallShape::Pair)
        CHECK(relative_error(weighted.h2, folded(reference.h2, k, d)) < 1e-13);
    }
    for (Eigen::Index i = 0; i < m; ++i) {
      if (k(i) == 0) CHECK((weighted.g1.row(i) == 0).all());  // a weight of 0 drops the term
    }
  };
  const Eigen::ArrayXd none;
  check(reduced<Entry>(Entry::make(lossfn::Sum{}, options), ops, form, k),
        reduced<Entry>(Entry::make(lossfn::Sum{}, options), expanded, form, none), "Sum");
  check(reduced<Entry>(Entry::make(lossfn::WeightedMean{}, options), ops, form, k),
        reduced<Entry>(Entry::make(lossfn::Mean{}, options), expanded, form, none), "WeightedMean");
}

template <class Entry>
void equal_weights(const typename Entry::Options& options, TargetForm form) {
  using Plain = Eigen::ArrayXXd;
  const Eigen::Index m = 7, d = kCols;
  const auto ops = Entry::template operands<Plain>(m, d, 29, form);
  const Eigen::ArrayXd c = Eigen::ArrayXd::Constant(m, 2.5), none;
  const auto mean = reduced<Entry>(Entry::make(lossfn::Mean{}, options), ops, form, none);
  const auto weighted_mean = reduced<Entry>(Entry::make(lossfn::WeightedMean{}, options), ops, form, c);
  const auto unweighted_weighted_mean = reduced<Entry>(Entry::make(lossfn::WeightedMean{}, options), ops, form, none);
  const auto mean_weighted = reduced<Entry>(Entry::make(lossfn::Mean{}, options), ops, form, c);
  CHECK(weighted_mean.loss == Approx(mean.loss).epsilon(1e-13).margin(1e-15));
  CHECK(relative_error(weighted_mean.g1, mean.g1) < 1e-14);
  CHECK(unweighted_weighted_mean.loss == mean.loss);
  CHECK(relative_error(unweighted_weighted_mean.g1, mean.g1) == 0);
  if constexpr (!root_of_sum<Entry>()) {
    CHECK(mean_weighted.loss == Approx(2.5 * mean.loss).epsilon(1e-13).margin(1e-15));
    CHECK(relative_error(mean_weighted.g1, Plain(2.5 * mean.g1)) < 1e-14);
  } else {
    // sqrt(sum 2.5 e^2 / n) = sqrt(2.5) x RMSE
    CHECK(mean_weighted.loss == Approx(std::sqrt(2.5) * mean.loss).epsilon(1e-13).margin(1e-15));
  }
  if constexpr (has_hessian<Entry>) CHECK(relative_error(weighted_mean.h, mean.h) < 1e-14);
  if constexpr (has_hessian<Entry> && Entry::shape == CallShape::Pair) {
    CHECK(relative_error(weighted_mean.h2, mean.h2) < 1e-14);
  }
}

/// None: weighted terms and vector-Jacobian products.
template <class Entry>
void none_weights(const typename Entry::Options& options, TargetForm form) {
  if constexpr (!root_of_sum<Entry>()) {
    using Plain = Eigen::ArrayXXd;
    const Eigen::Index m = 6, d = kCols;
    const auto ops = Entry::template operands<Plain>(m, d, 31, form);
    const auto loss = Entry::make(lossfn::None{}, options);
    Eigen::ArrayXd w(m);
    for (Eigen::Index i = 0; i < m; ++i) w(i) = 0.5 * static_cast<double>(i % 3);
    call<Entry>(ops, form, [&](const auto&... args) {
      const auto terms = loss.forward(args...);
      const auto weighted_terms = loss.forward(args..., lossfn::weights(w));
      const auto u = random_array<std::decay_t<decltype(terms)>>(terms.rows(), terms.cols(), 5, -1, 1);
      // the weights broadcast over the terms' shape (a column for row-wise losses)
      std::decay_t<decltype(terms)> uw = u;
      for (Eigen::Index j = 0; j < uw.cols(); ++j) uw.col(j) *= w.template cast<typename decltype(uw)::Scalar>();
      std::decay_t<decltype(terms)> w_terms = terms;
      for (Eigen::Index j = 0; j < w_terms.cols(); ++j) w_terms.col(j) *= w;
      CHECK(max_error(weighted_terms, w_terms) <= 1e-15 * std::max(1.0, static_cast<double>(terms.abs().maxCoeff())));
      const auto weighted_vjp = loss.backward(args..., lossfn::weights(w), u);
      const auto vjp = loss.backward(args..., uw);
      if constexpr (Entry::shape == CallShape::Pair) {
        CHECK(max_error(weighted_vjp.dx1, vjp.dx1) < 1e-14);
        CHECK(max_error(weighted_vjp.dx2, vjp.dx2) < 1e-14);
      } else {
        CHECK(max_error(weighted_vjp, vjp) < 1e-14);
      }
      if constexpr (has_hessian<Entry> && Entry::shape == CallShape::Pair) {
        const auto weighted_h = loss.hessian_diagonal(args..., lossfn::weights(w), u);
        const auto h = loss.hessian_diagonal(args..., uw);
        CHECK(max_error(weighted_h.dx1, h.dx1) < 1e-14);
        CHECK(max_error(weighted_h.dx2, h.dx2) < 1e-14);
      } else if constexpr (has_hessian<Entry>) {
        CHECK(max_error(loss.hessian_diagonal(args..., lossfn::weights(w), u), loss.hessian_diagonal(args..., uw)) <
              1e-14);
      }
    });
  }
}

/// Elementwise: a column, a row and the same weights in full.
template <class Entry>
void broadcast_weights(const typename Entry::Options& options) {
  using Plain = Eigen::ArrayXXd;
  const Eigen::Index m = 5, d = kCols;
  const auto ops = Entry::template operands<Plain>(m, d, 37, TargetForm::Dense);
  const Eigen::ArrayXd per_row = Eigen::ArrayXd::LinSpaced(m, 0.0, 2.0);
  const Eigen::Array<double, 1, Eigen::Dynamic> per_col = Eigen::ArrayXd::LinSpaced(d, 0.5, 1.5).transpose();
  const Plain full_rows = per_row.replicate(1, d), full_cols = per_col.replicate(m, 1);
  // a row-major full copy: the weights' storage order need not match pred's
  const Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> full_cols_rm = full_cols;
  const auto compare = [&](const auto& loss) {
    const auto a = reduced<Entry>(loss, ops, TargetForm::Dense, per_row);
    const auto b = reduced<Entry>(loss, ops, TargetForm::Dense, full_rows);
    CHECK(a.loss == Approx(b.loss).epsilon(1e-14).margin(1e-15));
    CHECK(max_error(a.g1, b.g1) < 1e-15);
    CHECK(max_error(a.h, b.h) < 1e-15);
    const auto c = reduced<Entry>(loss, ops, TargetForm::Dense, per_col);
    const auto e = reduced<Entry>(loss, ops, TargetForm::Dense, full_cols_rm);
    CHECK(c.loss == Approx(e.loss).epsilon(1e-14).margin(1e-15));
    CHECK(max_error(c.g1, e.g1) < 1e-15);
    CHECK(max_error(c.h, e.h) < 1e-15);
  };
  compare(Entry::make(lossfn::Sum{}, options));
  compare(Entry::make(lossfn::WeightedMean{}, options));
  const auto weighted_mean = Entry::make(lossfn::WeightedMean{}, options);
  // an m x 1 weight over m x d terms counts d times
  CHECK(weighted_mean.denominator(ops.a, ops.b, lossfn::weights(per_row)) == Approx(d * per_row.sum()));
  CHECK(weighted_mean.denominator(ops.a, ops.b, lossfn::weights(per_col)) == Approx(m * per_col.sum()));
}

/// Weighted shards with Sum, recombined with WeightedMean's denominator().
template <class Entry>
void weighted_sharding(const typename Entry::Options& options, TargetForm form) {
  using Plain = Eigen::ArrayXXd;
  const Eigen::Index m = 11, d = kCols;
  const Eigen::Index cuts[] = {0, 4, 4, 9, 11};
  const auto ops = Entry::template operands<Plain>(m, d, 41, form);
  Eigen::ArrayXd w(m);
  for (Eigen::Index i = 0; i < m; ++i) w(i) = 0.25 * static_cast<double>((i * 3) % 5);
  const auto weighted_mean = Entry::make(lossfn::WeightedMean{}, options);
  const auto whole = reduced<Entry>(weighted_mean, ops, form, w);
  double sum = 0, denominator = 0;
  Plain g1 = Plain::Zero(m, d), g2 = Plain::Zero(m, d);
  for (std::size_t s = 0; s + 1 < std::size(cuts); ++s) {
    const Eigen::Index first = cuts[s], count = cuts[s + 1] - cuts[s];
    Operands<Plain> shard{ops.a.middleRows(first, count),
                          ops.b.rows() ? Plain(ops.b.middleRows(first, count)) : Plain(),
                          ops.labels.size() ? Eigen::ArrayXi(ops.labels.segment(first, count)) : Eigen::ArrayXi()};
    const Eigen::ArrayXd shard_w = w.segment(first, count);
    Result<Plain> part;
    if constexpr (root_of_sum<Entry>()) {
      part = reduced<Entry>(lossfn::MSE<lossfn::Sum>{}, shard, form, shard_w);
    } else {
      part = reduced<Entry>(Entry::make(lossfn::Sum{}, options), shard, form, shard_w);
    }
    sum += part.loss;
    g1.middleRows(first, count) = part.g1;
    g2.middleRows(first, count) = part.g2;
    denominator += call<Entry>(shard, form, [&](const auto&... args) {
      return static_cast<double>(weighted_mean.denominator(args..., lossfn::weights(shard_w)));
    });
  }
  double loss = sum / denominator, factor = 1 / denominator;
  if constexpr (root_of_sum<Entry>()) {
    loss = std::sqrt(sum / denominator);
    factor = 1 / (2 * denominator * loss);
  }
  CHECK(loss == Approx(whole.loss).epsilon(1e-13));
  CHECK(max_error(Plain(g1 * factor), whole.g1) < 1e-14);
  if constexpr (Entry::shape == CallShape::Pair) CHECK(max_error(Plain(g2 * factor), whole.g2) < 1e-14);
}

/// Whether an elementwise entry places its kinks by pred and target separately,
///   static bool near_kink_at(double pred, double target, const Options&)
/// (Hinge: y f = 1), rather than by e = pred - target (near_kink).
template <class Entry, class = void>
struct has_near_kink_at : std::false_type {};
template <class Entry>
struct has_near_kink_at<
    Entry, std::void_t<decltype(Entry::near_kink_at(0.0, 0.0, std::declval<const typename Entry::Options&>()))>>
    : std::true_type {};

/// Whether entry (i, j) of an elementwise loss's operands is near a kink (the
/// finite differences there do not measure the derivative); never for the others.
template <class Entry, class Plain>
bool near_kink(const Operands<Plain>& ops, const typename Entry::Options& options, Eigen::Index i, Eigen::Index j) {
  if constexpr (Entry::shape == CallShape::Elementwise && has_near_kink_at<Entry>::value) {
    return Entry::near_kink_at(static_cast<double>(ops.a(i, j)), static_cast<double>(ops.b(i, j)), options);
  } else if constexpr (Entry::shape == CallShape::Elementwise) {
    return Entry::near_kink(static_cast<double>(ops.a(i, j) - ops.b(i, j)), options);
  } else {
    static_cast<void>(ops);
    static_cast<void>(options);
    static_cast<void>(i);
    static_cast<void>(j);
    return false;
  }
}

/// The weighted gradient (of every differentiated input) and Hessian diagonal
/// against central differences, under WeightedMean with non-integer weights (pred's
/// shape for elementwise losses, a column otherwise); entries near a kink skipped.
template <class Entry>
void weighted_finite_differences(const typename Entry::Options& options, TargetForm form) {
  using Plain = Eigen::ArrayXXd;
  const Eigen::Index m = 5, d = kCols;
  auto ops = Entry::template operands<Plain>(m, d, 47, form);
  const Plain w = random_array<Plain>(m, Entry::shape == CallShape::Elementwise ? d : 1, 53, 0.3, 1.7);
  const auto loss = Entry::make(lossfn::WeightedMean{}, options);
  const auto value = [&](const Operands<Plain>& at) {
    return call<Entry>(
        at, form, [&](const auto&... args) { return static_cast<double>(loss.forward(args..., lossfn::weights(w))); });
  };
  const auto masked_error = [&](const Plain& analytic, const Plain& numeric) {
    double worst = 0;
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index j = 0; j < d; ++j) {
        if (!near_kink<Entry>(ops, options, i, j)) worst = std::max(worst, std::abs(analytic(i, j) - numeric(i, j)));
      }
    }
    return worst;
  };
  const auto analytic = reduced<Entry>(loss, ops, form, w);
  const Plain numeric_a = numeric_gradient(
      [&](const Plain& a) {
        Operands<Plain> at = ops;
        at.a = a;
        return value(at);
      },
      ops.a);
  CHECK(masked_error(analytic.g1, numeric_a) < kGradientTolerance);
  if constexpr (Entry::shape == CallShape::Pair) {
    const Plain numeric_b = numeric_gradient(
        [&](const Plain& b) {
          Operands<Plain> at = ops;
          at.b = b;
          return value(at);
        },
        ops.b);
    CHECK(masked_error(analytic.g2, numeric_b) < kGradientTolerance);
  }
  if constexpr (has_hessian<Entry>) {
    const Plain numeric_h = numeric_hessian_diagonal(
        [&](const Plain& a) {
          Operands<Plain> at = ops;
          at.a = a;
          return reduced<Entry>(loss, at, form, w).g1;
        },
        ops.a);
    CHECK(masked_error(analytic.h, numeric_h) < kGradientTolerance);
    if constexpr (Entry::shape == CallShape::Pair) {
      const Plain numeric_h2 = numeric_hessian_diagonal(
          [&](const Plain& b) {
            Operands<Plain> at = ops;
            at.b = b;
            return reduced<Entry>(loss, at, form, w).g2;
          },
          ops.b);
      CHECK(masked_error(analytic.h2, numeric_h2) < kGradientTolerance);
    }
  }
}

/// WeightedMean does not depend on the weights' scale, down to denormal weights
/// (whose sum 1 / W would overflow: weight_multiplier in detail/weights.hpp):
/// weights k_i x denorm_min equal weights k_i.
template <class Entry>
void tiny_weights(const typename Entry::Options& options, TargetForm form) {
  using Plain = Eigen::ArrayXXd;
  const Eigen::Index m = 5, d = kCols;
  const auto ops = Entry::template operands<Plain>(m, d, 59, form);
  Eigen::ArrayXd k(m);
  for (Eigen::Index i = 0; i < m; ++i) k(i) = static_cast<double>(1 + i % 3);
  const Eigen::ArrayXd tiny = k * std::numeric_limits<double>::denorm_min();
  const auto loss = Entry::make(lossfn::WeightedMean{}, options);
  const auto scaled = reduced<Entry>(loss, ops, form, tiny);
  const auto plain = reduced<Entry>(loss, ops, form, k);
  CHECK(scaled.loss == Approx(plain.loss).epsilon(1e-14).margin(1e-15));
  CHECK(relative_error(scaled.g1, plain.g1) < 1e-14);
  if constexpr (Entry::shape == CallShape::Pair) CHECK(relative_error(scaled.g2, plain.g2) < 1e-14);
  if constexpr (has_hessian<Entry>) CHECK(relative_error(scaled.h, plain.h) < 1e-14);
}

/// Bad weights: the error, the message, and the gradient buffer untouched.
template <class Entry>
void weight_errors(const typename Entry::Options& options, TargetForm form) {
  using Plain = Eigen::ArrayXXd;
  const Eigen::Index m = 4, d = kCols;
  const auto ops = Entry::template operands<Plain>(m, d, 43, form);
  const auto loss = Entry::make(lossfn::Mean{}, options);
  constexpr double sentinel = -777.125;
  const auto expect = [&](const Eigen::ArrayXXd& w, auto exception, const std::string& fragment) {
    using E = decltype(exception);
    Plain g1 = Plain::Constant(m, d, sentinel), g2 = Plain::Constant(m, d, sentinel);
    call<Entry>(ops, form, [&](const auto&... args) {
      try {
        if constexpr (Entry::shape == CallShape::Pair) {
          loss.forward_backward(args..., lossfn::weights(w), g1, g2);
        } else {
          loss.forward_backward(args..., lossfn::weights(w), g1);
        }
        FAIL("no exception for weights " << w.rows() << "x" << w.cols());
      } catch (const E& e) {
        const std::string message = e.what();
        CHECK(message.find(std::string("lossfn::") + Entry::name + "::forward_backward") != std::string::npos);
        CHECK_THAT(message, Catch::Contains(fragment));
      }
    });
    CHECK((g1 == sentinel).all());
    CHECK((g2 == sentinel).all());
  };
  expect(Eigen::ArrayXXd::Ones(m + 1, 1), lossfn::shape_error(""), "weights is 5x1");
  expect(Eigen::ArrayXXd::Ones(m, 2), lossfn::shape_error(""), "weights is 4x2");
  if constexpr (Entry::shape != CallShape::Elementwise) {
    // one weight per sample only
    expect(Eigen::ArrayXXd::Ones(1, d), lossfn::shape_error(""), "weights is 1x4");
  }
  Eigen::ArrayXXd w = Eigen::ArrayXXd::Ones(m, 1);
  w(2, 0) = -0.5;
  expect(w, std::out_of_range(""), "weight at row 2, column 0 is -0.5");
  w(2, 0) = std::numeric_limits<double>::quiet_NaN();
  expect(w, std::out_of_range(""), "weight at row 2, column 0 is nan");
  w(2, 0) = 1;
  w(3, 0) = std::numeric_limits<double>::infinity();
  expect(w, std::out_of_range(""), "weight at row 3, column 0 is inf");
}

}  // namespace weights_detail

/// Every weights property, for every variant of the entry.
template <class Entry>
void check_weights() {
  for (const auto& variant : Entry::variants(weights_detail::kCols)) {
    CAPTURE(Entry::name, variant.name);
    weights_detail::repetition_in<Entry, Eigen::ArrayXXd>(variant.options, variant.target);
    weights_detail::repetition_in<Entry, Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        variant.options, variant.target);
    weights_detail::equal_weights<Entry>(variant.options, variant.target);
    weights_detail::none_weights<Entry>(variant.options, variant.target);
    if constexpr (Entry::shape == CallShape::Elementwise) weights_detail::broadcast_weights<Entry>(variant.options);
    weights_detail::weighted_sharding<Entry>(variant.options, variant.target);
    weights_detail::weighted_finite_differences<Entry>(variant.options, variant.target);
    weights_detail::tiny_weights<Entry>(variant.options, variant.target);
  }
  const auto variants = Entry::variants(weights_detail::kCols);
  weights_detail::weight_errors<Entry>(variants.front().options, variants.front().target);
}

}  // namespace lossfn_test

/// The weights battery of one entry.
#define LOSSFN_WEIGHTS_TEST_CASES(Entry) \
  TEST_CASE(std::string("weights: ") + Entry::name) { lossfn_test::check_weights<Entry>(); }
