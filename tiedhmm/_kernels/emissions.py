"""Numba kernels for the emission families: log-likelihood tables and weighted sums.

Pure functions of arrays. Sums over time run in row blocks, each block with its own
accumulator, added up after the parallel loop (no races, no BLAS thread contention
with the HMM kernels).
"""

import numpy as np
from numba import njit, prange

LOG_2PI = np.log(2.0 * np.pi)


@njit(cache=True)
def _diag_constants(means, variances):
    """Transposed means and precisions ``(D, G)`` (the inner loop then runs over groups,
    contiguous, which vectorises) and each group's log normaliser."""
    n_groups, n_features = means.shape
    log_norm = np.empty(n_groups)
    for g in range(n_groups):
        log_norm[g] = -0.5 * (n_features * LOG_2PI + np.sum(np.log(variances[g])))
    return means.T.copy(), (1.0 / variances).T.copy(), log_norm


@njit(cache=True)
def _diag_row(X, t, means_t, precision_t, log_norm, row):
    """``row[g] = log N(x_t; mean_g, diag(variances_g))``; NaN where ``x_t`` has a NaN."""
    n_groups = row.shape[0]
    for g in range(n_groups):
        row[g] = 0.0
    for d in range(X.shape[1]):
        x = X[t, d]
        for g in range(n_groups):
            diff = x - means_t[d, g]
            row[g] += diff * diff * precision_t[d, g]
    for g in range(n_groups):
        row[g] = log_norm[g] - 0.5 * row[g]


@njit(cache=True, parallel=True)
def gaussian_diag_log_table(X, means, variances):
    """``(T, G)`` log N(x_t; mean_g, diag(variances_g)), and whether a row of ``X`` held
    a NaN (its entries are then NaN: the caller marginalises it instead)."""
    means_t, precision_t, log_norm = _diag_constants(means, variances)
    table = np.empty((X.shape[0], means.shape[0]))
    nan_rows = np.zeros(X.shape[0], dtype=np.bool_)
    for t in prange(X.shape[0]):
        _diag_row(X, t, means_t, precision_t, log_norm, table[t])
        nan_rows[t] = table[t, 0] != table[t, 0]
    return table, nan_rows.any()


@njit(cache=True, parallel=True)
def gaussian_diag_scaled(X, means, variances):
    """The emission probabilities of diagonal Gaussians scaled per row (each row's
    largest is 1), the log of each row's scale, and whether ``X`` held a NaN: the log
    table and :func:`tiedhmm._kernels.hmm.scaled_emissions` in one pass, without the
    log table in memory."""
    means_t, precision_t, log_norm = _diag_constants(means, variances)
    emission = np.empty((X.shape[0], means.shape[0]))
    log_shift = np.empty(X.shape[0])
    nan_rows = np.zeros(X.shape[0], dtype=np.bool_)
    for t in prange(X.shape[0]):
        row = emission[t]
        _diag_row(X, t, means_t, precision_t, log_norm, row)
        nan_rows[t] = row[0] != row[0]
        shift = row.max()
        log_shift[t] = shift
        for g in range(row.shape[0]):
            row[g] = np.exp(row[g] - shift)
    return emission, log_shift, nan_rows.any()


@njit(cache=True, parallel=True)
def weighted_moments(X, weights, n_blocks):
    """Per group: ``sum_t w``, ``sum_t w x`` and ``sum_t w x**2`` (elementwise)."""
    n_steps, n_features = X.shape
    n_groups = weights.shape[1]
    totals = np.zeros((n_blocks, n_groups))
    sums = np.zeros((n_blocks, n_groups, n_features))
    squares = np.zeros((n_blocks, n_groups, n_features))
    for b in prange(n_blocks):
        for t in range(b * n_steps // n_blocks, (b + 1) * n_steps // n_blocks):
            for g in range(n_groups):
                w = weights[t, g]
                totals[b, g] += w
                for d in range(n_features):
                    wx = w * X[t, d]
                    sums[b, g, d] += wx
                    squares[b, g, d] += wx * X[t, d]
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
