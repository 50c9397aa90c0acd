"""Numba kernels for aligning two profiles (alignments): their column-pair score matrix
from a family's residue-pair posteriors, the best alignment under it, the joined
profile's columns, and the two profiles a refinement split realigns. One call per join:
in numpy, a join of a small family's profiles cost tens of calls, and refinement makes
a hundred joins."""

import numpy as np
from numba import njit


@njit(cache=True)
def column_pair_scores(columns, side, owner, upper, slices, widths):
    """``scores[a, b]``: the summed posteriors of the residue pairs whose residues sit
    in column a of profile 0 and column b of profile 1 (``side[s]``: the profile of
    sequence s, or -1; ``owner[r]``: the sequence of residue r; ``columns[r]``: its
    column in its profile). ``upper = (first, second, value)``: the family's residue
    pairs, each once; ``slices = (order, keys, starts, stops)``: those entries sorted by
    sequence pair, each present pair's key ``x * N + y`` (x < y, sorted) and where its
    entries start and stop in ``order``. Only the pairs across the two profiles are
    read, pair by pair (x of profile 0 ascending, then y), so a progressive alignment
    reads each entry once in all."""
    first, second, value = upper
    order, keys, starts, stops = slices
    n_sequences = side.shape[0]
    ones, others = np.flatnonzero(side == 0), np.flatnonzero(side == 1)
    scores = np.zeros((widths[0], widths[1]))
    for x in ones:  # (the sides listed first: a tree's joins then visit N^2 / 2 pairs)
        for y in others:
            key = min(x, y) * n_sequences + max(x, y)
            pair = np.searchsorted(keys, key)
            if pair == keys.shape[0] or keys[pair] != key:
                continue
            for t in range(starts[pair], stops[pair]):
                entry = order[t]
                one, other = first[entry], second[entry]
                if side[owner[one]] != 0:
                    one, other = other, one
                scores[columns[one], columns[other]] += value[entry]
    return scores


@njit(cache=True)
def join_profiles(columns, side, owner, upper, slices, widths):
    """Align profiles 0 and 1 (as for :func:`column_pair_scores`) by
    :func:`profile_alignment` and move their residues to their columns in the joined
    profile, in place (residues of side -1 stay); returns its width."""
    _, moves = profile_alignment(column_pair_scores(columns, side, owner, upper, slices,
                                                    widths))
    column_of = np.empty((2, moves.shape[0]), dtype=np.int64)  # profile column -> joined
    taken = np.zeros(2, dtype=np.int64)
    for position in range(moves.shape[0]):
        for profile in range(2):
            if moves[position] != 2 - profile:
                column_of[profile, taken[profile]] = position
                taken[profile] += 1
    for r in range(columns.shape[0]):
        profile = side[owner[r]]
        if profile >= 0:
            columns[r] = column_of[profile, columns[r]]
    return moves.shape[0]


@njit(cache=True)
def split_profiles(columns, half, owner):
    """Residues' columns within two profiles, the sequences in ``half`` and the rest,
    each kept as aligned with its all-gap columns dropped, and both widths."""
    width = columns.max() + 1 if columns.shape[0] else 0
    rank = np.zeros((2, width + 1), dtype=np.int64)  # used, then how many used before
    for r in range(columns.shape[0]):
        rank[0 if half[owner[r]] else 1, columns[r] + 1] = 1
    for profile in range(2):
        for c in range(width):
            rank[profile, c + 1] += rank[profile, c]
    projected = np.empty_like(columns)
    for r in range(columns.shape[0]):
        projected[r] = rank[0 if half[owner[r]] else 1, columns[r]]
    return projected, (rank[0, width], rank[1, width])


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
