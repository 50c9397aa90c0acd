"""Numba kernel of probabilistic consistency on a family's sparse posterior matrix."""

import numpy as np
from numba import njit


@njit(cache=True)
def consistency_product(indptr, indices, data, owner, contributors, threshold):
    """CSR arrays of ``(2 P + P P) / contributors[x, y]`` (x, y: the sequences of an
    entry's row and column) at the entries ``P`` holds (ProbCons masks the transformed
    matrix by the one it came from), those below ``threshold`` dropped: Gustavson's
    row-by-row product with a dense accumulator, so the full product never exists.
    (``P`` has no diagonal blocks, so neither has the result.)"""
    size = indptr.shape[0] - 1
    accumulator = np.zeros(size)
    touched = np.zeros(size, dtype=np.bool_)
    held = np.zeros(size, dtype=np.bool_)  # the columns of this row that P holds
    order = np.empty(size, dtype=np.int64)
    out_indptr = np.zeros(size + 1, dtype=np.int64)
    capacity = max(16, 2 * data.shape[0])
    out_indices = np.empty(capacity, dtype=np.int64)
    out_data = np.empty(capacity)
    count = 0
    for row in range(size):
        n_touched = 0
        for k in range(indptr[row], indptr[row + 1]):
            middle, weight = indices[k], data[k]
            if not touched[middle]:
                touched[middle] = True
                order[n_touched] = middle
                n_touched += 1
            accumulator[middle] += 2.0 * weight
            held[middle] = True
            for q in range(indptr[middle], indptr[middle + 1]):
                column = indices[q]
                if not touched[column]:
                    touched[column] = True
                    order[n_touched] = column
                    n_touched += 1
                accumulator[column] += weight * data[q]
        if count + n_touched > capacity:
            capacity = 2 * capacity + n_touched
            grown_indices = np.empty(capacity, dtype=np.int64)
            grown_data = np.empty(capacity)
            grown_indices[:count] = out_indices[:count]
            grown_data[:count] = out_data[:count]
            out_indices, out_data = grown_indices, grown_data
        for t in range(n_touched):
            column = order[t]
            value = accumulator[column] / contributors[owner[row], owner[column]]
            if held[column] and owner[column] != owner[row] and value >= threshold:
                out_indices[count] = column
                out_data[count] = value
                count += 1
            accumulator[column] = 0.0
            touched[column] = False
            held[column] = False
        out_indptr[row + 1] = count
    return out_indptr, out_indices[:count].copy(), out_data[:count].copy()
