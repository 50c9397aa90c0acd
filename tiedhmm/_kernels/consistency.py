"""Numba kernel of probabilistic consistency on a family's sparse posterior matrix."""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def consistency_product(indptr, indices, data, owner, contributors, threshold, chunks):
    """CSR arrays of ``(2 P + P P) / contributors[x, y]`` (x, y: the sequences of an
    entry's row and column) at the entries ``P`` holds (ProbCons masks the transformed
    matrix by the one it came from), those below ``threshold`` dropped. Row by row, a
    dense accumulator gathers only the columns the row holds (times a 0/1 mask, with no
    branch to mispredict), so the full product never exists; a row's result fits in
    the row's own slots, so chunks of rows (bounds ``chunks``) run in parallel and one
    pass packs them. (``P`` has no diagonal blocks, so neither has the result.)"""
    size = indptr.shape[0] - 1
    kept_indices = np.empty(indices.shape[0], dtype=np.int64)
    kept_data = np.empty(data.shape[0])
    kept = np.zeros(size, dtype=np.int64)
    for chunk in prange(chunks.shape[0] - 1):
        accumulator = np.zeros(size)
        held = np.zeros(size)
        for row in range(chunks[chunk], chunks[chunk + 1]):
            start, stop = indptr[row], indptr[row + 1]
            for k in range(start, stop):
                held[indices[k]] = 1.0
                accumulator[indices[k]] += 2.0 * data[k]
            for k in range(start, stop):
                weight = data[k]
                for q in range(indptr[indices[k]], indptr[indices[k] + 1]):
                    accumulator[indices[q]] += weight * data[q] * held[indices[q]]
            count = 0
            for k in range(start, stop):
                column = indices[k]
                value = accumulator[column] / contributors[owner[row], owner[column]]
                if owner[column] != owner[row] and value >= threshold:
                    kept_indices[start + count] = column
                    kept_data[start + count] = value
                    count += 1
                accumulator[column] = 0.0
                held[column] = 0.0
            kept[row] = count
    out_indptr = np.zeros(size + 1, dtype=np.int64)
    out_indptr[1:] = np.cumsum(kept)
    out_indices = np.empty(out_indptr[size], dtype=np.int64)
    out_data = np.empty(out_indptr[size])
    for row in range(size):
        start, count = indptr[row], kept[row]
        out_indices[out_indptr[row]:out_indptr[row] + count] = \
            kept_indices[start:start + count]
        out_data[out_indptr[row]:out_indptr[row] + count] = kept_data[start:start + count]
    return out_indptr, out_indices, out_data
