/// @file
/// The kernel instantiations that the compiled-kernels build (the `lossfn::kernels`
/// library, CMake option LOSSFN_BUILD_KERNELS) compiles once, in src/kernels/.
///
/// The kernels see only canonical views (detail/view.hpp), so their instantiations
/// form a finite set per scalar type. With LOSSFN_COMPILED_KERNELS defined, each
/// loss header expands its list below as `extern template` declarations: a unit
/// that calls the loss then compiles only the thin driver around the kernel and
/// links the kernel body from lossfn::kernels. src/kernels/*.cpp expand the same
/// lists as explicit instantiation definitions. Without the macro this header is
/// not included and the library stays header-only.
///
/// A call whose types are not listed (for CrossEntropy and KLDivergence: long
/// double, a pred with a non-unit inner stride, an integer target type other than
/// int and Eigen::Index, a target or gradient in the other storage order than
/// pred; Contrastive) still compiles its kernel in place, as header-only: a list
/// only decides what is compiled once.
///
/// Lists are X-macros, one per kernel family and loss: each entry is X(arguments)
/// with the arguments of that family's expansion macro, so one list serves both
/// the declarations (LOSSFN_DETAIL_EXTERN_*) and the definitions
/// (LOSSFN_DETAIL_INSTANTIATE_*). The expansions name the loss's kernel types, so
/// a list is expanded only where the loss is defined (the end of its header).
#pragma once

#include <Eigen/Core>

#include <array>

#include "view.hpp"

namespace lossfn {
namespace detail {

/// The type T written in parentheses, (T), so that a type with commas passes
/// through a macro argument: LOSSFN_DETAIL_TYPE((A<B, C>)) is A<B, C>.
template <class T>
struct parenthesized_type;
template <class T>
struct parenthesized_type<void(T)> {
  using type = T;
};

/// The ordered views (view.hpp) of a plain Array of scalar S in storage order O,
/// or of a column of S: what pred, soft targets, index targets, the gradient, the
/// None losses and the upstream column of the common wrapper types become.
template <class S, int O>
using ordered_view_t = typename ordered_view_traits<Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, O>>::view;
template <class S, int O>
using ordered_mut_view_t =
    typename ordered_view_traits<Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, O>>::mutable_view;
template <class S>
using column_view_t = typename ordered_view_traits<Eigen::Array<S, Eigen::Dynamic, 1>>::view;
template <class S>
using column_mut_view_t = typename ordered_view_traits<Eigen::Array<S, Eigen::Dynamic, 1>>::mutable_view;

}  // namespace detail
}  // namespace lossfn

/// @cond LOSSFN_KERNEL_LISTS (internal macros, out of the API reference)
#define LOSSFN_DETAIL_TYPE(T) typename ::lossfn::detail::parenthesized_type<void T>::type

/// Expands a loss's list (LOSSFN_DETAIL_KERNELS_<LOSS>) as extern template
/// declarations, at namespace scope after the loss's definition.
#define LOSSFN_DETAIL_EXTERN_KERNELS(LOSS) \
  namespace lossfn {                       \
  namespace detail {                       \
  LOSSFN_DETAIL_KERNELS_##LOSS(extern)     \
  }                                        \
  }

// ---- the elementwise family (detail/elementwise.hpp) ----------------------------
//
// run_elementwise<accumulator_t<S>> over TermOp<OfError<Math>, S, ...>, Math the
// loss's shared_math (MSE<Sum> for every MSE, Huber<R> per reduction since Huber
// carries delta), for float, double and long double. REDUCED: the five programs
// of Sum and Mean (total, total_and_gradient, gradient, hessian,
// total_gradient_and_hessian); PER_TERM: the three of None (terms_of, vjp,
// vjp_hessian); each unweighted and weighted (one more input: the weights).

#define LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, SUMS, EMIT, WEIGHTED, NI, NO)                       \
  E template accumulator_t<S> run_elementwise<accumulator_t<S>>(                                     \
      const TermOp<OfError<MATH>, S, SUMS, Emit::EMIT, WEIGHTED>&, const std::array<view_t<S>, NI>&, \
      std::array<mut_view_t<S>, NO>);
#define LOSSFN_DETAIL_ELEMENTWISE_REDUCED_OF(E, S, MATH, WEIGHTED, NI)               \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, true, nothing, WEIGHTED, NI, 0)           \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, true, scaled_slope, WEIGHTED, NI, 1)      \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, scaled_slope, WEIGHTED, NI, 1)     \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, scaled_curvature, WEIGHTED, NI, 1) \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, true, scaled_slope_curvature, WEIGHTED, NI, 2)
#define LOSSFN_DETAIL_ELEMENTWISE_REDUCED(E, S, MATH)        \
  LOSSFN_DETAIL_ELEMENTWISE_REDUCED_OF(E, S, MATH, false, 2) \
  LOSSFN_DETAIL_ELEMENTWISE_REDUCED_OF(E, S, MATH, true, 3)
#define LOSSFN_DETAIL_ELEMENTWISE_PER_TERM(E, S, MATH)                             \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, value, false, 2, 1)              \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, upstream_slope, false, 3, 1)     \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, upstream_curvature, false, 3, 1) \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, value, true, 3, 1)               \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, upstream_slope, true, 4, 1)      \
  LOSSFN_DETAIL_ELEMENTWISE_OP(E, S, MATH, false, upstream_curvature, true, 4, 1)
/// Every reduction of a loss with options (its math is per reduction).
#define LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, S, LOSS)  \
  LOSSFN_DETAIL_ELEMENTWISE_REDUCED(E, S, LOSS<Sum>)          \
  LOSSFN_DETAIL_ELEMENTWISE_REDUCED(E, S, LOSS<Mean>)         \
  LOSSFN_DETAIL_ELEMENTWISE_REDUCED(E, S, LOSS<WeightedMean>) \
  LOSSFN_DETAIL_ELEMENTWISE_PER_TERM(E, S, LOSS<None>)
/// A loss without options: one math, L<Sum>, for every reduction.
#define LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, S, LOSS) \
  LOSSFN_DETAIL_ELEMENTWISE_REDUCED(E, S, LOSS<Sum>) \
  LOSSFN_DETAIL_ELEMENTWISE_PER_TERM(E, S, LOSS<Sum>)

#define LOSSFN_DETAIL_KERNELS_MSE(E)               \
  LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, float, MSE)  \
  LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, double, MSE) \
  LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, long double, MSE)
#define LOSSFN_DETAIL_KERNELS_MAE(E)               \
  LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, float, MAE)  \
  LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, double, MAE) \
  LOSSFN_DETAIL_ELEMENTWISE_SHARED(E, long double, MAE)
#define LOSSFN_DETAIL_KERNELS_HUBER(E)                       \
  LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, float, Huber)  \
  LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, double, Huber) \
  LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, long double, Huber)
#define LOSSFN_DETAIL_KERNELS_SMOOTH_L1(E)                      \
  LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, float, SmoothL1)  \
  LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, double, SmoothL1) \
  LOSSFN_DETAIL_ELEMENTWISE_ALL_REDUCTIONS(E, long double, SmoothL1)

// ---- RMSE (rmse.hpp) ------------------------------------------------------------
//
// Its sum of squares is MSE<Sum>'s total (in MSE's list: rmse.hpp includes
// mse.hpp); its own are the two gradient passes and the two Hessian passes, each
// unweighted (NI 2) and weighted (NI 3).

#define LOSSFN_DETAIL_RMSE_PASSES_OF(E, S, W, NI)                                                           \
  E template accumulator_t<S> run_elementwise<accumulator_t<S>>(                                            \
      const RmseScaledError<S, false, W>&, const std::array<view_t<S>, NI>&, std::array<mut_view_t<S>, 1>); \
  E template accumulator_t<S> run_elementwise<accumulator_t<S>>(                                            \
      const RmseScaledError<S, true, W>&, const std::array<view_t<S>, NI>&, std::array<mut_view_t<S>, 1>);  \
  E template accumulator_t<S> run_elementwise<accumulator_t<S>>(                                            \
      const RmseCurvature<S, false, W>&, const std::array<view_t<S>, NI>&, std::array<mut_view_t<S>, 1>);   \
  E template accumulator_t<S> run_elementwise<accumulator_t<S>>(                                            \
      const RmseCurvature<S, true, W>&, const std::array<view_t<S>, NI>&, std::array<mut_view_t<S>, 2>);
#define LOSSFN_DETAIL_RMSE_PASSES(E, S)        \
  LOSSFN_DETAIL_RMSE_PASSES_OF(E, S, false, 2) \
  LOSSFN_DETAIL_RMSE_PASSES_OF(E, S, true, 3)
#define LOSSFN_DETAIL_KERNELS_RMSE(E)  \
  LOSSFN_DETAIL_RMSE_PASSES(E, float)  \
  LOSSFN_DETAIL_RMSE_PASSES(E, double) \
  LOSSFN_DETAIL_RMSE_PASSES(E, long double)

// ---- the row-wise softmax family (detail/softmax.hpp): CrossEntropy, KLDivergence ----
//
// Written against rowwise_kernel(Input, z, dense, sparse, grad, hess, rows) as of
// this commit; regenerate this block when that signature changes. One entry per
// (scalar S, storage order O of pred, target and outputs, dense part, sparse part),
// each expanded into the seven (gradient, Hessian, row sink) triples the public
// calls use: forward of Sum/Mean, forward of None, backward and forward_backward of
// Sum/Mean, backward of None, forward_backward_hessian of Sum/Mean,
// hessian_diagonal of Sum/Mean, hessian_diagonal of None. pred with a unit inner
// stride; index targets of int and Eigen::Index.

#define LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, GRAD, HESS, ROWS)                     \
  E template void rowwise_kernel(Input, const ordered_view_t<S, O>&, LOSSFN_DETAIL_TYPE(DENSE)&, \
                                 const LOSSFN_DETAIL_TYPE(SPARSE)&, LOSSFN_DETAIL_TYPE(GRAD)*,   \
                                 LOSSFN_DETAIL_TYPE(HESS)*, LOSSFN_DETAIL_TYPE(ROWS)&);
#define LOSSFN_DETAIL_ROWWISE(E, S, O, DENSE, SPARSE)                                                        \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (NoGrad), (NoGrad), (TotalRows<S>))                     \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (NoGrad), (NoGrad), (ColumnRows<column_mut_view_t<S>>)) \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (ordered_mut_view_t<S, O>), (NoGrad), (TotalRows<S>))   \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (ordered_mut_view_t<S, O>), (NoGrad),                   \
                             (UpstreamRows<column_view_t<S>>))                                               \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (ordered_mut_view_t<S, O>), (ordered_mut_view_t<S, O>), \
                             (TotalRows<S>))                                                                 \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (NoGrad), (ordered_mut_view_t<S, O>), (TotalRows<S>))   \
  LOSSFN_DETAIL_ROWWISE_CALL(E, S, O, DENSE, SPARSE, (NoGrad), (ordered_mut_view_t<S, O>),                   \
                             (UpstreamRows<column_view_t<S>>))

/// CrossEntropy over class indices of type I: no smoothing, smoothing, smoothing
/// with class weights.
#define LOSSFN_DETAIL_CROSS_ENTROPY_INDEX(E, S, O, I)                                          \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (NoDense), (IndexSparse<column_view_t<I>, S>))                \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (SmoothingDense<IndexSparse<column_view_t<I>, S>, S, false>), \
                        (IndexSparse<column_view_t<I>, S>))                                    \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (SmoothingDense<IndexSparse<column_view_t<I>, S>, S, true>),  \
                        (IndexSparse<column_view_t<I>, S>))
/// CrossEntropy of one scalar and storage order: index targets, then probability
/// targets (without and with class weights).
#define LOSSFN_DETAIL_CROSS_ENTROPY_OF(E, S, O)                                           \
  LOSSFN_DETAIL_CROSS_ENTROPY_INDEX(E, S, O, int)                                         \
  LOSSFN_DETAIL_CROSS_ENTROPY_INDEX(E, S, O, Eigen::Index)                                \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (SoftDense<ordered_view_t<S, O>, S, false>), (NoSparse)) \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (SoftDense<ordered_view_t<S, O>, S, true>), (NoSparse))
/// KLDivergence of one scalar and storage order: P as probabilities, as log P.
#define LOSSFN_DETAIL_KL_DIVERGENCE_OF(E, S, O)                                         \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (KLDense<ordered_view_t<S, O>, S, false>), (NoSparse)) \
  LOSSFN_DETAIL_ROWWISE(E, S, O, (KLDense<ordered_view_t<S, O>, S, true>), (NoSparse))

#define LOSSFN_DETAIL_KERNELS_CROSS_ENTROPY(E)               \
  LOSSFN_DETAIL_CROSS_ENTROPY_OF(E, float, Eigen::ColMajor)  \
  LOSSFN_DETAIL_CROSS_ENTROPY_OF(E, float, Eigen::RowMajor)  \
  LOSSFN_DETAIL_CROSS_ENTROPY_OF(E, double, Eigen::ColMajor) \
  LOSSFN_DETAIL_CROSS_ENTROPY_OF(E, double, Eigen::RowMajor)
#define LOSSFN_DETAIL_KERNELS_KL_DIVERGENCE(E)               \
  LOSSFN_DETAIL_KL_DIVERGENCE_OF(E, float, Eigen::ColMajor)  \
  LOSSFN_DETAIL_KL_DIVERGENCE_OF(E, float, Eigen::RowMajor)  \
  LOSSFN_DETAIL_KL_DIVERGENCE_OF(E, double, Eigen::ColMajor) \
  LOSSFN_DETAIL_KL_DIVERGENCE_OF(E, double, Eigen::RowMajor)

/// @endcond
