/// @file
/// The per-row statistics kernel: for the losses whose terms depend on a row only
/// through a few sums over that row (row distances, Dice and Jaccard over spatial
/// positions, cosine similarity). A block of rows at a time: first K row sums in
/// the accumulation type, then a per-entry apply that writes the gradients from
/// each row's statistics while the block is still in cache.
///
/// The sums are described at compile time by a Sums type:
///   static constexpr std::size_t count = K;
///   static constexpr std::array<bool, K> negative_terms;   per sum: may a term be < 0?
///   template <std::size_t I, class... X> static auto term(const X&... x);
/// term\<I\> maps pieces of the inputs' rows (entry-wise array expressions of equal
/// shape, one per input view) to the entry-wise terms of sum I.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "accumulate.hpp"

namespace lossfn {
namespace detail {

/// One value per row of a block: dynamic size, at most N, on the stack (no heap).
template <class T, int N>
using RowBuffer = Eigen::Array<T, Eigen::Dynamic, 1, Eigen::ColMajor, N, 1>;

/// Rows per block, at most. Row-major: up to 64 rows, read along the rows.
/// Column-major: each column of a block is one contiguous run, so taller blocks (up
/// to 512 rows) give longer runs; measured ~1.5x faster than 64 rows at d = 100.
template <bool RowMajor>
constexpr int max_rows_per_block = RowMajor ? 64 : 512;

/// Rows per block for rows of `row_bytes` bytes across all the inputs: the block
/// fits ~256 KB (row-major) or ~1 MB (column-major, L2) and holds at least one row,
/// so that the apply re-reads the block from cache, not from memory.
template <bool RowMajor>
Eigen::Index rows_per_block(Eigen::Index row_bytes) {
  const Eigen::Index budget = RowMajor ? (Eigen::Index(1) << 18) : (Eigen::Index(1) << 20);
  return std::clamp<Eigen::Index>(budget / std::max<Eigen::Index>(1, row_bytes), 1, max_rows_per_block<RowMajor>);
}

/// The K sums of each row of a block, in the accumulation type.
template <class Acc, std::size_t K, int N>
using RowStatistics = std::array<RowBuffer<Acc, N>, K>;

/// Columns per piece of a row-major float row summed in float (see row_sums).
constexpr Eigen::Index kRowSumPiece = 256;

namespace row_statistics_impl {

template <class X0, class... X>
const X0& first(const X0& x0, const X&...) {
  return x0;
}

/// Sum I of each row of a row-major block, into out (Acc). Terms of one sign of a
/// float input are summed in float pieces of kRowSumPiece columns (vectorised:
/// converting every term to double first measured ~1.6x slower at d = 100) and
/// the pieces combined in double, as accumulate.hpp's blocks: a piece sum out of
/// the float range (block_fits: a term overflowed or underflowed, or NaN/inf) is
/// summed again in double, so that float rows have the range of double in either
/// storage order. Terms of both signs are summed in the accumulation type from the
/// start (block_sum_t), since cancellation in float could leave no correct digit.
template <class Sums, std::size_t I, class Out, class... X>
void row_major_sum(Out& out, const X&... x) {
  using S = typename std::decay_t<decltype(first(x...))>::Scalar;
  using Acc = typename Out::Scalar;
  using Lane = block_sum_t<S, Sums::negative_terms[I]>;
  const auto& x0 = first(x...);
  if constexpr (std::is_same<Lane, S>::value && std::is_same<S, Acc>::value) {
    // row by row rather than rowwise(): Eigen's partial reduction over a view with a
    // run-time outer stride spends ~2x the loop overhead per row (callgrind)
    out.resize(x0.rows());
    for (Eigen::Index i = 0; i < x0.rows(); ++i) out(i) = Sums::template term<I>(x.row(i)...).sum();
  } else if constexpr (std::is_same<Lane, S>::value) {
    out.setZero(x0.rows());
    RowBuffer<S, Out::MaxRowsAtCompileTime> piece;
    for (Eigen::Index j0 = 0; j0 < x0.cols(); j0 += kRowSumPiece) {
      const Eigen::Index w = std::min(kRowSumPiece, x0.cols() - j0);
      piece = Sums::template term<I>(x.middleCols(j0, w)...).rowwise().sum();
      // every piece sum in range (the terms are >= 0: a NaN or inf one makes the total
      // NaN or inf): one vectorised add; otherwise row by row
      if (block_fits(piece.sum()) && block_fits(piece.minCoeff())) {
        out += piece.template cast<Acc>();
        continue;
      }
      for (Eigen::Index i = 0; i < x0.rows(); ++i) {
        out(i) += block_fits(piece(i)) ? static_cast<Acc>(piece(i))
                                       : Sums::template term<I>(x.row(i).segment(j0, w).template cast<Acc>()...).sum();
      }
    }
  } else {
    out = Sums::template term<I>(x.template cast<Acc>()...).rowwise().sum();
  }
}

template <class Sums, class Stats, std::size_t... I, class... X>
EIGEN_ALWAYS_INLINE void row_major_sums(Stats& out, std::index_sequence<I...>, const X&... x) {
  (row_major_sum<Sums, I>(out[I], x...), ...);
}

/// Column-major: one sweep over the columns, each column (a contiguous run) added
/// to the running sums of all K statistics in the accumulation type, instead of
/// Eigen's rowwise() walking across all d columns for every packet of rows. Float
/// inputs: two columns per pass over the sums, added in column order, half the
/// loads and stores of the sums (the compiler cannot jam the column loop itself,
/// since the sums might alias the inputs; unjammed measured ~1.3x slower at
/// 1e5 x 100). Double inputs: one column per pass (two measured ~1.15x slower at
/// 256 x 32, whose columns are read from L2, though ~1.2x faster at 1e5 x 100).
template <class Sums, class Stats, std::size_t... I, class... X>
void column_major_sums(Stats& out, std::index_sequence<I...>, const X&... x) {
  using Acc = typename Stats::value_type::Scalar;
  const auto& x0 = first(x...);
  for (auto& o : out) o.setZero(x0.rows());
  constexpr bool two_per_pass = !std::is_same<typename std::decay_t<decltype(x0)>::Scalar, Acc>::value;
  Eigen::Index j = 0;
  for (; two_per_pass && j + 1 < x0.cols(); j += 2) {
    ((out[I] = (out[I] + Sums::template term<I>(x.col(j).template cast<Acc>()...)) +
               Sums::template term<I>(x.col(j + 1).template cast<Acc>()...)),
     ...);
  }
  for (; j < x0.cols(); ++j) {
    ((out[I] += Sums::template term<I>(x.col(j).template cast<Acc>()...)), ...);
  }
}

}  // namespace row_statistics_impl

/// The Sums::count sums of every row of a block (the inputs' blocks, all n x d),
/// traversed along the storage order RowMajor.
template <class Sums, bool RowMajor, class Stats, class... X>
void row_sums(Stats& out, const X&... x) {
  static_assert(std::tuple_size<Stats>::value == Sums::count, "lossfn internal: one buffer per row sum");
  if constexpr (RowMajor) {
    row_statistics_impl::row_major_sums<Sums>(out, std::make_index_sequence<Sums::count>(), x...);
  } else {
    row_statistics_impl::column_major_sums<Sums>(out, std::make_index_sequence<Sums::count>(), x...);
  }
}

/// The per-row statistics kernel: for each block of rows of the inputs (views of
/// one shape, m x d; the first one's storage order chooses the traversal), the
/// row sums of Sums, then on_block(r0, n, sums) for rows [r0, r0 + n); sums[k](i)
/// is sum k of row r0 + i. on_block writes its outputs, typically through
/// apply_per_entry, while the block is in cache.
template <class Sums, class OnBlock, class X0, class... X>
void sweep_row_statistics(OnBlock&& on_block, const X0& x0, const X&... x) {
  constexpr bool row_major = X0::IsRowMajor;
  using S = typename X0::Scalar;
  using Acc = accumulator_t<S>;
  constexpr int kRows = max_rows_per_block<row_major>;
  const Eigen::Index m = x0.rows();
  const auto inputs = static_cast<Eigen::Index>(1 + sizeof...(X));
  const Eigen::Index block = rows_per_block<row_major>(inputs * x0.cols() * static_cast<Eigen::Index>(sizeof(S)));
  RowStatistics<Acc, Sums::count, kRows> sums;
  for (Eigen::Index r0 = 0; r0 < m; r0 += block) {
    const Eigen::Index n = std::min(block, m - r0);
    row_sums<Sums, row_major>(sums, x0.middleRows(r0, n), x.middleRows(r0, n)...);
    on_block(r0, n, static_cast<const RowStatistics<Acc, Sums::count, kRows>&>(sums));
  }
}

/// The per-entry apply over a block of n rows of d entries: calls
/// fn(slice, per_row) once per row (RowMajor) or once per column (otherwise), so
/// that every statement of fn is one contiguous, vectorised operation. slice(x) is
/// that row or column of an n x d block x (writable when x is); per_row(c) is the
/// matching view of a per-row buffer c (RowBuffer): its entry i for row i, the
/// whole column otherwise, so `per_row(c) * slice(x)` scales each row by its c.
template <bool RowMajor, class Fn>
EIGEN_ALWAYS_INLINE void apply_per_entry(Eigen::Index n, Eigen::Index d, const Fn& fn) {
  if constexpr (RowMajor) {
    for (Eigen::Index i = 0; i < n; ++i) {
      fn([i](auto&& x) { return x.row(i); }, [i](const auto& c) { return c(i); });
    }
  } else {
    for (Eigen::Index j = 0; j < d; ++j) {
      fn([j](auto&& x) { return x.col(j); }, [](const auto& c) -> const auto& { return c; });
    }
  }
}

}  // namespace detail
}  // namespace lossfn
