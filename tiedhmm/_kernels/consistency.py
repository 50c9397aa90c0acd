"""Numba kernels of probabilistic consistency on a family's sparse posterior matrix."""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def consistency_upper(indptr, indices, data, owner, weights, contributors, threshold,
                      chunks):
    """Per entry of ``P`` above the diagonal (residues of sequences x and y),
    ``((w_x + w_y) P + P W P) / contributors[x, y]`` with ``W`` the weight of each
    residue's sequence, or -1 where that is below ``threshold`` or the entry is below
    the diagonal. Only ``P``'s own entries are computed (ProbCons masks the
    transformed matrix by the one it came from), and since ``P`` is symmetric,
    ``(P W P)[r, c]`` is the weighted dot product of rows r and c: row r is scattered
    into a dense vector once and row c gathered against it. Chunks of rows (bounds
    ``chunks``) run in parallel."""
    size = indptr.shape[0] - 1
    upper = np.full(data.shape[0], -1.0)
    for chunk in prange(chunks.shape[0] - 1):
        dense_row = np.zeros(size)
        for row in range(chunks[chunk], chunks[chunk + 1]):
            start, stop = indptr[row], indptr[row + 1]
            for k in range(start, stop):
                dense_row[indices[k]] = data[k] * weights[owner[indices[k]]]
            for k in range(start, stop):
                column = indices[k]
                if column > row:
                    total = (weights[owner[row]] + weights[owner[column]]) * data[k]
                    for q in range(indptr[column], indptr[column + 1]):
                        total += dense_row[indices[q]] * data[q]
                    value = total / contributors[owner[row], owner[column]]
                    if value >= threshold:
                        upper[k] = value
            for k in range(start, stop):
                dense_row[indices[k]] = 0.0
    return upper


@njit(cache=True)
def mirrored(indptr, indices, upper):
    """CSR arrays of the symmetric matrix whose entries above the diagonal are those of
    ``upper`` that are not negative; rows stay sorted when ``indices`` are."""
    size = indptr.shape[0] - 1
    out_indptr = np.zeros(size + 1, dtype=np.int64)
    for row in range(size):
        for k in range(indptr[row], indptr[row + 1]):
            if upper[k] >= 0.0:
                out_indptr[row + 1] += 1
                out_indptr[indices[k] + 1] += 1
    out_indptr = np.cumsum(out_indptr)
    cursor = out_indptr[:-1].copy()
    out_indices = np.empty(out_indptr[size], dtype=np.int64)
    out_data = np.empty(out_indptr[size])
    for row in range(size):  # every row's lower entries land before its upper ones
        for k in range(indptr[row], indptr[row + 1]):
            if upper[k] >= 0.0:
                column = indices[k]
                out_indices[cursor[row]] = column
                out_data[cursor[row]] = upper[k]
                cursor[row] += 1
                out_indices[cursor[column]] = row
                out_data[cursor[column]] = upper[k]
                cursor[column] += 1
    return out_indptr, out_indices, out_data
