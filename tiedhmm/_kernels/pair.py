"""Numba kernels for pair HMMs over a general pair-state table.

A model is a table of ``K`` emitting states: state ``k`` consumes ``dx[k]`` letters of
x and ``dy[k]`` of y (``(1, 1)`` match, ``(1, 0)`` insert in x, ``(0, 1)`` insert in y),
with ``start (K,)``, ``transmat (K, K)`` and ``end (K,)`` probabilities (all ones for a
free end). Emissions are one table per state, ``emission[k, a, b]`` with the gap code
``G = emission.shape[1] - 1`` standing for "no letter": an x-insert state reads
``emission[k, a, G]``. Sequences are integer codes ``< G``.

Numerics: cells of one anti-diagonal ``d = i + j`` have all emitted ``d`` letters, so
the forward (and backward) values are normalised per anti-diagonal, never per row
(a row-scaled forward underflows on 300-letter unrelated proteins). Diagonal ``d`` is
stored with local index ``i - lo(d)``; the sweep order is the wavefront that SIMD
wants, and the inner loops run along a diagonal over contiguous memory.
Viterbi runs in log space with back-pointers packed into bit fields.

Speed (see ``scripts/bench_pair.py``): the per-diagonal loops index flat arrays with
unsigned offsets and create no array views and call no functions with array
arguments, because numba adds negative-index wrap-around to signed indices (which
stops vectorisation) and reference-counts every view and array argument with atomic
operations (which, per state and diagonal, used to dominate 300-letter pairs).
"""

import numpy as np
from numba import njit, prange

#: Re-association (vectorised sums) and fused multiply-add only: no ``nnan``/``ninf``,
#: so ``-inf`` log-probabilities and zero probabilities keep their meaning.
FLOAT_FLAGS = {"reassoc", "contract"}
#: Unsigned offsets: numba adds negative wrap-around to signed indices, which stops
#: LLVM from vectorising the diagonal loops.
U = np.uint64
#: Diagonals whose emissions one call of ``_emissions_along`` lays out.
EMISSION_BLOCK = 16


@njit(cache=True)
def _lo(d, m):
    """Smallest i on anti-diagonal d of an (n+1) x (m+1) grid."""
    return max(0, d - m)


@njit(cache=True)
def diagonal_offsets(n, m):
    """Start of each anti-diagonal in diagonal-major storage of all (n+1)(m+1) cells."""
    offsets = np.empty(n + m + 2, dtype=np.int64)
    offsets[0] = 0
    for d in range(n + m + 1):
        offsets[d + 1] = offsets[d] + min(n, d) - _lo(d, m) + 1
    return offsets


@njit(cache=True)
def _cell_range(d, n, m, dx, dy):
    """i range of cells on diagonal d that a (dx, dy) state can occupy."""
    return max(_lo(d, m), dx), min(min(n, d), d - dy)


@njit(cache=True)
def _emission_lookup(x, y, dx, dy, emission, ring):
    """Letter codes, and one flat buffer the diagonal loops read emissions from.

    ``rows[moves, i]`` is ``G + 1`` times the code of letter ``i`` of x (the gap code
    when the state does not move in x) and ``columns[moves, m - j]`` the code of letter
    ``j`` of y (reversed so both run forward along a diagonal): state ``k`` at cell
    ``(i, j)`` has the flat emission index ``rows[dx[k], i] + columns[dy[k], m - j]``,
    which the recursions read and the expected counts add into.
    ``emitted`` holds, per state, a profile of ``max(n, m) + 1`` values, filled here
    for inserts (whose emissions depend on one sequence: by ``i`` for x-inserts, by
    ``m - j`` for y-inserts), then ``ring`` slots of ``K x (min(n, m) + 1)`` that
    :func:`_emissions_along` fills for matches; :func:`_emission_offset` says where
    a state's emissions on a diagonal start.
    """
    n_states, n_columns = emission.shape[0], emission.shape[2]
    gap = n_columns - 1
    n, m = x.shape[0], y.shape[0]
    rows = np.full((2, n + 1), gap * n_columns, dtype=np.int64)
    columns = np.full((2, m + 1), gap, dtype=np.int64)
    for i in range(1, n + 1):
        rows[1, i] = x[i - 1] * n_columns
    for j in range(1, m + 1):
        columns[1, m - j] = y[j - 1]
    flat_emission = emission.reshape(n_states, -1)
    profile_size = max(n, m) + 1
    emitted = np.zeros(n_states * (profile_size + ring * (min(n, m) + 1)))
    for k in range(n_states):
        if dx[k] + dy[k] == 1:
            for c in range(n + 1 if dx[k] else m + 1):
                emitted[k * profile_size + c] = flat_emission[k, rows[dx[k], c * dx[k]]
                                                              + columns[dy[k], c * dy[k]]]
    return rows, columns, emitted


@njit(cache=True, inline="always")
def _emission_offset(d, k, i_min, n, m, dxk, dyk, n_states, ring):
    """Where the emissions of state k (moves ``dxk, dyk``) at cells ``i_min ..`` of
    diagonal d start in the buffer of :func:`_emission_lookup`."""
    profile_size = max(n, m) + 1
    if dxk + dyk == 1:
        return k * profile_size + (i_min if dxk == 1 else m - d + i_min)
    return n_states * profile_size + ((d % ring) * n_states + k) * (min(n, m) + 1)


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _emissions_along(first, count, n, m, dx, dy, rows, columns, table, emitted, ring):
    """Match states' emissions on diagonals ``first .. first + count - 1``, gathered
    from the flat emission ``table`` into ``emitted`` (see :func:`_emission_lookup`).
    One call serves several diagonals because a call's array arguments cost atomic
    reference counts."""
    n_states = dx.shape[0]
    table_size = table.shape[0] // n_states
    for e in range(first, first + count):
        for k in range(n_states):
            i_min, i_max = _cell_range(e, n, m, dx[k], dy[k])
            if dx[k] + dy[k] != 2 or i_min > i_max:
                continue
            target = U(_emission_offset(e, k, i_min, n, m, 1, 1, n_states, ring))
            column = U(m - e + i_min)
            state_table = U(k * table_size)
            for c in range(U(i_max - i_min + 1)):
                emitted[target + c] = table[state_table + U(rows[1, U(i_min) + c]
                                                            + columns[1, column + c])]


@njit(cache=True)
def _predecessors(transmat, zero):
    """Per state k: the states l with ``transmat[l, k] != zero``, and how many."""
    n_states = transmat.shape[0]
    preds = np.zeros((n_states, n_states), dtype=np.int64)
    counts = np.zeros(n_states, dtype=np.int64)
    for k in range(n_states):
        for l in range(n_states):
            if transmat[l, k] != zero:
                preds[k, counts[k]] = l
                counts[k] += 1
    return preds, counts


@njit(cache=True)
def _predecessor_groups(transmat, zero):
    """Each state's predecessors in groups of three, padded with the dummy state ``K``.

    ``groups[k, 3 g : 3 g + 3]`` is group ``g`` of state ``k`` and ``n_groups[k]`` how
    many it has (at least one, so every state gets its emission pass). The dummy
    stands for a row of the score buffers that always holds ``zero``; fixed groups of
    three let the diagonal loops add three predecessors per pass, which vectorises.
    """
    n_states = transmat.shape[0]
    preds, counts = _predecessors(transmat, zero)
    n_groups = np.maximum(1, (counts + 2) // 3)
    groups = np.full((n_states, 3 * n_groups.max()), n_states, dtype=np.int64)
    for k in range(n_states):
        groups[k, :counts[k]] = preds[k, :counts[k]]
    return groups, n_groups


@njit(cache=True)
def _coefficient(transmat, l, k, factor, zero):
    """``transmat[l, k]`` times ``factor`` (1 for log-space tables), ``zero`` for the
    dummy predecessor."""
    if l == transmat.shape[0]:
        return zero
    return transmat[l, k] * factor


@njit(cache=True, inline="always")
def _clear_edges(cells, here, width, first, last, zero):
    """Set cells ``here + [0, first)`` and ``here + (last, width)`` (offsets along a
    diagonal) to ``zero``: where a state cannot be, which its successors still read."""
    for c in range(min(first, width)):
        cells[here + U(c)] = zero
    for c in range(max(last + 1, 0), width):
        cells[here + U(c)] = zero


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _forward_sweep(x, y, dx, dy, emission, start, transmat, values, starts, normalise):
    """Forward diagonals 1 .. n+m into ``values`` and the sum ``t_d`` of each.

    ``values`` has ``K + 1`` rows (the last, the dummy predecessor, stays zero) and
    diagonal d at columns ``starts[d] ..``; diagonal 0 must be zero there. With
    ``normalise`` each diagonal is divided by its sum (``values`` then holds
    ``true / (t_1 ... t_d)``); without, diagonals stay unnormalised and the sums are
    folded into the next diagonals' reads (``true / (t_1 ... t_{d-1})``), which saves
    a pass when only the score is wanted. Each state takes one pass per group of
    three predecessors; the last pass also multiplies in the emissions and sums. An
    all-zero diagonal has sum 1.

    Speed: the loops index flat arrays with unsigned offsets and make no views and
    no calls: signed indices (negative wrap-around) stop LLVM from vectorising, and
    each view or array argument costs atomic reference counting, which per state and
    diagonal dominated short pairs.
    """
    n, m = x.shape[0], y.shape[0]
    n_states = start.shape[0]
    rows, columns, emitted = _emission_lookup(x, y, dx, dy, emission, EMISSION_BLOCK)
    table = emission.reshape(-1)
    groups, n_groups = _predecessor_groups(transmat, 0.0)
    cells = values.reshape(-1)
    row_size = values.shape[1]
    sums = np.ones(n + m + 1)
    for d in range(1, n + m + 1):
        inverse1 = 1.0 / sums[d - 1]
        scale1 = 1.0 if normalise else inverse1
        scale2 = inverse1 if normalise or d < 2 else inverse1 / sums[d - 2]
        lo = _lo(d, m)
        width = U(min(n, d) - lo + 1)
        total = 0.0
        if (d - 1) % EMISSION_BLOCK == 0:
            _emissions_along(d, min(EMISSION_BLOCK, n + m + 1 - d), n, m, dx, dy, rows,
                             columns, table, emitted, EMISSION_BLOCK)
        for k in range(n_states):
            here = U(k * row_size + starts[d])
            i_min, i_max = _cell_range(d, n, m, dx[k], dy[k])
            _clear_edges(cells, here, width, i_min - lo, i_max - lo, 0.0)
            if i_min > i_max:
                continue
            step = dx[k] + dy[k]
            count = U(i_max - i_min + 1)
            target = here + U(i_min - lo)
            source = U(starts[d - step] + i_min - dx[k] - _lo(d - step, m))
            factor = scale1 if step == 1 else scale2
            emission_here = U(_emission_offset(d, k, i_min, n, m, dx[k], dy[k], n_states,
                                               EMISSION_BLOCK))
            if d == step:  # the state's one cell here comes from begin only
                cells[target] = (start[k] * (1.0 if step == 1 else inverse1)
                                 * emitted[emission_here])
                total += cells[target]
                continue
            for g in range(n_groups[k]):
                l0, l1, l2 = groups[k, 3 * g], groups[k, 3 * g + 1], groups[k, 3 * g + 2]
                a0 = _coefficient(transmat, l0, k, factor, 0.0)
                a1 = _coefficient(transmat, l1, k, factor, 0.0)
                a2 = _coefficient(transmat, l2, k, factor, 0.0)
                s0 = U(l0 * row_size) + source
                s1 = U(l1 * row_size) + source
                s2 = U(l2 * row_size) + source
                first = g == 0
                last = g == n_groups[k] - 1
                if first and last and l2 == n_states:
                    for c in range(count):
                        cells[target + c] = ((a0 * cells[s0 + c] + a1 * cells[s1 + c])
                                             * emitted[emission_here + c])
                    continue
                for c in range(count):
                    value = a0 * cells[s0 + c] + a1 * cells[s1 + c] + a2 * cells[s2 + c]
                    if not first:
                        value += cells[target + c]
                    cells[target + c] = value * emitted[emission_here + c] if last else value
            for c in range(count):
                total += cells[target + c]
        if total == 0.0:
            continue
        sums[d] = total
        if normalise:
            inverse = 1.0 / total
            for k in range(n_states):
                here = U(k * row_size + starts[d])
                for c in range(width):
                    cells[here + c] *= inverse
    return sums


@njit(cache=True)
def forward_score(x, y, dx, dy, emission, start, transmat, end):
    """log P(x, y) in O(len(x) + len(y)) memory: three rolling anti-diagonals."""
    n, m = x.shape[0], y.shape[0]
    n_states = start.shape[0]
    width = min(n, m) + 1
    values = np.zeros((n_states + 1, 3 * width))
    starts = (np.arange(n + m + 1) % 3) * width
    sums = _forward_sweep(x, y, dx, dy, emission, start, transmat, values, starts, False)
    total = 0.0
    for k in range(n_states):
        total += values[k, starts[n + m]] * end[k]
    if total <= 0.0:
        return -np.inf
    return np.log(sums[:n + m]).sum() + np.log(total)


@njit(cache=True)
def forward_full(x, y, dx, dy, emission, start, transmat, offsets):
    """Scaled forward values ``(K + 1, cells)`` (diagonal-major; the last row is the
    dummy predecessor, all zero) and the log normaliser of each diagonal."""
    n_states = start.shape[0]
    forward = np.zeros((n_states + 1, offsets[-1]))
    sums = _forward_sweep(x, y, dx, dy, emission, start, transmat, forward, offsets, True)
    return forward, np.log(sums)


@njit(cache=True, fastmath=FLOAT_FLAGS)
def backward_full(x, y, dx, dy, emission, transmat, end, offsets):
    """Scaled backward values ``(K, cells)`` and log normaliser per diagonal (from the end).

    Diagonal d receives, from every state k, what k passes back from its next cells
    on diagonal d + step: ``transmat[l, k] * emission * backward`` for each
    predecessor l, values from diagonal d + 2 read times one over diagonal d + 1's
    normaliser; then d is normalised. Flat arrays and unsigned offsets, as in
    :func:`_forward_sweep`.
    """
    n, m = x.shape[0], y.shape[0]
    n_states = end.shape[0]
    rows, columns, emitted = _emission_lookup(x, y, dx, dy, emission, 3)
    table = emission.reshape(-1)
    preds, n_preds = _predecessors(transmat, 0.0)
    n_cells = offsets[-1]
    backward = np.zeros((n_states, n_cells))
    cells = backward.reshape(-1)
    log_scale = np.zeros(n + m + 2)
    last = n + m
    for k in range(n_states):
        cells[k * n_cells + offsets[last]] = end[k]
    weighted = np.empty(min(n, m) + 1)
    for d in range(last - 1, -1, -1):
        _emissions_along(d + 1, 1, n, m, dx, dy, rows, columns, table, emitted, 3)
        inverse1 = np.exp(-log_scale[d + 1])
        lo = _lo(d, m)
        for k in range(n_states):
            step = dx[k] + dy[k]
            i_min = max(lo, d - m + dy[k])
            i_max = min(min(n, d), n - dx[k])
            if d + step > last or i_min > i_max:
                continue
            count = U(i_max - i_min + 1)
            factor = 1.0 if step == 1 else inverse1
            following = U(k * n_cells + offsets[d + step] + i_min + dx[k] - _lo(d + step, m))
            emission_here = U(_emission_offset(d + step, k, i_min + dx[k], n, m, dx[k], dy[k],
                                               n_states, 3))
            for c in range(count):
                weighted[c] = emitted[emission_here + c] * factor * cells[following + c]
            for p in range(n_preds[k]):
                l = preds[k, p]
                a = transmat[l, k]
                target = U(l * n_cells + offsets[d] + i_min - lo)
                for c in range(count):
                    cells[target + c] += a * weighted[c]
        width = U(offsets[d + 1] - offsets[d])
        total = 0.0
        for k in range(n_states):
            for c in range(width):
                total += cells[U(k * n_cells + offsets[d]) + c]
        if total > 0.0:
            inverse = 1.0 / total
            for k in range(n_states):
                for c in range(width):
                    cells[U(k * n_cells + offsets[d]) + c] *= inverse
            log_scale[d] = np.log(total)
    for d in range(last - 1, -1, -1):
        log_scale[d] += log_scale[d + 1]
    return backward, log_scale


@njit(cache=True, fastmath=FLOAT_FLAGS)
def expectations(x, y, dx, dy, emission, start, transmat, end):
    """Forward-backward of one pair: log P, the match posterior ``(n, m)``, and counts.

    Counts: transitions ``(K, K)``, starts ``(K,)``, ends ``(K,)``, and emissions
    ``(K, G+1, G+1)`` indexed like ``emission``. The cumulative forward scale ``C``
    and backward scale ``D`` of each diagonal turn scaled products into
    probabilities: ``P(state k at cell) = f^ b^ exp(C_d + D_d - log P)``. Per state
    and diagonal, vector passes: emission times backward, the posterior, one dot
    product per predecessor for the transition counts; the emission counts and the
    match posterior are scattered per cell.
    """
    n, m = x.shape[0], y.shape[0]
    n_states = start.shape[0]
    rows, columns, emitted = _emission_lookup(x, y, dx, dy, emission, 1)
    table = emission.reshape(-1)
    offsets = diagonal_offsets(n, m)
    n_cells = offsets[-1]
    forward, forward_log_scale = forward_full(x, y, dx, dy, emission, start, transmat, offsets)
    backward, backward_log = backward_full(x, y, dx, dy, emission, transmat, end, offsets)
    cumulative = np.cumsum(forward_log_scale)
    last = n + m
    total = 0.0
    for k in range(n_states):
        total += forward[k, offsets[last]] * end[k]
    match_posterior = np.zeros((n, m))
    transitions = np.zeros((n_states, n_states))
    starts = np.zeros(n_states)
    ends = np.zeros(n_states)
    emissions = np.zeros(emission.shape)
    if total == 0.0:
        return -np.inf, match_posterior, transitions, starts, ends, emissions
    loglik = cumulative[last] + np.log(total)
    for k in range(n_states):
        ends[k] = forward[k, offsets[last]] * end[k] / total
    preds, n_preds = _predecessors(transmat, 0.0)
    forward_cells, backward_cells = forward.reshape(-1), backward.reshape(-1)
    counts, posteriors = emissions.reshape(-1), match_posterior.reshape(-1)
    table_size = table.shape[0] // n_states
    width = min(n, m) + 1
    weighted, posterior = np.empty(width), np.empty(width)
    for d in range(1, last + 1):
        lo = _lo(d, m)
        _emissions_along(d, 1, n, m, dx, dy, rows, columns, table, emitted, 1)
        for k in range(n_states):
            step = dx[k] + dy[k]
            i_min, i_max = _cell_range(d, n, m, dx[k], dy[k])
            if i_min > i_max:
                continue
            count = U(i_max - i_min + 1)
            here = U(k * n_cells + offsets[d] + i_min - lo)
            emission_here = U(_emission_offset(d, k, i_min, n, m, dx[k], dy[k], n_states, 1))
            occupancy = np.exp(cumulative[d] + backward_log[d] - loglik)
            incoming = np.exp(cumulative[d - step] + backward_log[d] - loglik)
            for c in range(count):
                weighted[c] = emitted[emission_here + c] * backward_cells[here + c] * incoming
                posterior[c] = forward_cells[here + c] * backward_cells[here + c] * occupancy
            state_counts = U(k * table_size)
            column = U(m - d + i_min)
            for c in range(count):
                counts[state_counts + U(rows[dx[k], U(i_min) + c]
                                        + columns[dy[k], column + c])] += posterior[c]
            if step == 2:
                first_cell = U((i_min - 1) * m + d - i_min - 1)
                for c in range(count):
                    posteriors[first_cell + c * U(m - 1)] += posterior[c]
            source = U(offsets[d - step] + i_min - dx[k] - _lo(d - step, m))
            for p in range(n_preds[k]):
                l = preds[k, p]
                previous = U(l * n_cells) + source
                flow = 0.0
                for c in range(count):
                    flow += forward_cells[previous + c] * weighted[c]
                transitions[l, k] += transmat[l, k] * flow
            if d == step:
                starts[k] += start[k] * weighted[0]
    return loglik, match_posterior, transitions, starts, ends, emissions


@njit(cache=True, inline="always")
def _better(best, state, value, candidate):
    """The running maximum and its state after seeing ``value`` from ``candidate``
    (strictly greater wins, so the first, lowest-numbered state keeps ties)."""
    if value > best:
        return value, candidate
    return best, state


@njit(cache=True)
def _pointer_fields(n_preds):
    """Where each state's back-pointer lives in a cell's bytes: byte, shift and mask of
    a field just wide enough for the state's predecessor count (fields do not cross
    bytes), and how many bytes a cell takes."""
    n_states = n_preds.shape[0]
    byte = np.zeros(n_states, dtype=np.int64)
    shift = np.zeros(n_states, dtype=np.int64)
    mask = np.zeros(n_states, dtype=np.int64)
    used, current = 0, 0
    for k in range(n_states):
        bits = 0
        while (1 << bits) < n_preds[k]:
            bits += 1
        if used + bits > 8:
            current, used = current + 1, 0
        byte[k], shift[k], mask[k] = current, used, (1 << bits) - 1
        used += bits
    return byte, shift, mask, current + 1


@njit(cache=True, fastmath=FLOAT_FLAGS)
def viterbi(x, y, dx, dy, log_emission, log_start, log_transmat, log_end):
    """Best state path (states in order) and its log-probability, by max-plus DP.

    Scores roll over three anti-diagonals. A back-pointer is the position of the best
    predecessor in the state's list, packed into bit fields (:func:`_pointer_fields`;
    the 5-state model takes one byte per cell); a state's first cell comes from begin
    and needs none, and unreachable cells hold anything. Per state, one pass per
    group of three predecessors keeps the running best (strictly greater wins, so the
    first predecessor keeps ties); the last pass also adds the emissions and stores
    the pointers. A state with one or two groups, the common cases, takes a single
    pass (with two predecessors a two-term one). Flat arrays, unsigned offsets, no views
    (see :func:`_forward_sweep`).
    """
    n, m = x.shape[0], y.shape[0]
    n_states = log_start.shape[0]
    rows, columns, emitted = _emission_lookup(x, y, dx, dy, log_emission, EMISSION_BLOCK)
    table = log_emission.reshape(-1)
    groups, n_groups = _predecessor_groups(log_transmat, -np.inf)
    byte, shift, mask, n_bytes = _pointer_fields(_predecessors(log_transmat, -np.inf)[1])
    offsets = diagonal_offsets(n, m)
    n_cells = offsets[-1]
    width = min(n, m) + 1
    row_size = 3 * width
    scores = np.full((n_states + 1) * row_size, -np.inf)
    pointers = np.zeros(n_bytes * n_cells, dtype=np.uint8)
    best_state = np.empty(width, dtype=np.int64)
    for d in range(1, n + m + 1):
        lo = _lo(d, m)
        if (d - 1) % EMISSION_BLOCK == 0:
            _emissions_along(d, min(EMISSION_BLOCK, n + m + 1 - d), n, m, dx, dy, rows,
                             columns, table, emitted, EMISSION_BLOCK)
        for k in range(n_states):
            here = U(k * row_size + (d % 3) * width)
            i_min, i_max = _cell_range(d, n, m, dx[k], dy[k])
            _clear_edges(scores, here, min(n, d) - lo + 1, i_min - lo, i_max - lo, -np.inf)
            if i_min > i_max:
                continue
            step = dx[k] + dy[k]
            target = here + U(i_min - lo)
            emission_here = U(_emission_offset(d, k, i_min, n, m, dx[k], dy[k], n_states,
                                               EMISSION_BLOCK))
            if d == step:  # the state's one cell here comes from begin only
                scores[target] = log_start[k] + emitted[emission_here]
                continue
            count = U(i_max - i_min + 1)
            source = U(((d - step) % 3) * width + i_min - dx[k] - _lo(d - step, m))
            back = U(byte[k] * n_cells + offsets[d] + i_min - lo)
            field, bits = mask[k], shift[k]
            if n_groups[k] == 2:
                l0, l1, l2 = groups[k, 0], groups[k, 1], groups[k, 2]
                l3, l4, l5 = groups[k, 3], groups[k, 4], groups[k, 5]
                a0 = _coefficient(log_transmat, l0, k, 1.0, -np.inf)
                a1 = _coefficient(log_transmat, l1, k, 1.0, -np.inf)
                a2 = _coefficient(log_transmat, l2, k, 1.0, -np.inf)
                a3 = _coefficient(log_transmat, l3, k, 1.0, -np.inf)
                a4 = _coefficient(log_transmat, l4, k, 1.0, -np.inf)
                a5 = _coefficient(log_transmat, l5, k, 1.0, -np.inf)
                s0, s1, s2 = (U(l0 * row_size) + source, U(l1 * row_size) + source,
                              U(l2 * row_size) + source)
                s3, s4, s5 = (U(l3 * row_size) + source, U(l4 * row_size) + source,
                              U(l5 * row_size) + source)
                for c in range(count):
                    best, state = _better(scores[s0 + c] + a0, 0, scores[s1 + c] + a1, 1)
                    best, state = _better(best, state, scores[s2 + c] + a2, 2)
                    best, state = _better(best, state, scores[s3 + c] + a3, 3)
                    best, state = _better(best, state, scores[s4 + c] + a4, 4)
                    best, state = _better(best, state, scores[s5 + c] + a5, 5)
                    scores[target + c] = best + emitted[emission_here + c]
                    pointers[back + c] |= np.uint8((state & field) << bits)
                continue
            single = n_groups[k] == 1
            if not single:
                for c in range(count):
                    scores[target + c] = -np.inf
                    best_state[c] = 0
            for g in range(n_groups[k]):
                l0, l1, l2 = groups[k, 3 * g], groups[k, 3 * g + 1], groups[k, 3 * g + 2]
                a0 = _coefficient(log_transmat, l0, k, 1.0, -np.inf)
                a1 = _coefficient(log_transmat, l1, k, 1.0, -np.inf)
                a2 = _coefficient(log_transmat, l2, k, 1.0, -np.inf)
                s0 = U(l0 * row_size) + source
                s1 = U(l1 * row_size) + source
                s2 = U(l2 * row_size) + source
                p0 = 3 * g
                if single and l2 == n_states:
                    for c in range(count):
                        best, state = _better(scores[s0 + c] + a0, 0, scores[s1 + c] + a1, 1)
                        scores[target + c] = best + emitted[emission_here + c]
                        pointers[back + c] |= np.uint8((state & field) << bits)
                elif single:
                    for c in range(count):
                        best, state = _better(scores[s0 + c] + a0, 0, scores[s1 + c] + a1, 1)
                        best, state = _better(best, state, scores[s2 + c] + a2, 2)
                        scores[target + c] = best + emitted[emission_here + c]
                        pointers[back + c] |= np.uint8((state & field) << bits)
                elif g == n_groups[k] - 1:
                    for c in range(count):
                        best, state = _better(scores[target + c], best_state[c],
                                              scores[s0 + c] + a0, p0)
                        best, state = _better(best, state, scores[s1 + c] + a1, p0 + 1)
                        best, state = _better(best, state, scores[s2 + c] + a2, p0 + 2)
                        scores[target + c] = best + emitted[emission_here + c]
                        pointers[back + c] |= np.uint8((state & field) << bits)
                else:
                    for c in range(count):
                        best, state = _better(scores[target + c], best_state[c],
                                              scores[s0 + c] + a0, p0)
                        best, state = _better(best, state, scores[s1 + c] + a1, p0 + 1)
                        best, state = _better(best, state, scores[s2 + c] + a2, p0 + 2)
                        scores[target + c] = best
                        best_state[c] = state
    final = (n + m) % 3 * width
    best, state = -np.inf, -1
    for k in range(n_states):
        if scores[k * row_size + final] + log_end[k] > best:
            best, state = scores[k * row_size + final] + log_end[k], k
    path = np.empty(n + m, dtype=np.int64)
    length = 0
    i, j = n, m
    while state >= 0:
        path[length] = state
        length += 1
        if i + j == dx[state] + dy[state]:
            previous = -1
        else:
            cell = byte[state] * n_cells + offsets[i + j] + i - _lo(i + j, m)
            previous = groups[state, (pointers[cell] >> shift[state]) & mask[state]]
        i -= dx[state]
        j -= dy[state]
        state = previous
    return path[:length][::-1].copy(), best


@njit(cache=True, parallel=True)
def batch_forward_score(xs, x_offsets, ys, y_offsets, dx, dy, emission, start, transmat, end):
    """log P of every pair ``(xs[x_offsets[p]:...], ys[y_offsets[p]:...])``, in parallel."""
    n_pairs = x_offsets.shape[0] - 1
    loglik = np.empty(n_pairs)
    for p in prange(n_pairs):
        loglik[p] = forward_score(xs[x_offsets[p]:x_offsets[p + 1]],
                                  ys[y_offsets[p]:y_offsets[p + 1]],
                                  dx, dy, emission, start, transmat, end)
    return loglik


@njit(cache=True, parallel=True)
def batch_viterbi(xs, x_offsets, ys, y_offsets, dx, dy, log_emission, log_start,
                  log_transmat, log_end):
    """Viterbi of every pair in parallel: paths end to end, their lengths and scores.

    Pair ``p``'s path starts at ``x_offsets[p] + y_offsets[p]`` (a path has at most
    ``len(x) + len(y)`` states).
    """
    n_pairs = x_offsets.shape[0] - 1
    paths = np.empty(x_offsets[-1] + y_offsets[-1], dtype=np.int64)
    lengths = np.empty(n_pairs, dtype=np.int64)
    scores = np.empty(n_pairs)
    for p in prange(n_pairs):
        path, score = viterbi(xs[x_offsets[p]:x_offsets[p + 1]],
                              ys[y_offsets[p]:y_offsets[p + 1]],
                              dx, dy, log_emission, log_start, log_transmat, log_end)
        first = x_offsets[p] + y_offsets[p]
        paths[first:first + path.shape[0]] = path
        lengths[p] = path.shape[0]
        scores[p] = score
    return paths, lengths, scores


@njit(cache=True, parallel=True)
def batch_expectations(xs, x_offsets, ys, y_offsets, chunks, dx, dy, emission, start,
                       transmat, end):
    """Counts summed over pairs (per-chunk accumulators), and log P per pair."""
    n_pairs = x_offsets.shape[0] - 1
    n_chunks = chunks.shape[0] - 1
    n_states = start.shape[0]
    loglik = np.empty(n_pairs)
    transitions = np.zeros((n_chunks, n_states, n_states))
    starts = np.zeros((n_chunks, n_states))
    ends = np.zeros((n_chunks, n_states))
    emissions = np.zeros((n_chunks,) + emission.shape)  # noqa: RUF005 (numba: no * in tuples)
    for c in prange(n_chunks):
        for p in range(chunks[c], chunks[c + 1]):
            found = expectations(xs[x_offsets[p]:x_offsets[p + 1]],
                                 ys[y_offsets[p]:y_offsets[p + 1]],
                                 dx, dy, emission, start, transmat, end)
            loglik[p] = found[0]
            transitions[c] += found[2]
            starts[c] += found[3]
            ends[c] += found[4]
            emissions[c] += found[5]
    return (loglik, transitions.sum(axis=0), starts.sum(axis=0), ends.sum(axis=0),
            emissions.sum(axis=0))


@njit(cache=True)
def _mea_table(match_posterior):
    """Scores (best sum of match posteriors up to each cell) and moves of the MEA DP."""
    n, m = match_posterior.shape
    score = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=np.int8)
    for i in range(1, n + 1):
        move[i, 0] = 1
    for j in range(1, m + 1):
        move[0, j] = 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best, arg = score[i - 1, j - 1] + match_posterior[i - 1, j - 1], 0
            if score[i - 1, j] > best:
                best, arg = score[i - 1, j], 1
            if score[i, j - 1] > best:
                best, arg = score[i, j - 1], 2
            score[i, j] = best
            move[i, j] = arg
    return score, move


@njit(cache=True)
def mea_path(match_posterior):
    """Maximum expected accuracy alignment: maximise the sum of match posteriors.

    Returns moves ``0`` match, ``1`` x-gap (letter of x only), ``2`` y-gap, in order.
    """
    n, m = match_posterior.shape
    _, move = _mea_table(match_posterior)
    moves = np.empty(n + m, dtype=np.int8)
    length = 0
    i, j = n, m
    while i > 0 or j > 0:
        step = move[i, j]
        moves[length] = step
        length += 1
        if step != 2:
            i -= 1
        if step != 1:
            j -= 1
    return moves[:length][::-1].copy()


@njit(cache=True, parallel=True)
def batch_expected_accuracy(xs, x_offsets, ys, y_offsets, dx, dy, emission, start, transmat,
                            end):
    """Per pair, in parallel: the MEA alignment's summed match posterior over the shorter
    length (ProbCons' expected accuracy), and log P (``-inf``: impossible, accuracy NaN)."""
    n_pairs = x_offsets.shape[0] - 1
    accuracy = np.empty(n_pairs)
    loglik = np.empty(n_pairs)
    for p in prange(n_pairs):
        x = xs[x_offsets[p]:x_offsets[p + 1]]
        y = ys[y_offsets[p]:y_offsets[p + 1]]
        found = expectations(x, y, dx, dy, emission, start, transmat, end)
        loglik[p] = found[0]
        if found[0] == -np.inf:
            accuracy[p] = np.nan
            continue
        score, _ = _mea_table(found[1])
        accuracy[p] = score[x.shape[0], y.shape[0]] / max(1, min(x.shape[0], y.shape[0]))
    return accuracy, loglik
