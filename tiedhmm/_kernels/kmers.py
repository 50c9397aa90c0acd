"""Numba kernel of all-pairs k-mer similarity (the alignment-free distances of a large
family's guide tree)."""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def shared_kmers(counts):
    """``shared[x, y] = sum_t min(counts[x, t], counts[y, t])`` for every pair of rows
    (the diagonal: each row's own total)."""
    n, m = counts.shape
    shared = np.zeros((n, n))
    for x in prange(n):
        for y in range(x, n):
            total = 0
            for t in range(m):
                a, b = counts[x, t], counts[y, t]
                total += a if a < b else b
            shared[x, y] = total
            shared[y, x] = total
    return shared
