"""Numba kernels for aligning two profiles (alignments): their column-pair score matrix
from a family's residue-pair posteriors, and the best alignment under it."""

import numpy as np
from numba import njit


@njit(cache=True)
def column_pair_scores(first, second, value, chosen, owner, side, columns, widths):
    """``scores[a, b]``: the summed ``value`` of the residue pairs ``chosen`` (indices
    into ``first``, ``second``, ``value``) whose residues sit in column a of profile 0
    and column b of profile 1 (``side[s]``: the profile of sequence s; ``owner[r]``:
    the sequence of residue r; ``columns[r]``: its column in its profile)."""
    scores = np.zeros((widths[0], widths[1]))
    for k in range(chosen.shape[0]):
        entry = chosen[k]
        one, other = first[entry], second[entry]
        if side[owner[one]] != 0:
            one, other = other, one
        scores[columns[one], columns[other]] += value[entry]
    return scores


@njit(cache=True)
def profile_alignment(scores):
    """Best total of ``scores[a, b]`` over the column pairs an alignment of two profiles
    puts together (gaps score nothing: the objective of MEA alignment), and its moves
    from the start: ``0`` columns a and b together, ``1`` a column of the first profile
    alone, ``2`` of the second. Ties go to the pair, then to the first profile's gap."""
    n, m = scores.shape
    total = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=np.int8)
    move[1:, 0] = 1
    move[0, 1:] = 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best, choice = total[i - 1, j - 1] + scores[i - 1, j - 1], 0
            if total[i - 1, j] > best:
                best, choice = total[i - 1, j], 1
            if total[i, j - 1] > best:
                best, choice = total[i, j - 1], 2
            total[i, j] = best
            move[i, j] = choice
    moves = np.empty(n + m, dtype=np.int8)
    length, i, j = 0, n, m
    while i > 0 or j > 0:
        choice = move[i, j]
        moves[length] = choice
        length += 1
        if choice != 2:
            i -= 1
        if choice != 1:
            j -= 1
    return total[n, m], moves[:length][::-1].copy()
