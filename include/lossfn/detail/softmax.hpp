/// @file
/// The row-wise kernel shared by CrossEntropy and KLDivergence: a stable
/// log-softmax per row (the row max subtracted before exp), the three input forms
/// of a prediction, and one pass over pred that yields each row's loss and,
/// when asked, its gradient.
///
/// Both losses are "cross entropy against a per-row weight vector c":
///   loss_i = -sum_k c_ik log q_ik (+ a term of the target alone, for KL)
/// with q the predicted distribution. c is split into a dense part D (smoothing,
/// soft targets, KL's P) and a sparse part a_i at one class t_i (class-index
/// targets), so the common case of index targets without smoothing reads one
/// target entry per row and no K-long target row.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "checks.hpp"
#include "elementwise.hpp"
#include "operand.hpp"

namespace lossfn {

/// The form in which a row-wise loss receives a prediction (CrossEntropy's pred,
/// KLDivergence's Q). backward returns the gradient with respect to this form.
enum class Input {
  Logits,           ///< unnormalised scores; a stable log-softmax is taken per row (default)
  Probabilities,    ///< probabilities, used as given (not renormalised)
  LogProbabilities  ///< log-probabilities, used as given (not renormalised)
};

namespace detail {

/// True for the three named input forms (an Input cast from a stray integer is not).
inline bool is_input_form(Input input) {
  return input == Input::Logits || input == Input::Probabilities || input == Input::LogProbabilities;
}

/// Rows per block when pred (of scalar S) is column-major: a block's column piece
/// is contiguous (512 bytes), so every per-element operation below runs on short
/// contiguous vectors, and a block of K columns (512 K bytes) stays in L2 between
/// the passes. The per-row state lives in fixed-capacity stack arrays (no heap).
/// A tuning knob: measured on 4096 x 1000, 16 rows was 2-3x slower than 64-128.
template <class S>
constexpr Eigen::Index kRowBlock = 512 / static_cast<Eigen::Index>(sizeof(S));

/// Per-row values of a column-major block of pred of scalar S, stored as T.
template <class T, class S = T>
using row_values = Eigen::Array<T, Eigen::Dynamic, 1, Eigen::ColMajor, kRowBlock<S>, 1>;

/// One line of a block: a whole row (row-major pred) ...
struct RowLine {
  Eigen::Index row;
};
/// ... or the piece of column `col` in rows [first, first + count) (column-major pred).
struct ColLine {
  Eigen::Index first, count, col;
};

// Per-row state is a scalar in row mode and a short array in column mode; these
// helpers let one kernel body serve both.
template <class V, bool = std::is_arithmetic<V>::value>
struct value_of {
  using type = V;
};
template <class V>
struct value_of<V, false> {
  using type = typename V::Scalar;
};
template <class V>
V filled(Eigen::Index count, typename value_of<V>::type value) {
  if constexpr (std::is_arithmetic<V>::value) {
    static_cast<void>(count);
    return value;
  } else {
    return V::Constant(count, value);
  }
}
template <class V>
auto& at(V& v, Eigen::Index j) {
  if constexpr (std::is_arithmetic<V>::value) {
    static_cast<void>(j);
    return v;
  } else {
    return v(j);
  }
}
/// acc += the line e (of pred's scalar), acc in the accumulator type. A row is
/// summed in chunks in e's own type (vectorised; converting every float to double
/// inside the sum would stop Eigen vectorising exp and log) and the chunk sums in acc.
template <class V, class E>
void add_line(V& acc, const E& e) {
  if constexpr (std::is_arithmetic<V>::value) {
    constexpr Eigen::Index chunk = 256;
    const Eigen::Index n = e.size();
    for (Eigen::Index start = 0; start < n; start += chunk)
      acc += static_cast<V>(e.segment(start, std::min(chunk, n - start)).sum());
  } else if constexpr (std::is_same<typename V::Scalar, typename E::Scalar>::value) {
    acc += e;
  } else {
    // evaluated first: a cast inside the expression would make Eigen run all of it
    // (exp included) one scalar at a time
    using S = typename E::Scalar;
    const Eigen::Array<S, E::RowsAtCompileTime, 1, Eigen::ColMajor, kRowBlock<S>, 1> line = e;
    acc += line.template cast<typename V::Scalar>();
  }
}
template <class V, class E>
void max_line(V& acc, const E& e) {
  if constexpr (std::is_arithmetic<V>::value) {
    acc = std::max(acc, e.maxCoeff());
  } else {
    acc = acc.max(e);
  }
}

/// No gradient wanted (forward only).
struct NoGrad {};

/// No dense target part: class indices without label smoothing.
struct NoDense {
  static constexpr bool active = false;
  static constexpr bool has_extra = false;
  void begin(Eigen::Index /*first*/, Eigen::Index /*count*/) {}
};

/// No sparse target part: dense (soft) targets.
struct NoSparse {
  static constexpr bool active = false;
};

/// log q_ik up to the row's log-normaliser: z - max for logits (the normaliser
/// log sum exp(z - max) is added once per row), log p for probabilities, and
/// the entry itself for log-probabilities.
template <Input Form, class E, class M>
auto log_term(const E& z, const M& row_max) {
  if constexpr (Form == Input::Logits) {
    return z - row_max;
  } else if constexpr (Form == Input::Probabilities) {
    static_cast<void>(row_max);
    return z.log();
  } else {
    static_cast<void>(row_max);
    return z;
  }
}
template <Input Form, class S>
S log_term_at(S z, S row_max) {
  using std::log;
  if constexpr (Form == Input::Logits) return z - row_max;
  if constexpr (Form == Input::Probabilities) return log(z);
  return z;
}

/// Rows sink of Sum and Mean: sums the row losses; every row's gradient is scaled
/// by the reduction's factor.
template <class S>
struct TotalRows {
  S scale;
  accumulator_t<S> total{0};
  S multiplier(Eigen::Index /*row*/) const { return scale; }
  void record(Eigen::Index /*row*/, accumulator_t<S> loss) { total += loss; }
};

/// Rows sink of None's forward: writes each row's loss into a column.
template <class Out>
struct ColumnRows {
  Out& out;
  typename Out::Scalar multiplier(Eigen::Index /*row*/) const { return 0; }
  template <class A>
  void record(Eigen::Index row, A loss) {
    out(row, 0) = static_cast<typename Out::Scalar>(loss);
  }
};

/// Rows sink of None's backward: row i's gradient is scaled by upstream_i.
template <class U>
struct UpstreamRows {
  const U& upstream;
  typename U::Scalar multiplier(Eigen::Index row) const { return upstream(row, 0); }
  template <class A>
  void record(Eigen::Index /*row*/, A /*loss*/) {}
};

/// One block of rows: a single row when pred is row-major (RowMode: per-row state
/// is a scalar, a line is the whole contiguous row), else up to kRowBlock<S> rows
/// (per-row state is a short array, a line is one contiguous column piece; Fixed
/// = kRowBlock<S> for the full blocks, sizes known at compile time, Dynamic for the tail).
/// Per row i, with c = D + a e_t and q the predicted distribution:
///   loss_i = -sum_k c_ik log q_ik + extra_i, terms with c_ik = 0 are exactly 0
///   logits:            grad = u_i (softmax_i sum_k c_ik - c_i)
///   probabilities:     grad = -u_i c / p  (0 where c = 0)
///   log-probabilities: grad = -u_i c
/// with u_i the sink's multiplier.
template <Input Form, bool RowMode, Eigen::Index Fixed, class Z, class Dense, class Sparse, class Grad, class Rows>
void rowwise_block(const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Rows& rows, Eigen::Index first,
                   Eigen::Index count) {
  using S = scalar_t<Z>;
  using Acc = accumulator_t<S>;
  using VS = std::conditional_t<RowMode, S, Eigen::Array<S, Fixed, 1, Eigen::ColMajor, kRowBlock<S>, 1>>;
  using VA = std::conditional_t<RowMode, Acc, Eigen::Array<Acc, Fixed, 1, Eigen::ColMajor, kRowBlock<S>, 1>>;
  constexpr bool want_grad = !std::is_same<Grad, NoGrad>::value;
  constexpr bool logits = Form == Input::Logits;

  // f(z_line, grad_line, line) for each line of the block
  const auto visit = [&](auto&& f) {
    if constexpr (RowMode) {
      const auto zl = z.row(first);
      if constexpr (want_grad) {
        auto gl = grad->row(first);
        f(as_array(zl), gl, RowLine{first});
      } else {
        NoGrad gl;
        f(as_array(zl), gl, RowLine{first});
      }
    } else {
      for (Eigen::Index k = 0; k < z.cols(); ++k) {
        const auto zl = z.template block<Fixed, 1>(first, k, count, 1);
        if constexpr (want_grad) {
          auto gl = grad->template block<Fixed, 1>(first, k, count, 1);
          f(as_array(zl), gl, ColLine{first, count, k});
        } else {
          NoGrad gl;
          f(as_array(zl), gl, ColLine{first, count, k});
        }
      }
    }
  };

  dense.begin(first, count);
  VS row_max = filled<VS>(count, logits ? -std::numeric_limits<S>::infinity() : S(0));
  if constexpr (logits) visit([&](const auto& za, auto&, auto) { max_line(row_max, za); });

  VA norm = filled<VA>(count, 0), c_sum = filled<VA>(count, 0), dot = filled<VA>(count, 0);
  VA extra = filled<VA>(count, 0);
  visit([&](const auto& za, auto& gl, auto line) {
    if constexpr (logits) {
      if constexpr (want_grad) {
        assign(gl, (za - row_max).exp());  // exp(z - max), kept for the gradient pass
        add_line(norm, as_array(gl));
      } else {
        add_line(norm, (za - row_max).exp());
      }
    }
    if constexpr (Dense::active) {
      const auto d = dense.line(line);
      if constexpr (logits) add_line(c_sum, d);
      // select: a zero weight times log 0 (or a -inf logit) is 0, not NaN
      add_line(dot, (d != S(0)).select(d * log_term<Form>(za, row_max), S(0)));
      if constexpr (Dense::has_extra) add_line(extra, dense.extra(line));
    }
  });
  if constexpr (Sparse::active) {
    for (Eigen::Index j = 0; j < count; ++j) {
      Eigen::Index t = 0;
      S a(0);
      if (!sparse.get(first + j, t, a)) continue;
      at(c_sum, j) += static_cast<Acc>(a);
      at(dot, j) += static_cast<Acc>(a) * static_cast<Acc>(log_term_at<Form>(z(first + j, t), S(at(row_max, j))));
    }
  }
  for (Eigen::Index j = 0; j < count; ++j) {
    using std::log;
    Acc loss = at(extra, j) - at(dot, j);
    if constexpr (logits) loss += at(c_sum, j) * log(at(norm, j));
    rows.record(first + j, loss);
  }

  if constexpr (want_grad) {
    VS u = filled<VS>(count, 0);
    for (Eigen::Index j = 0; j < count; ++j) at(u, j) = rows.multiplier(first + j);
    if constexpr (logits) {
      VS factor = filled<VS>(count, 0);  // u sum_k c_k / sum_k exp(z_k - max)
      for (Eigen::Index j = 0; j < count; ++j)
        at(factor, j) = static_cast<S>(static_cast<Acc>(at(u, j)) * at(c_sum, j) / at(norm, j));
      visit([&](const auto&, auto& gl, auto line) {
        if constexpr (Dense::active) {
          assign(gl, as_array(gl) * factor - u * dense.line(line));
        } else {
          assign(gl, as_array(gl) * factor);
        }
      });
    } else if constexpr (Dense::active) {
      visit([&](const auto& za, auto& gl, auto line) {
        const auto d = dense.line(line);
        if constexpr (Form == Input::Probabilities) {
          assign(gl, (d != S(0)).select(-(u * d) / za, S(0)));
        } else {
          assign(gl, -(u * d));
        }
      });
    } else {
      visit([&](const auto&, auto& gl, auto) { gl.setZero(); });
    }
    if constexpr (Sparse::active) {
      for (Eigen::Index j = 0; j < count; ++j) {
        Eigen::Index t = 0;
        S a(0);
        if (!sparse.get(first + j, t, a)) continue;
        const Eigen::Index i = first + j;
        if constexpr (Form == Input::Probabilities) {
          grad->coeffRef(i, t) -= at(u, j) * a / z(i, t);
        } else {
          grad->coeffRef(i, t) -= at(u, j) * a;
        }
      }
    }
  }
}

/// The whole kernel: every row of z once, in blocks that follow z's storage order.
/// grad is nullptr (with Grad = NoGrad) when only the losses are wanted.
template <Input Form, class Z, class Dense, class Sparse, class Grad, class Rows>
void rowwise_kernel(const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Rows& rows) {
  const Eigen::Index m = z.rows();
  if constexpr (bool(Z::IsRowMajor)) {
    for (Eigen::Index i = 0; i < m; ++i) rowwise_block<Form, true, 1>(z, dense, sparse, grad, rows, i, 1);
  } else {
    constexpr Eigen::Index block = kRowBlock<scalar_t<Z>>;
    Eigen::Index first = 0;
    for (; first + block <= m; first += block)
      rowwise_block<Form, false, block>(z, dense, sparse, grad, rows, first, block);
    if (first < m) rowwise_block<Form, false, Eigen::Dynamic>(z, dense, sparse, grad, rows, first, m - first);
  }
}

/// Runs the kernel for the input form chosen at run time.
template <class Z, class Dense, class Sparse, class Grad, class Rows>
void rowwise_kernel(Input form, const Z& z, Dense& dense, const Sparse& sparse, Grad* grad, Rows& rows) {
  switch (form) {
    case Input::Probabilities:
      rowwise_kernel<Input::Probabilities>(z, dense, sparse, grad, rows);
      return;
    case Input::LogProbabilities:
      rowwise_kernel<Input::LogProbabilities>(z, dense, sparse, grad, rows);
      return;
    case Input::Logits:
      break;
  }
  rowwise_kernel<Input::Logits>(z, dense, sparse, grad, rows);
}

/// A column of one value per row, of pred's kind (Array or Matrix).
template <class P>
using column_t = std::conditional_t<std::is_base_of<Eigen::ArrayBase<P>, P>::value,
                                    Eigen::Array<scalar_t<P>, Eigen::Dynamic, 1>,
                                    Eigen::Matrix<scalar_t<P>, Eigen::Dynamic, 1>>;

/// A row-wise pred needs at least one class when it has rows.
template <class P>
void check_classes(const char* loss, const char* function, const Eigen::EigenBase<P>& pred) {
  if (pred.rows() > 0 && pred.cols() == 0) {
    raise(error_kind::shape, where(loss, function) + "pred is " + shape_string(pred.rows(), pred.cols()) +
                                 ": it needs at least one class (column)");
  }
}


/// The public calls of a row-wise loss (forward, backward, forward_backward,
/// operator()) over its three private pieces: `check_call` (compile-time and
/// shape checks), `count` (the O(m) checks that read the target; returns the
/// number Mean divides by) and `run` (the kernel). Every check runs before any
/// output is written.
template <class Derived, class Reduction>
class RowwiseLoss {
 public:
  /// The reduction policy (Sum, Mean or None).
  using reduction = Reduction;

  /// Sum/Mean: the reduced loss (pred's scalar type). None: the per-sample losses,
  /// a column of m values.
  template <class P, class T>
  auto forward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    using S = scalar_t<P>;
    self().check_call("forward", pred, target);
    check_terms<Reduction>(Derived::name, "forward", pred.rows());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    const double divisor = self().count("forward", p, t);
    if constexpr (Reduction::reduces) {
      TotalRows<S> rows{S(0)};
      self().run(p, t, static_cast<NoGrad*>(nullptr), rows);
      return static_cast<S>(rows.total * scale_for<accumulator_t<S>>(divisor));
    } else {
      static_cast<void>(divisor);
      column_t<P> losses(pred.rows());
      ColumnRows<column_t<P>> rows{losses};
      self().run(p, t, static_cast<NoGrad*>(nullptr), rows);
      return losses;
    }
  }

  /// Sum/Mean: dL/dpred, of pred's shape, kind and storage order.
  template <class P, class T>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    static_assert(Reduction::reduces,
                  "lossfn: with the None reduction, backward takes the upstream gradient: "
                  "backward(pred, target, upstream)");
    typename P::PlainObject grad(pred.rows(), pred.cols());
    fused("backward", pred, target, grad);
    return grad;
  }

  /// None: the vector-Jacobian product sum_i upstream_i d(loss_i)/dpred, upstream
  /// an m x 1 column.
  template <class P, class T, class U>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                   const Eigen::DenseBase<U>& upstream) const {
    static_assert(!Reduction::reduces,
                  "lossfn: backward(pred, target, upstream) is for the None reduction; "
                  "Sum and Mean take backward(pred, target)");
    require_same_scalar<P, U>();
    self().check_call("backward", pred, target);
    check_column_per_row(Derived::name, "backward", "pred", pred, "upstream", upstream);
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    operand_t<U> u = upstream.derived();
    self().count("backward", p, t);
    typename P::PlainObject grad(pred.rows(), pred.cols());
    UpstreamRows<std::decay_t<decltype(u)>> rows{u};
    self().run(p, t, &grad, rows);
    return grad;
  }

  /// Sum/Mean, in one pass over pred: returns the loss and writes dL/dpred into
  /// grad_out (an Array or Matrix, resized if needed, or a Map, Block or Ref of
  /// pred's shape). No heap allocation when grad_out has the shape already.
  template <class P, class T, class G>
  scalar_t<P> forward_backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                               const Eigen::DenseBase<G>& grad_out) const {
    static_assert(Reduction::reduces,
                  "lossfn: forward_backward needs a reducing policy (Sum or Mean); with None, "
                  "call forward and backward(pred, target, upstream)");
    return fused("forward_backward", pred, target, grad_out);
  }

  /// Same as forward.
  template <class P, class T>
  auto operator()(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return forward(pred, target);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }

  /// Mean's factor; 0 when nothing counts (every sample ignored): loss 0, gradient 0.
  template <class A>
  static A scale_for(double divisor) {
    if constexpr (Reduction::divides_by_count) {
      return divisor > 0 ? A(1) / static_cast<A>(divisor) : A(0);
    } else {
      static_cast<void>(divisor);
      return A(1);
    }
  }

  template <class P, class T, class G>
  scalar_t<P> fused(const char* function, const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                    const Eigen::DenseBase<G>& grad_out) const {
    require_same_scalar<P, G>();
    using S = scalar_t<P>;
    using Acc = accumulator_t<S>;
    self().check_call(function, pred, target);
    check_terms<Reduction>(Derived::name, function, pred.rows());
    check_output(Derived::name, function, "grad_out", grad_out, "pred", pred.rows(), pred.cols());
    operand_t<P> p = pred.derived();
    operand_t<T> t = target.derived();
    const Acc scale = scale_for<Acc>(self().count(function, p, t));
    G& grad = prepare_output(grad_out, pred.rows(), pred.cols());
    TotalRows<S> rows{static_cast<S>(scale)};
    self().run(p, t, &grad, rows);
    return static_cast<S>(rows.total * scale);
  }
};

}  // namespace detail
}  // namespace lossfn
