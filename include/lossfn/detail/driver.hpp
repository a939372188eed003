/// @file
/// The call driver: the one place that turns a public call (forward, backward,
/// backward with upstream, forward_backward) into checks, the count of terms,
/// output preparation, a kernel run over canonical views and the reduction's scale.
/// Every loss goes through it, whatever its arguments (pred and target; two
/// embeddings and labels; ...) and wherever its terms are (one per entry of pred,
/// or one per row).
///
/// A loss supplies its math as hooks the driver calls back (see Driver); the kernel
/// program sees only views (detail/view.hpp), so the wrapper types of the caller's
/// arguments stop here and the kernels are compiled once per scalar type and
/// storage pattern, not once per Array / Matrix / Map / Block / Ref mix.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "accumulate.hpp"
#include "checks.hpp"
#include "operand.hpp"
#include "view.hpp"
#include "weights.hpp"

namespace lossfn {
namespace detail {

/// Where a loss's terms are. It fixes what Mean counts, what None's forward returns
/// and the shape None's backward takes its upstream gradient in.
enum class Terms {
  per_entry,  ///< one term per entry of the first argument (MSE, Huber, ...): None returns its shape
  per_row     ///< one term per row (CrossEntropy, Contrastive, ...): None returns an m x 1 column
};

/// Placeholder for an output a call does not write.
struct Skip {};

/// What one call asks of a loss's kernel program (Loss::run):
///   Sums     whether it returns the sum of the terms (else its return value is unused)
///   TermsOut a view for None's per-term losses, or Skip
///   Factor   each term's gradient factor: the reduction's scale (the accumulation
///            type: 1 for Sum, 1/count for Mean) or None's upstream (a view)
///   Grads    a std::tuple of one writable view per differentiated input, in
///            argument order; empty when no gradient is asked for
///   Hessians the same for the Hessian diagonals (with the same factor)
///   Weights  the caller's weights, a WeightsView (a view_t of their own shape,
///            which the loss broadcasts, and the power of two that multiplies them:
///            weights.hpp), or Skip: they multiply every term and derivative
template <bool Sums, class TermsOut, class Factor, class Grads = std::tuple<>, class Hessians = std::tuple<>,
          class Weights = Skip>
struct Work {
  static constexpr bool sums = Sums;
  static constexpr bool writes_gradients = std::tuple_size<Grads>::value > 0;
  static constexpr bool writes_hessians = std::tuple_size<Hessians>::value > 0;
  static constexpr bool writes_terms = !std::is_same<TermsOut, Skip>::value;
  static constexpr bool has_upstream = !std::is_arithmetic<Factor>::value;
  static constexpr bool weighted = !std::is_same<Weights, Skip>::value;
  TermsOut terms;
  Factor factor;
  Grads grad;
  Hessians hess;
  Weights weights;
};

/// A column of one value per row, of P's kind (Array or Matrix): None's per-row terms.
template <class P>
using column_t =
    std::conditional_t<std::is_base_of<Eigen::ArrayBase<P>, P>::value, Eigen::Array<scalar_t<P>, Eigen::Dynamic, 1>,
                       Eigen::Matrix<scalar_t<P>, Eigen::Dynamic, 1>>;

/// The caller's gradient outputs of forward_backward, in argument order.
template <class... G>
std::tuple<const Eigen::DenseBase<G>&...> outputs(const Eigen::DenseBase<G>&... g) {
  return std::tuple<const Eigen::DenseBase<G>&...>(g...);
}

/// The driver. A Loss provides
///   name, reduction                       its name in messages, its reduction policy
///   static constexpr Terms terms          where its terms are
///   static constexpr const char* first    the name of its first argument in messages ("pred", "x1")
///   static constexpr std::array<const char*, N> gradient_names, hessian_names
///                                          the output names of forward_backward and
///                                          forward_backward_hessian: N = the number of
///                                          differentiated inputs (the first N arguments,
///                                          all of the first one's shape)
///   template <class P> using gradients    what backward returns for N > 1 (an aggregate of N P's)
/// and these hooks, private with `friend struct detail::Driver`:
///   void check(const char* function, const Eigen::DenseBase<A>&... args) const
///       the compile-time and shape checks of its arguments
///   auto inputs(const operand_t<A>&... ops) const
///       the views its kernel reads (ops live for the whole call)
///   double count(const char* function, const In& in, const WeightsView<S>* weights) const
///       the O(m) checks that read values (labels, class indices), and what Mean
///       divides by (weights null) or WeightedMean divides by (the weights given,
///       each times weights->multiplier: their sum over the counted terms); 0 makes
///       the loss and every derivative 0
///   static auto output_view(G& out), static auto upstream_view(const U& upstream)
///       the views of its outputs (gradients, Hessian diagonals, None's terms) and of
///       None's upstream
///   Acc run(const In& in, const Work<...>& work) const
///       the kernel program (Acc = accumulator_t of the scalar)
///   optionally static Acc finish(Acc total, Acc scale)
///       the reduced loss from the sum of the terms (default total x scale; RMSE's root)
/// The Hessian calls need hessian_names and a run that writes Work::hess. Every check
/// runs before anything is written.
///
/// Every call takes the caller's weights as its second argument, `Wt`: NoWeights, or
/// lossfn::Weights (shape checked against the first argument: one per term for
/// Terms::per_entry also pred's shape or one per column; values checked finite and
/// >= 0 before any output is written).
struct Driver {
  /// Sum/Mean: the reduced loss. None: the per-term losses (first argument's shape,
  /// or a column per row).
  template <class Loss, class Wt, class... A>
  static auto forward(const Loss& loss, const Wt& weights, const Eigen::DenseBase<A>&... args) {
    using R = typename Loss::reduction;
    using P = first_t<A...>;
    using S = scalar_t<P>;
    using Acc = accumulator_t<S>;
    const auto& x = first_of(args...);
    checks<Loss>(loss, "forward", weights, args...);
    check_terms<R>(Loss::name, "forward", term_count<Loss>(x));
    return with_inputs(
        loss, "forward", weights,
        [&](const auto& in, double count, const auto& w) {
          using Wv = std::decay_t<decltype(w)>;
          const Acc scale = scale_for<R, Acc>(count, w);
          if constexpr (R::reduces) {
            const Acc total = loss.run(in, Work<true, Skip, Acc, std::tuple<>, std::tuple<>, Wv>{{}, scale, {}, {}, w});
            return static_cast<S>(finish<Loss>(total, scale));
          } else {
            auto terms = per_term<Loss, P>(x);
            const auto terms_view = Loss::output_view(terms);
            using T = std::decay_t<decltype(terms_view)>;
            loss.run(in, Work<false, T, Acc, std::tuple<>, std::tuple<>, Wv>{terms_view, scale, {}, {}, w});
            return terms;
          }
        },
        args...);
  }

  /// Sum/Mean: the gradient of every differentiated input (one plain object of the
  /// first argument's type, or the loss's gradients aggregate).
  template <class Loss, class Wt, class... A>
  static auto backward(const Loss& loss, const Wt& weights, const Eigen::DenseBase<A>&... args) {
    return derivatives<Loss, Derivative::gradient>(loss, "backward", weights, args...);
  }

  /// None: the vector-Jacobian products sum_i upstream_i d(term_i)/d(input), upstream
  /// of the terms' shape.
  template <class Loss, class Wt, class U, class... A>
  static auto backward_upstream(const Loss& loss, const Wt& weights, const Eigen::DenseBase<U>& upstream,
                                const Eigen::DenseBase<A>&... args) {
    return derivatives_upstream<Loss, Derivative::gradient>(loss, "backward", weights, upstream, args...);
  }

  /// Sum/Mean: the diagonal of the Hessian of the reduced loss for every
  /// differentiated input (as backward returns its gradients).
  template <class Loss, class Wt, class... A>
  static auto hessian(const Loss& loss, const Wt& weights, const Eigen::DenseBase<A>&... args) {
    return derivatives<Loss, Derivative::hessian>(loss, "hessian_diagonal", weights, args...);
  }

  /// None: the diagonal of the Hessian of sum_i upstream_i term_i.
  template <class Loss, class Wt, class U, class... A>
  static auto hessian_upstream(const Loss& loss, const Wt& weights, const Eigen::DenseBase<U>& upstream,
                               const Eigen::DenseBase<A>&... args) {
    return derivatives_upstream<Loss, Derivative::hessian>(loss, "hessian_diagonal", weights, upstream, args...);
  }

  /// Sum/Mean, in one pass: returns the loss and writes the gradients into the
  /// caller's outputs (Arrays or Matrices, resized if needed, or Maps, Blocks or
  /// Refs of the first argument's shape). No heap allocation for outputs of that
  /// shape and inputs with direct access.
  template <class Loss, class Wt, class... G, class... A>
  static auto forward_backward(const Loss& loss, const Wt& weights,
                               const std::tuple<const Eigen::DenseBase<G>&...>& grads,
                               const Eigen::DenseBase<A>&... args) {
    return fused(loss, "forward_backward", weights, grads, std::tuple<>{}, args...);
  }

  /// Sum/Mean, in one pass: forward_backward that also writes the Hessian diagonals.
  template <class Loss, class Wt, class... G, class... H, class... A>
  static auto forward_backward_hessian(const Loss& loss, const Wt& weights,
                                       const std::tuple<const Eigen::DenseBase<G>&...>& grads,
                                       const std::tuple<const Eigen::DenseBase<H>&...>& hessians,
                                       const Eigen::DenseBase<A>&... args) {
    static_assert(sizeof...(H) == Loss::hessian_names.size(), "lossfn internal: one Hessian output per input");
    return fused(loss, "forward_backward_hessian", weights, grads, hessians, args...);
  }

  /// What a reduction that divides (Mean, WeightedMean) divides by for these
  /// arguments: the number of terms, or what the loss's count says (CrossEntropy:
  /// the summed class weights of the counted samples; WeightedMean: the summed
  /// weights of the counted terms), in the accumulation type. Same checks as
  /// forward, except that no terms is not an error: an empty shard's denominator is 0.
  template <class Loss, class Wt, class... A>
  static auto denominator(const Loss& loss, const Wt& weights, const Eigen::DenseBase<A>&... args) {
    static_assert(Loss::reduction::divides_by_count,
                  "lossfn: denominator() is for a reduction that divides (Mean, WeightedMean): shards run Sum, "
                  "then divide by the summed denominators");
    using Acc = accumulator_t<scalar_t<first_t<A...>>>;
    checks<Loss>(loss, "denominator", weights, args...);
    return with_inputs(
        loss, "denominator", weights,
        [](const auto&, double count, const auto& w) {
          // the count of the weights as given: undo a tiny-weights multiplier (a power of two, exact)
          if constexpr (std::is_same<std::decay_t<decltype(w)>, Skip>::value) {
            return static_cast<Acc>(count);
          } else {
            return static_cast<Acc>(count) / static_cast<Acc>(w.multiplier);
          }
        },
        args...);
  }

 private:
  enum class Derivative { gradient, hessian };

  template <class First, class... Rest>
  struct first_type {
    using type = First;
  };
  template <class... A>
  using first_t = typename first_type<A...>::type;

  template <class First, class... Rest>
  static const First& first_of(const First& first, const Rest&...) {
    return first;
  }

  template <class Loss, class X>
  static Eigen::Index term_count(const Eigen::DenseBase<X>& x) {
    return Loss::terms == Terms::per_entry ? x.size() : x.rows();
  }

  /// Mean's factor: 1 / count, and 0 when nothing counts (CrossEntropy with every
  /// sample ignored: loss 0, gradient 0); Sum's: 1.
  /// WeightedMean's count is of the weights times their multiplier (WeightsView), as
  /// the kernels read them.
  template <class R, class Acc, class Wv>
  static Acc scale_for(double count, const Wv& /*weights*/) {
    if constexpr (R::divides_by_count) {
      return count > 0 ? Acc(1) / static_cast<Acc>(count) : Acc(0);
    } else {
      static_cast<void>(count);
      return Acc(1);
    }
  }

  template <class L, class = void>
  struct has_finish : std::false_type {};
  template <class L>
  struct has_finish<L, std::void_t<decltype(L::finish(0.0, 0.0))>> : std::true_type {};

  template <class Loss, class Acc>
  static Acc finish(Acc total, Acc scale) {
    if constexpr (has_finish<Loss>::value) {
      return Loss::finish(total, scale);
    } else {
      return total * scale;
    }
  }

  /// The checks of a call that read no values: the loss's own (shapes, compile-time
  /// rules), then the weights' shape and scalar type.
  template <class Loss, class Wt, class... A>
  static void checks(const Loss& loss, const char* function, const Wt& weights, const Eigen::DenseBase<A>&... args) {
    loss.check(function, args...);
    if constexpr (!std::is_same<Wt, NoWeights>::value) {
      using W = std::decay_t<decltype(weights.get().derived())>;
      static_assert(same_scalar<first_t<A...>, W>::value);
      check_weights_shape(Loss::name, function, Loss::terms == Terms::per_entry, Loss::first, first_of(args...),
                          weights.get());
    }
  }

  /// Holds the operands for the whole call (an expression argument evaluated once),
  /// checks the weights' values, takes the loss's views and count (the summed
  /// weights for WeightedMean), and runs body(in, count, w), w the weights' view_t
  /// or Skip.
  template <class Loss, class Wt, class Body, class... A>
  static auto with_inputs(const Loss& loss, const char* function, const Wt& weights, Body&& body,
                          const Eigen::DenseBase<A>&... args) {
    using S = scalar_t<first_t<A...>>;
    const std::tuple<operand_t<A>...> operands(args.derived()...);
    const auto in = std::apply([&loss](const auto&... op) { return loss.inputs(op...); }, operands);
    if constexpr (std::is_same<Wt, NoWeights>::value) {
      static_cast<void>(weights);
      return body(in, loss.count(function, in, static_cast<const WeightsView<S>*>(nullptr)), Skip{});
    } else {
      using W = std::decay_t<decltype(weights.get().derived())>;
      operand_t<W> w = weights.get().derived();
      const view_t<S> w_view = view_of(w);
      const S largest = check_weight_values(Loss::name, function, w_view);
      const bool by_weights = divides_by_weights<typename Loss::reduction>::value;
      const WeightsView<S> weights_view{w_view, by_weights ? weight_multiplier<S>(largest) : S(1)};
      // WeightedMean: the summed weights, each times the multiplier (1 but for tiny weights)
      return body(in, loss.count(function, in, by_weights ? &weights_view : nullptr), weights_view);
    }
  }

  /// None's per-term output: the first argument's plain type, or a column per row.
  template <class Loss, class P, class X>
  static auto per_term(const X& x) {
    if constexpr (Loss::terms == Terms::per_entry) {
      typename P::PlainObject terms(x.rows(), x.cols());
      return terms;
    } else {
      column_t<P> terms(x.rows());
      return terms;
    }
  }

  /// The Work of a call that writes one kind of derivative into outs (a tuple of views).
  template <Derivative D, bool Sums, class Factor, class Outs, class Wv>
  static auto derivative_work(const Factor& factor, const Outs& outs, const Wv& w) {
    if constexpr (D == Derivative::gradient) {
      return Work<Sums, Skip, Factor, Outs, std::tuple<>, Wv>{{}, factor, outs, {}, w};
    } else {
      return Work<Sums, Skip, Factor, std::tuple<>, Outs, Wv>{{}, factor, {}, outs, w};
    }
  }

  template <class Loss, class... G>
  static auto views(G&... out) {
    return std::make_tuple(Loss::output_view(out)...);
  }

  /// backward and hessian_diagonal of Sum and Mean.
  template <class Loss, Derivative D, class Wt, class... A>
  static auto derivatives(const Loss& loss, const char* function, const Wt& weights,
                          const Eigen::DenseBase<A>&... args) {
    using R = typename Loss::reduction;
    static_assert(R::reduces,
                  "lossfn: with the None reduction, backward takes the upstream gradient as its last argument (and "
                  "so does hessian_diagonal)");
    using P = first_t<A...>;
    using Acc = accumulator_t<scalar_t<P>>;
    const auto& x = first_of(args...);
    checks<Loss>(loss, function, weights, args...);
    check_terms<R>(Loss::name, function, term_count<Loss>(x));
    return with_inputs(
        loss, function, weights,
        [&](const auto& in, double count, const auto& w) {
          const Acc scale = scale_for<R, Acc>(count, w);
          return allocated<Loss, P>(
              x, [&](auto&... out) { loss.run(in, derivative_work<D, false>(scale, views<Loss>(out...), w)); });
        },
        args...);
  }

  /// backward and hessian_diagonal of None, with the upstream gradient.
  template <class Loss, Derivative D, class Wt, class U, class... A>
  static auto derivatives_upstream(const Loss& loss, const char* function, const Wt& weights,
                                   const Eigen::DenseBase<U>& upstream, const Eigen::DenseBase<A>&... args) {
    static_assert(!Loss::reduction::reduces,
                  "lossfn: the upstream gradient is for the None reduction; Sum and Mean take backward and "
                  "hessian_diagonal without it");
    using P = first_t<A...>;
    static_assert(same_scalar<P, U>::value);
    const auto& x = first_of(args...);
    checks<Loss>(loss, function, weights, args...);
    if constexpr (Loss::terms == Terms::per_entry) {
      check_same_shape(Loss::name, function, Loss::first, x, "upstream", upstream);
    } else {
      check_column_per_row(Loss::name, function, Loss::first, x, "upstream", upstream);
    }
    operand_t<U> u = upstream.derived();
    const auto factor = Loss::upstream_view(u);
    return with_inputs(
        loss, function, weights,
        [&](const auto& in, double, const auto& w) {
          return allocated<Loss, P>(
              x, [&](auto&... out) { loss.run(in, derivative_work<D, false>(factor, views<Loss>(out...), w)); });
        },
        args...);
  }

  /// forward_backward and forward_backward_hessian.
  template <class Loss, class Wt, class... G, class... H, class... A>
  static auto fused(const Loss& loss, const char* function, const Wt& weights,
                    const std::tuple<const Eigen::DenseBase<G>&...>& grads,
                    const std::tuple<const Eigen::DenseBase<H>&...>& hessians, const Eigen::DenseBase<A>&... args) {
    using R = typename Loss::reduction;
    static_assert(R::reduces,
                  "lossfn: forward_backward needs a reducing policy (Sum or Mean); with None, "
                  "call forward and backward with the upstream gradient");
    static_assert(sizeof...(G) == Loss::gradient_names.size(), "lossfn internal: one gradient output per input");
    using P = first_t<A...>;
    using S = scalar_t<P>;
    using Acc = accumulator_t<S>;
    static_assert((same_scalar<P, G>::value && ...));
    static_assert((same_scalar<P, H>::value && ...));
    const auto& x = first_of(args...);
    checks<Loss>(loss, function, weights, args...);
    check_terms<R>(Loss::name, function, term_count<Loss>(x));
    check_outputs<Loss>(function, Loss::gradient_names, grads, x, std::index_sequence_for<G...>{});
    if constexpr (sizeof...(H) > 0) {
      check_outputs<Loss>(function, Loss::hessian_names, hessians, x, std::index_sequence_for<H...>{});
    }
    return with_inputs(
        loss, function, weights,
        [&](const auto& in, double count, const auto& w) {
          const Acc scale = scale_for<R, Acc>(count, w);
          auto g = prepared<Loss>(grads, x, std::index_sequence_for<G...>{});
          auto h = prepared<Loss>(hessians, x, std::index_sequence_for<H...>{});
          using Wv = std::decay_t<decltype(w)>;
          const Acc total = loss.run(in, Work<true, Skip, Acc, decltype(g), decltype(h), Wv>{{}, scale, g, h, w});
          return static_cast<S>(finish<Loss>(total, scale));
        },
        args...);
  }

  /// Allocates the derivatives of backward or hessian_diagonal (of the first
  /// argument's shape and plain type), lets fill write them, returns one or the
  /// loss's aggregate of them.
  template <class Loss, class P, class X, class Fill>
  static auto allocated(const X& x, Fill&& fill) {
    constexpr std::size_t n = Loss::gradient_names.size();
    return allocated_of<Loss, P>(x, fill, std::make_index_sequence<n>{});
  }
  template <class Loss, class P, class X, class Fill, std::size_t... I>
  static auto allocated_of(const X& x, Fill& fill, std::index_sequence<I...>) {
    std::array<typename P::PlainObject, sizeof...(I)> out;
    for (auto& o : out) o.resize(x.rows(), x.cols());
    fill(out[I]...);
    if constexpr (sizeof...(I) == 1) {
      return std::move(out[0]);
    } else {
      return typename Loss::template gradients<typename P::PlainObject>{std::move(out[I])...};
    }
  }

  template <class Loss, class Names, class Outs, class X, std::size_t... I>
  static void check_outputs(const char* function, const Names& names, const Outs& outs, const X& x,
                            std::index_sequence<I...>) {
    (check_output(Loss::name, function, names[I], std::get<I>(outs), Loss::first, x.rows(), x.cols()), ...);
  }

  /// The caller's outputs, resized if needed (after every check), as views.
  template <class Loss, class Outs, class X, std::size_t... I>
  static auto prepared(const Outs& outs, const X& x, std::index_sequence<I...>) {
    return std::make_tuple(Loss::output_view(prepare_output(std::get<I>(outs), x.rows(), x.cols()))...);
  }
};

/// The public calls of a loss called as (pred, target) (the elementwise losses,
/// CrossEntropy, KLDivergence), each a line into the driver, without and with
/// lossfn::weights(w) after the target. Derived supplies the driver's hooks (see
/// Driver).
///
/// @tparam Derived the loss (CRTP)
/// @tparam Reduction Sum, Mean, WeightedMean or None
template <class Derived, class Reduction>
class PredTargetCalls {
 public:
  /// The reduction policy.
  using reduction = Reduction;

  /// Sum/Mean: the reduced loss (a scalar of pred's type). None: the per-term
  /// losses (pred's shape and kind for the elementwise losses, a column of one loss
  /// per row for the row-wise ones).
  template <class P, class T>
  auto forward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return Driver::forward(self(), NoWeights{}, pred, target);
  }
  /// forward with weights (docs/weights.md): each term's loss times its weight;
  /// None returns the weighted terms.
  template <class P, class T, class W>
  auto forward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target, const Weights<W>& weights) const {
    return Driver::forward(self(), weights, pred, target);
  }

  /// Sum/Mean: dL/dpred, of pred's shape, kind and storage order.
  template <class P, class T>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return Driver::backward(self(), NoWeights{}, pred, target);
  }
  /// backward with weights.
  template <class P, class T, class W>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                   const Weights<W>& weights) const {
    return Driver::backward(self(), weights, pred, target);
  }

  /// None: the vector-Jacobian product sum_i upstream_i d(term_i)/dpred; upstream
  /// has the shape of forward's None result.
  template <class P, class T, class U>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                   const Eigen::DenseBase<U>& upstream) const {
    return Driver::backward_upstream(self(), NoWeights{}, upstream, pred, target);
  }
  /// None with weights: sum_i upstream_i d(w_i term_i)/dpred.
  template <class P, class T, class W, class U>
  typename P::PlainObject backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                   const Weights<W>& weights, const Eigen::DenseBase<U>& upstream) const {
    return Driver::backward_upstream(self(), weights, upstream, pred, target);
  }

  /// Sum/Mean, in one pass: returns the loss and writes dL/dpred into grad_out
  /// (an Array or Matrix, resized if needed, or a Map, Block or Ref of pred's
  /// shape). No heap allocation when grad_out has the shape already.
  template <class P, class T, class G>
  scalar_t<P> forward_backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                               const Eigen::DenseBase<G>& grad_out) const {
    return Driver::forward_backward(self(), NoWeights{}, outputs(grad_out), pred, target);
  }
  /// forward_backward with weights.
  template <class P, class T, class W, class G>
  scalar_t<P> forward_backward(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                               const Weights<W>& weights, const Eigen::DenseBase<G>& grad_out) const {
    return Driver::forward_backward(self(), weights, outputs(grad_out), pred, target);
  }

  /// Sum/Mean: the diagonal of the Hessian of the reduced loss in pred, of pred's
  /// shape, kind and storage order (docs/hessian.md).
  template <class P, class T>
  typename P::PlainObject hessian_diagonal(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return Driver::hessian(self(), NoWeights{}, pred, target);
  }
  /// hessian_diagonal with weights.
  template <class P, class T, class W>
  typename P::PlainObject hessian_diagonal(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                           const Weights<W>& weights) const {
    return Driver::hessian(self(), weights, pred, target);
  }

  /// None: the diagonal of the Hessian of sum_i upstream_i term_i.
  template <class P, class T, class U>
  typename P::PlainObject hessian_diagonal(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                           const Eigen::DenseBase<U>& upstream) const {
    return Driver::hessian_upstream(self(), NoWeights{}, upstream, pred, target);
  }
  /// None with weights: the diagonal of the Hessian of sum_i upstream_i w_i term_i.
  template <class P, class T, class W, class U>
  typename P::PlainObject hessian_diagonal(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                           const Weights<W>& weights, const Eigen::DenseBase<U>& upstream) const {
    return Driver::hessian_upstream(self(), weights, upstream, pred, target);
  }

  /// Sum/Mean: returns the loss, writes dL/dpred into grad_out and the Hessian
  /// diagonal into hess_out (each as forward_backward's grad_out). No heap
  /// allocation when both have pred's shape.
  template <class P, class T, class G, class H>
  scalar_t<P> forward_backward_hessian(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                       const Eigen::DenseBase<G>& grad_out, const Eigen::DenseBase<H>& hess_out) const {
    return Driver::forward_backward_hessian(self(), NoWeights{}, outputs(grad_out), outputs(hess_out), pred, target);
  }
  /// forward_backward_hessian with weights.
  template <class P, class T, class W, class G, class H>
  scalar_t<P> forward_backward_hessian(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                       const Weights<W>& weights, const Eigen::DenseBase<G>& grad_out,
                                       const Eigen::DenseBase<H>& hess_out) const {
    return Driver::forward_backward_hessian(self(), weights, outputs(grad_out), outputs(hess_out), pred, target);
  }

  /// Mean: what it divides by for these inputs (the number of terms; CrossEntropy
  /// with class indices: the summed class weights of the samples not ignored), in
  /// the accumulation type, 0 for an empty input: for sharded batches
  /// (docs/sharding.md).
  template <class P, class T>
  accumulator_t<scalar_t<P>> denominator(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return Driver::denominator(self(), NoWeights{}, pred, target);
  }
  /// denominator with weights: WeightedMean's summed weights of the counted terms
  /// (Mean's count does not depend on them; they are checked all the same).
  template <class P, class T, class W>
  accumulator_t<scalar_t<P>> denominator(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target,
                                         const Weights<W>& weights) const {
    return Driver::denominator(self(), weights, pred, target);
  }

  /// Same as forward.
  template <class P, class T>
  auto operator()(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target) const {
    return forward(pred, target);
  }
  /// Same as forward with weights.
  template <class P, class T, class W>
  auto operator()(const Eigen::DenseBase<P>& pred, const Eigen::DenseBase<T>& target, const Weights<W>& weights) const {
    return forward(pred, target, weights);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace lossfn
