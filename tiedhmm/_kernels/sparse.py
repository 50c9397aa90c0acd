"""CSR arrays of pair posteriors built in one call each: from the posterior pass's
entries, and the weighted sum of two models' matrices. Through scipy's own routes each
cost tens of microseconds of checks and conversions a pair, a sizeable share of a short
pair's posterior pass (about 90 us at 70 letters); small families have many short
pairs."""

import numpy as np
from numba import njit


@njit(cache=True)
def csr_from_entries(rows, columns, values, n_rows):
    """``(indptr, indices, data)`` of distinct ``(row, column)`` entries: rows counted,
    entries placed from the last to the first, then any row whose columns are not in
    order sorted. The posterior pass's backward sweep lists each row's columns in
    descending order, so placed from the last they come out in order, and no row is
    sorted or reversed (reversing such rows took the build of a 300-letter random
    pair's 3,200 entries from 11 to 28 us)."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for k in range(rows.shape[0]):
        indptr[rows[k] + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    filled = indptr[:-1].copy()
    indices = np.empty(rows.shape[0], dtype=np.int64)
    data = np.empty(rows.shape[0])
    for k in range(rows.shape[0] - 1, -1, -1):
        at = filled[rows[k]]
        indices[at], data[at] = columns[k], values[k]
        filled[rows[k]] = at + 1
    for r in range(n_rows):
        start, stop = indptr[r], indptr[r + 1]
        ascending = True
        for k in range(start + 1, stop):
            ascending &= indices[k - 1] < indices[k]
        if not ascending:
            order = np.argsort(indices[start:stop]) + start
            indices[start:stop] = indices[order]
            data[start:stop] = data[order]
    return indptr, indices, data


@njit(cache=True)
def weighted_csr_sum(first, second, first_weight, second_weight, threshold):
    """``first_weight * A + second_weight * B`` of two canonical CSR matrices (each
    ``(indptr, indices, data)``, columns sorted within rows), keeping the entries at
    least ``threshold`` (and nonzero): the same entries as scipy's scaled sum with
    those below ``threshold`` set to zero and eliminated."""
    a_indptr, a_indices, a_data = first
    b_indptr, b_indices, b_data = second
    n_rows = a_indptr.shape[0] - 1
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    indices = np.empty(a_indices.shape[0] + b_indices.shape[0], dtype=np.int64)
    data = np.empty(indices.shape[0])
    count = 0
    for r in range(n_rows):
        a, a_end = a_indptr[r], a_indptr[r + 1]
        b, b_end = b_indptr[r], b_indptr[r + 1]
        while a < a_end or b < b_end:
            if b == b_end or (a < a_end and a_indices[a] < b_indices[b]):
                column, value = a_indices[a], a_data[a] * first_weight
                a += 1
            elif a == a_end or b_indices[b] < a_indices[a]:
                column, value = b_indices[b], b_data[b] * second_weight
                b += 1
            else:
                column = a_indices[a]
                value = a_data[a] * first_weight + b_data[b] * second_weight
                a += 1
                b += 1
            if not value < threshold and value != 0.0:
                indices[count], data[count] = column, value
                count += 1
        indptr[r + 1] = count
    return indptr, indices[:count].copy(), data[:count].copy()
