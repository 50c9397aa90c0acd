"""Numba kernels for the emission families: log-likelihood tables and weighted sums.

Pure functions of arrays. Sums over time run in row blocks, each block with its own
accumulator, added up after the parallel loop (no races, no BLAS thread contention
with the HMM kernels).
"""

import numpy as np
from numba import njit, prange

LOG_2PI = np.log(2.0 * np.pi)


#: Rows the diagonal-Gaussian kernels take at once. Within a block the sums run along
#: rows, contiguous in a transposed copy of the block, which vectorises; a row at a time,
#: the sums ran over a handful of groups and each row's bookkeeping cost as much as its
#: arithmetic.
ROW_BLOCK = 64


@njit(cache=True)
def _diag_constants(means, variances):
    """Precisions ``(G, D)`` and each group's log normaliser."""
    n_groups, n_features = means.shape
    log_norm = np.empty(n_groups)
    for g in range(n_groups):
        log_norm[g] = -0.5 * (n_features * LOG_2PI + np.sum(np.log(variances[g])))
    return 1.0 / variances, log_norm


@njit(cache=True)
def _transposed(A, first, count, out):
    """``out[:, r] = A[first + r]`` for ``r < count``."""
    for c in range(A.shape[1]):
        for r in range(count):
            out[c, r] = A[first + r, c]


@njit(cache=True, fastmath={"contract"})
def _diag_block(X, first, count, means, precision, log_norm, rows, values):
    """``values[g, r] = log N(x_{first + r}; mean_g, diag(variances_g))`` for the
    ``count <= ROW_BLOCK`` rows from ``first`` (NaN where the row has a NaN);
    ``rows`` ``(D, ROW_BLOCK)`` takes the block transposed."""
    n_groups, n_features = means.shape
    _transposed(X, first, count, rows)
    for g in range(n_groups):
        for r in range(count):
            values[g, r] = 0.0
        for d in range(n_features):
            mean, weight = means[g, d], precision[g, d]
            for r in range(count):
                diff = rows[d, r] - mean
                values[g, r] += diff * diff * weight
        for r in range(count):
            values[g, r] = log_norm[g] - 0.5 * values[g, r]


@njit(cache=True, parallel=True)
def _gaussian_diag(X, means, variances, shift):
    """The log table of :func:`gaussian_diag_log_table`, each row less its largest
    entry if ``shift`` (see :func:`shift_row`), those entries (zeros without
    ``shift``), and whether ``X`` held a NaN."""
    precision, log_norm = _diag_constants(means, variances)
    n_steps, n_groups = X.shape[0], means.shape[0]
    table = np.empty((n_steps, n_groups))
    log_shift = np.zeros(n_steps)
    n_blocks = (n_steps + ROW_BLOCK - 1) // ROW_BLOCK
    nan_blocks = np.zeros(n_blocks, dtype=np.bool_)
    for b in prange(n_blocks):
        rows = np.empty((X.shape[1], ROW_BLOCK))
        values = np.empty((n_groups, ROW_BLOCK))
        largest = np.full(ROW_BLOCK, -np.inf)
        first = b * ROW_BLOCK
        count = min(ROW_BLOCK, n_steps - first)
        _diag_block(X, first, count, means, precision, log_norm, rows, values)
        if shift:
            for g in range(n_groups):
                for r in range(count):
                    largest[r] = values[g, r] if values[g, r] > largest[r] else largest[r]
            for r in range(count):
                log_shift[first + r] = 0.0 if largest[r] == -np.inf else largest[r]
        for r in range(count):
            nan_blocks[b] |= values[0, r] != values[0, r]
            for g in range(n_groups):
                table[first + r, g] = values[g, r] - log_shift[first + r]
    return table, log_shift, nan_blocks.any()


@njit(cache=True)
def gaussian_diag_log_table(X, means, variances):
    """``(T, G)`` log N(x_t; mean_g, diag(variances_g)), and whether a row of ``X`` held
    a NaN (its entries are then NaN: the caller marginalises it instead)."""
    table, _, has_nan = _gaussian_diag(X, means, variances, False)
    return table, has_nan


@njit(cache=True)
def gaussian_diag_shifted(X, means, variances):
    """The log densities of diagonal Gaussians less each row's largest, that largest
    per row, and whether ``X`` held a NaN: the log table and :func:`shifted_rows` in one
    pass, without the log table's copy (:func:`exponentiated` then scales it)."""
    return _gaussian_diag(X, means, variances, True)


@njit(cache=True)
def shift_row(table, t):
    """Subtract row ``t``'s largest entry from it in place and return that entry (0 for
    a row of ``-inf``, which stays ``-inf``)."""
    shift = -np.inf
    for g in range(table.shape[1]):
        if table[t, g] > shift:
            shift = table[t, g]
    if shift == -np.inf:
        shift = 0.0
    for g in range(table.shape[1]):
        table[t, g] -= shift
    return shift


@njit(cache=True, parallel=True)
def shifted_rows(log_table):
    """A copy of a ``(T, G)`` log table less each row's largest entry, and those entries
    (see :func:`shift_row`)."""
    shifted = log_table.copy()
    log_shift = np.empty(log_table.shape[0])
    for t in prange(log_table.shape[0]):
        log_shift[t] = shift_row(shifted, t)
    return shifted, log_shift


def exponentiated(shifted: np.ndarray) -> np.ndarray:
    """``exp`` of a shifted log table, in place. NumPy's vectorised ``exp`` (one thread)
    is several times faster than numba's scalar one on all threads, and its result does
    not depend on the thread count."""
    return np.exp(shifted, out=shifted)


def scaled_emissions(log_table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exponentiate a ``(T, G)`` log table row by row after removing each row's max.

    Returns the scaled table and the log of each row's scale."""
    shifted, log_shift = shifted_rows(log_table)
    return exponentiated(shifted), log_shift


@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def weighted_moments(X, weights, n_blocks):
    """Per group: ``sum_t w``, ``sum_t w x`` and ``sum_t w x**2`` (elementwise).

    Each of ``n_blocks`` row ranges sums into its own slot, ``ROW_BLOCK`` rows at a
    time, transposed so that every sum runs along contiguous rows; the slots are
    added in order, so the result does not depend on the thread count."""
    n_steps, n_features = X.shape
    n_groups = weights.shape[1]
    totals = np.zeros((n_blocks, n_groups))
    sums = np.zeros((n_blocks, n_groups, n_features))
    squares = np.zeros((n_blocks, n_groups, n_features))
    for b in prange(n_blocks):
        rows = np.empty((n_features, ROW_BLOCK))
        row_weights = np.empty((n_groups, ROW_BLOCK))
        stop = (b + 1) * n_steps // n_blocks
        for first in range(b * n_steps // n_blocks, stop, ROW_BLOCK):
            count = min(ROW_BLOCK, stop - first)
            _transposed(X, first, count, rows)
            _transposed(weights, first, count, row_weights)
            for g in range(n_groups):
                total = 0.0
                for r in range(count):
                    total += row_weights[g, r]
                totals[b, g] += total
                for d in range(n_features):
                    linear, square = 0.0, 0.0
                    for r in range(count):
                        weighted = row_weights[g, r] * rows[d, r]
                        linear += weighted
                        square += weighted * rows[d, r]
                    sums[b, g, d] += linear
                    squares[b, g, d] += square
    return totals.sum(axis=0), sums.sum(axis=0), squares.sum(axis=0)


@njit(cache=True, parallel=True)
def weighted_symbol_counts(symbols, weights, n_symbols, n_blocks):
    """``(G, n_symbols)`` sums of each group's weights per observed symbol."""
    n_steps, n_groups = weights.shape
    counts = np.zeros((n_blocks, n_groups, n_symbols))
    for b in prange(n_blocks):
        for t in range(b * n_steps // n_blocks, (b + 1) * n_steps // n_blocks):
            for g in range(n_groups):
                counts[b, g, symbols[t]] += weights[t, g]
    return counts.sum(axis=0)


@njit(cache=True, parallel=True)
def logsumexp_components(table):
    """``log sum_k exp(table[t, g, k])`` of a ``(T, G, K)`` table of mixture components
    (shifted by the largest term; ``-inf`` where every term is ``-inf``). SciPy's
    general ``logsumexp`` took 80 % of a GMM decoding pass."""
    n_steps, n_groups, n_components = table.shape
    out = np.empty((n_steps, n_groups))
    for t in prange(n_steps):
        for g in range(n_groups):
            largest = -np.inf
            for k in range(n_components):
                largest = max(largest, table[t, g, k])
            if largest == -np.inf:
                out[t, g] = -np.inf
                continue
            total = 0.0
            for k in range(n_components):
                total += np.exp(table[t, g, k] - largest)
            out[t, g] = largest + np.log(total)
    return out
