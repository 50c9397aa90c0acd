"""Numba kernels for pair HMMs over a general pair-state table.

A model is a table of ``K`` emitting states: state ``k`` consumes ``dx[k]`` letters of
x and ``dy[k]`` of y (``(1, 1)`` match, ``(1, 0)`` insert in x, ``(0, 1)`` insert in y),
with ``start (K,)``, ``transmat (K, K)`` and ``end (K,)`` probabilities (all ones for a
free end). Emissions are one table per state, ``emission[k, a, b]`` with the gap code
``G = emission.shape[1] - 1`` standing for "no letter": an x-insert state reads
``emission[k, a, G]``. Sequences are integer codes ``< G``.

Numerics: cells of one anti-diagonal ``d = i + j`` have all emitted ``d`` letters, so
the forward (and backward) values are normalised by anti-diagonals (the forward's
every :func:`rescale_period` diagonals, the backward's every one), never per row (a
row-scaled forward underflows on 300-letter unrelated proteins). A diagonal's sum is
folded into the next reads' coefficients, which saves a pass; a steep model (one
whose rescale period is 1: a gap open of 1e-200, say) instead has every diagonal
divided by its sum where it lies, since its sums swing so far both ways that a
transition times a folded sum could underflow (:func:`_normalising`). Diagonal ``d`` is
stored with local index ``i - lo(d)``; the sweep order is the wavefront that SIMD
wants, and the inner loops run along a diagonal over contiguous memory.
Viterbi runs in log space with a byte of back-pointer per state and cell, in blocks
for large pairs (:func:`viterbi`).

A state that every finishing path keeps to an edge of the grid (a local model's x prefix
flank lies in the first column, its y suffix flank in the last row) is swept only
there (:func:`grid_edges`, :func:`_state_range`).

Bands: a ``band`` array holds, per diagonal d, the first and last i of the cells a
sweep computes (``band[0, d] .. band[1, d]``, :func:`band_from_envelope`); kernels that
always run on the whole grid (forward, Viterbi) take an empty ``(2, 0)`` band for it
(:func:`_band_at`), and the posterior pass keeps a full one (:func:`full_band`).

Speed (see ``scripts/bench_pair.py``): the per-diagonal loops index flat arrays with
unsigned offsets and create no array views and call no functions with array
arguments, because numba adds negative-index wrap-around to signed indices (which
stops vectorisation) and reference-counts every view and array argument with atomic
operations (which, per state and diagonal, used to dominate 300-letter pairs).
"""

import numpy as np
from numba import get_thread_id, njit, prange

from .gather import GATHER_WIDTH, gather_sums

#: Re-association (vectorised sums) and fused multiply-add only: no ``nnan``/``ninf``,
#: so ``-inf`` log-probabilities and zero probabilities keep their meaning.
FLOAT_FLAGS = {"reassoc", "contract"}
#: Unsigned offsets: numba adds negative wrap-around to signed indices, which stops
#: LLVM from vectorising the diagonal loops.
U = np.uint64
#: Diagonals whose emissions one call of ``_emissions_along`` lays out.
EMISSION_BLOCK = 16
#: The forward sums a diagonal (and rescales by the sum) every this many diagonals at
#: most (:func:`rescale_period`); each sum is a pass over the diagonal's cells.
RESCALE_EVERY = 8
#: How far (natural log) values may fall between rescalings: far from the smallest
#: double (about e^-708), so what is left of a diagonal's mass keeps its precision.
LOG_HEADROOM = 550.0
#: Back-pointer bytes (one a cell per state) Viterbi keeps before it runs in blocks.
VITERBI_POINTER_BYTES = 4 << 20
#: Diagonals of match posteriors written into a dense matrix at once, row by row:
#: written a diagonal at a time, every cell lands on another page (TLB misses).
DENSE_BLOCK = 64
#: Cells of a diagonal the sparse posterior lists test at once (:func:`_keep_at_least`).
KEEP_RUN = 64
#: Pairs of at least this many cells record where their forward holds its mass and run
#: the rest of :func:`posterior_pass` in that band when it is narrow.
BAND_MIN_CELLS = 1 << 16
#: A cell is in the band's envelope when its forward (all states) is at least this
#: share of its diagonal's sum.
BAND_FLOOR = 1e-30
#: A band is used when it covers at most this share of the grid's cells ...
BAND_MAX_SHARE = 0.5
#: ... and its paths hold all but at most this share of P(x, y) (else the pass runs on
#: the whole grid): every posterior and expected count is then within about twice this
#: of the whole grid's.
BAND_SLACK = 1e-9
#: The smallest sum a diagonal is divided by: one below it (the diagonal fell past the
#: double range since the last rescaling) is divided by this, which keeps every
#: coefficient finite (:func:`_divisor`).
SMALLEST_SUM = 1e-300
#: Flags of :func:`grid_edges`: a state whose cells all lie in the first column (j = 0),
#: the first row (i = 0), the last row (i = n) or the last column (j = m).
FIRST_COLUMN, FIRST_ROW, LAST_ROW, LAST_COLUMN = 1, 2, 4, 8


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


@njit(cache=True, inline="always")
def _state_range(d, n, m, dxk, dyk, edge):
    """:func:`_cell_range` of a state kept to the grid's ``edge`` (flags of
    :func:`grid_edges`): the first column (j = 0), the first row (i = 0), the last
    row (i = n) or the last column (j = m)."""
    i_min, i_max = _cell_range(d, n, m, dxk, dyk)
    if edge & FIRST_COLUMN:
        i_min = max(i_min, d)
    if edge & FIRST_ROW:
        i_max = min(i_max, 0)
    if edge & LAST_ROW:
        i_min = max(i_min, n)
    if edge & LAST_COLUMN:
        i_max = min(i_max, d - m)
    return i_min, i_max


@njit(cache=True, inline="always")
def _cone_range(d, n, m, dxk, dyk, edge, apex_i, apex_j):
    """i range of cells on diagonal d that a (dx, dy) state kept to ``edge``
    (:func:`_state_range`) can occupy on a path that ends at cell ``(apex_i, apex_j)``
    (``(n, m)``: the whole grid)."""
    i_min, i_max = _state_range(d, n, m, dxk, dyk, edge)
    return max(i_min, d - apex_j), min(i_max, apex_i)


@njit(cache=True)
def grid_edges(dx, dy, transmat, zero):
    """Per state, flags of the grid edges every path that can finish keeps it to
    (:func:`_state_range`), from which moves reach it and which it leads to (a
    ``transmat`` entry ``!= zero`` is an edge):

    - :data:`FIRST_COLUMN`: it reads no y letter, nor does any state before it (its
      predecessors are itself and other such states; begin is at (0, 0)), so j = 0:
      a local model's x prefix flank;
    - :data:`FIRST_ROW`: the same for x, so i = 0;
    - :data:`LAST_ROW`: it reads no x letter, nor does any state after it (its
      successors are itself and other such states; end is at (n, m)), so a path through
      it finishes only from i = n: a local model's y suffix flank;
    - :data:`LAST_COLUMN`: the same for y, so j = m.

    The forward of a state kept to the first column is zero elsewhere; one kept to
    the last row has a forward elsewhere that no finishing path reads (a zero
    backward). Sweeps skip those cells: a flanked model's x prefix and y suffix cost
    one cell a diagonal instead of a whole diagonal. Each set is the largest that
    satisfies its rule (states removed until none breaks it)."""
    n_states = dx.shape[0]
    edges = np.zeros(n_states, dtype=np.int64)
    for flag, moves, after in ((FIRST_COLUMN, dy, False), (FIRST_ROW, dx, False),
                               (LAST_ROW, dx, True), (LAST_COLUMN, dy, True)):
        kept = moves == 0
        changed = True
        while changed:
            changed = False
            for k in range(n_states):
                if not kept[k]:
                    continue
                for l in range(n_states):
                    linked = transmat[k, l] != zero if after else transmat[l, k] != zero
                    if l != k and linked and not kept[l]:
                        kept[k], changed = False, True
                        break
        for k in range(n_states):
            if kept[k]:
                edges[k] |= flag
    return edges


@njit(cache=True)
def full_band(n, m):
    """``band[0, d] .. band[1, d]``: the i range of every cell of diagonal d (no band)."""
    band = np.empty((2, n + m + 1), dtype=np.int64)
    for d in range(n + m + 1):
        band[0, d], band[1, d] = _lo(d, m), min(n, d)
    return band


@njit(cache=True, inline="always")
def _band_at(band, d, n, m):
    """The i range of ``band`` on diagonal d; an empty ``(2, 0)`` band is the whole grid."""
    if band.shape[1] == 0:
        return _lo(d, m), min(n, d)
    return band[0, d], band[1, d]


@njit(cache=True, inline="always")
def _band_window(band_lo, band_hi, d, n, m):
    """The i range a sweep clears on diagonal d around the band cells ``band_lo ..
    band_hi``: one more cell on each side, which the next diagonals read."""
    return max(_lo(d, m), band_lo - 1), min(min(n, d), band_hi + 1)


@njit(cache=True)
def band_from_envelope(envelope, n, m, margin, max_share):
    """The band (as :func:`full_band`) around the envelope the forward recorded on
    some diagonals (``envelope[0, d] .. envelope[1, d]``, ``-1`` where not recorded),
    or an empty ``(2, 0)`` array when it covers more than ``max_share`` of the grid.

    Diagonal d takes the union of the nearest recorded diagonals before and after it,
    ``margin`` cells wider on each side; the first and last three diagonals are whole.
    Then both bounds are made to rise by 0 or 1 a diagonal (by widening only), which
    is what the sweeps rely on: every cell of the band has a predecessor and a
    successor in it, each diagonal reads only its band's cells and one more on each
    side from its neighbours, and any two cells of the band that a path can join are
    joined by a path inside it (so a banded MEA loses only what lies outside)."""
    last = n + m
    band = full_band(n, m)
    after = np.full(last + 1, -1, dtype=np.int64)
    recorded = -1
    for d in range(last, -1, -1):
        if envelope[0, d] >= 0:
            recorded = d
        after[d] = recorded
    recorded = -1
    for d in range(last + 1):
        if envelope[0, d] >= 0:
            recorded = d
        if d <= 2 or d >= last - 2 or recorded < 0 or after[d] < 0:
            continue
        band[0, d] = min(envelope[0, recorded], envelope[0, after[d]]) - margin
        band[1, d] = max(envelope[1, recorded], envelope[1, after[d]]) + margin
    for d in range(last - 1, -1, -1):
        band[0, d] = min(band[0, d], band[0, d + 1])
        band[1, d] = max(band[1, d], band[1, d + 1] - 1)
    for d in range(1, last + 1):
        band[0, d] = min(band[0, d], band[0, d - 1] + 1)
        band[1, d] = max(band[1, d], band[1, d - 1])
    area = 0
    for d in range(last + 1):
        band[0, d] = max(band[0, d], _lo(d, m))
        band[1, d] = min(band[1, d], min(n, d))
        if band[0, d] > band[1, d]:
            return np.empty((2, 0), dtype=np.int64)
        area += band[1, d] - band[0, d] + 1
    if area > max_share * (n + 1) * (m + 1):
        return np.empty((2, 0), dtype=np.int64)
    return band


@njit(cache=True)
def emission_buffer_size(n, m, n_states):
    """Doubles the emission buffer of :func:`_emission_lookup` takes for an ``n x m``
    pair (a profile per state, and :data:`EMISSION_BLOCK` diagonals of match emissions)."""
    return n_states * (max(n, m) + 1 + EMISSION_BLOCK * (min(n, m) + 1))


@njit(cache=True)
def _emission_lookup(x, y, dx, dy, emission, ring, buffer):
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
    a state's emissions on a diagonal start. ``emitted`` is the start of ``buffer``
    (at least :func:`emission_buffer_size` doubles, zeroed here), which a caller may
    reuse across pairs: a fresh allocation this size costs page faults every call.
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
    emitted = buffer[:n_states * (profile_size + ring * (min(n, m) + 1))]
    emitted[:] = 0.0
    for k in range(n_states):
        if dx[k] + dy[k] == 1:
            for c in range(n + 1 if dx[k] else m + 1):
                emitted[k * profile_size + c] = flat_emission[k, rows[dx[k], c * dx[k]]
                                                              + columns[dy[k], c * dy[k]]]
    return rows, columns, emitted, emission.reshape(-1)


@njit(cache=True, inline="always")
def _emission_offset(d, k, i_min, n, m, dxk, dyk, n_states, ring):
    """Where the emissions of state k (moves ``dxk, dyk``) at cells ``i_min ..`` of
    diagonal d start in the buffer of :func:`_emission_lookup`."""
    profile_size = max(n, m) + 1
    if dxk + dyk == 1:
        return k * profile_size + (i_min if dxk == 1 else m - d + i_min)
    return n_states * profile_size + ((d % ring) * n_states + k) * (min(n, m) + 1)


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _emissions_along(first, count, n, m, dx, dy, rows, columns, table, emitted, ring, apex_i,
                     apex_j, band):
    """Match states' emissions on diagonals ``first .. first + count - 1``, gathered
    from the flat emission ``table`` into ``emitted`` (see :func:`_emission_lookup`),
    for the cells of a path that ends at ``(apex_i, apex_j)`` (:func:`_cone_range`)
    within ``band`` (empty: the whole grid; see :func:`_band_at`).
    One call serves several diagonals because a call's array arguments cost atomic
    reference counts. Eight cells at a time by a vector gather (:mod:`.gather`: LLVM
    leaves this loop scalar), the rest one by one."""
    n_states = dx.shape[0]
    table_size = table.shape[0] // n_states
    for e in range(first, first + count):
        band_lo, band_hi = _band_at(band, e, n, m)
        for k in range(n_states):
            i_min, i_max = _cone_range(e, n, m, dx[k], dy[k], 0, apex_i, apex_j)
            i_min, i_max = max(i_min, band_lo), min(i_max, band_hi)
            if dx[k] + dy[k] != 2 or i_min > i_max:
                continue
            target = U(_emission_offset(e, k, i_min, n, m, 1, 1, n_states, ring))
            column = U(m - e + i_min)
            state_table = U(k * table_size)
            count = U(i_max - i_min + 1)
            done = U(0)
            while done + GATHER_WIDTH <= count:  # flat offsets of rows[1, i], columns[1, j]
                gather_sums(emitted, target + done, table, state_table, rows,
                            U(n + 1 + i_min) + done, columns, U(m + 1) + column + done)
                done += U(GATHER_WIDTH)
            for c in range(done, count):
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


@njit(cache=True)
def _smallest_positive(array):
    """The smallest positive entry of ``array`` (1 when it has none below 1)."""
    smallest = 1.0
    for value in array.flat:
        if 0.0 < value < smallest:
            smallest = value
    return smallest


@njit(cache=True)
def rescale_period(emission, transmat):
    """How many diagonals the forward runs between rescalings: up to
    :data:`RESCALE_EVERY`, fewer when the model's smallest non-zero emission times its
    smallest non-zero transition, which bounds how far a diagonal can fall below the
    one before, could take more than :data:`LOG_HEADROOM` over the period."""
    fall = -np.log(_smallest_positive(emission)) - np.log(_smallest_positive(transmat))
    return max(1, min(RESCALE_EVERY, int(LOG_HEADROOM / max(fall, 1.0))))


@njit(cache=True, inline="always")
def _normalising(period):
    """Whether sweeps divide each diagonal by its sum in place (a model whose
    :func:`rescale_period` is 1) rather than fold the sum into the next reads."""
    return period == 1


@njit(cache=True, inline="always")
def _folds(normalising, nearer, farther):
    """What a sweep multiplies reads of the nearer and the farther diagonal by, given
    their sums: both sums folded in, or (:func:`_normalising`) only the nearer's into
    the farther's reads, since each diagonal is divided by its own sum in place."""
    if normalising:
        return 1.0, 1.0 / nearer
    inverse1 = 1.0 / nearer
    return inverse1, inverse1 / farther


@njit(cache=True, inline="always")
def _divisor(total):
    """What a diagonal summing to ``total`` is scaled by: the sum, 1 for an empty
    diagonal, at least :data:`SMALLEST_SUM` (so its inverse is finite)."""
    if total == 0.0:
        return 1.0
    return max(total, SMALLEST_SUM)


@njit(cache=True, inline="always")
def _clear_edges(cells, here, width, first, last, zero):
    """Set cells ``here + [0, first)`` and ``here + (last, width)`` (offsets along a
    diagonal) to ``zero``: where a state cannot be, which its successors still read."""
    for c in range(min(first, width)):
        cells[here + U(c)] = zero
    for c in range(max(last + 1, 0), width):
        cells[here + U(c)] = zero



@njit(cache=True, inline="always")
def _cell_sum(cells, positions, n_states, d, offset):
    """The forward of every state at cell ``offset`` of diagonal d."""
    total = 0.0
    for k in range(n_states):
        total += cells[positions[k, d] + offset]
    return total


@njit(cache=True, inline="always")
def _scale(cells, here, count, factor):
    """Multiply ``cells[here : here + count]`` by ``factor``."""
    for c in range(U(count)):
        cells[here + c] *= factor


@njit(cache=True, inline="always")
def _record_envelope(cells, positions, n_states, d, lo, hi, floor, envelope, recorded):
    """Record in ``envelope[:, d]`` the first and last i of diagonal d (cells ``lo ..
    hi``) whose forward reaches ``floor``, each searched from where the envelope of
    diagonal ``recorded`` had it (the whole diagonal's ends for the first): outwards
    while cells reach the floor, else inwards until one does. A band is a shape that
    moves little between diagonals, so this reads a few cells a diagonal, not all; a
    second ridge beyond a gap is missed, which the band's check then finds."""
    low = max(lo, min(hi, envelope[0, recorded])) if recorded > 0 else lo
    high = max(lo, min(hi, envelope[1, recorded])) if recorded > 0 else hi
    if _cell_sum(cells, positions, n_states, d, low - lo) >= floor:
        while low > lo and _cell_sum(cells, positions, n_states, d, low - 1 - lo) >= floor:
            low -= 1
    else:
        while low < hi and _cell_sum(cells, positions, n_states, d, low - lo) < floor:
            low += 1
    high = max(high, low)
    if _cell_sum(cells, positions, n_states, d, high - lo) >= floor:
        while high < hi and _cell_sum(cells, positions, n_states, d, high + 1 - lo) >= floor:
            high += 1
    else:
        while high > low and _cell_sum(cells, positions, n_states, d, high - lo) < floor:
            high -= 1
    envelope[0, d], envelope[1, d] = low, high


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _forward_sweep(n, m, dx, dy, start, transmat, lookup, groups, n_groups, confined,
                   cells, positions, sums, first, last, period, band, envelope):
    """Forward diagonals ``first .. last`` into ``cells`` and the sum of each into ``sums``.

    State k's diagonal d starts at ``positions[k, d]`` in ``cells``: rolling or
    checkpointing columns of a row per state, or every diagonal kept (in the order of
    :func:`diagonal_offsets`), as :func:`posterior_pass` keeps the match states'
    forwards for its backward, written there and not copied; row ``K`` of
    ``positions``, the dummy predecessor, reads zeros only. Diagonals ``first - 1`` and
    ``first - 2`` must be there already, and ``sums[0] == 1``. Diagonals stay
    unnormalised: diagonal d holds ``true / (t_1 ... t_{d-1})`` with ``t_e = sums[e]``,
    what diagonal e sums to when ``e`` is a multiple of ``period``
    (:func:`rescale_period`; see :func:`_divisor`) and 1 otherwise, folded into
    the reads of the next two diagonals, which saves a pass; with ``period == 1``
    (:func:`_normalising`) diagonal d is divided by ``t_d`` where it lies instead, and
    holds ``true / (t_1 ... t_d)`` (:func:`_log_scales`). Each state takes one pass per
    group of three predecessors; the last pass also multiplies in the emissions. Run
    again from the same two stored diagonals, it writes the same numbers (the
    posterior pass recomputes blocks this way).

    Only the cells of ``band`` are computed (empty: all, see :func:`_band_at`;
    :func:`band_from_envelope` says what a band must be), and of those only the ones on
    a state's grid edge for a state kept to one (``confined``, :func:`grid_edges`); one
    more on each side is cleared. When ``envelope`` is not empty (``(2, n + m + 1)``),
    each summed diagonal records there the first and last i whose forward, all states
    together, is at least :data:`BAND_FLOOR` of the diagonal's sum
    (:func:`_record_envelope`).

    Speed: the loops index flat arrays with unsigned offsets and make no views and
    no calls: signed indices (negative wrap-around) stop LLVM from vectorising, and
    each view or array argument costs atomic reference counting, which per state and
    diagonal dominated short pairs.
    """
    rows, columns, emitted, table = lookup
    n_states = start.shape[0]
    normalising = _normalising(period)
    recorded = 0  # the last diagonal whose envelope was recorded
    for d in range(first, last + 1):
        inverse1, inverse2 = _folds(normalising, sums[d - 1], sums[d - 2] if d >= 2 else 1.0)
        lo = _lo(d, m)
        total = 0.0
        phase = (d - 1) % EMISSION_BLOCK
        if d == first or phase == 0:
            _emissions_along(d, min(EMISSION_BLOCK - phase, last + 1 - d), n, m, dx, dy, rows,
                             columns, table, emitted, EMISSION_BLOCK, n, m, band)
        band_lo, band_hi = _band_at(band, d, n, m)
        window_lo, window_hi = _band_window(band_lo, band_hi, d, n, m)
        for k in range(n_states):
            here = U(positions[k, d])
            i_min, i_max = _state_range(d, n, m, dx[k], dy[k], confined[k])
            i_min, i_max = max(i_min, band_lo), min(i_max, band_hi)
            _clear_edges(cells, here + U(window_lo - lo), window_hi - window_lo + 1,
                         i_min - window_lo, i_max - window_lo, 0.0)
            if i_min > i_max:
                continue
            step = dx[k] + dy[k]
            count = U(i_max - i_min + 1)
            target = here + U(i_min - lo)
            source = U(i_min - dx[k] - _lo(d - step, m))
            factor = inverse1 if step == 1 else inverse2
            emission_here = U(_emission_offset(d, k, i_min, n, m, dx[k], dy[k], n_states,
                                               EMISSION_BLOCK))
            if d == step:  # the state's one cell here comes from begin only
                cells[target] = (start[k] * (1.0 if step == 1 else 1.0 / sums[1])
                                 * emitted[emission_here])
            else:
                for g in range(n_groups[k]):
                    l0, l1, l2 = groups[k, 3 * g], groups[k, 3 * g + 1], groups[k, 3 * g + 2]
                    a0 = _coefficient(transmat, l0, k, factor, 0.0)
                    a1 = _coefficient(transmat, l1, k, factor, 0.0)
                    a2 = _coefficient(transmat, l2, k, factor, 0.0)
                    s0 = U(positions[l0, d - step]) + source
                    s1 = U(positions[l1, d - step]) + source
                    s2 = U(positions[l2, d - step]) + source
                    first_group = g == 0
                    last_group = g == n_groups[k] - 1
                    if first_group and last_group and l2 == n_states:
                        for c in range(count):
                            cells[target + c] = ((a0 * cells[s0 + c] + a1 * cells[s1 + c])
                                                 * emitted[emission_here + c])
                        continue
                    for c in range(count):
                        value = a0 * cells[s0 + c] + a1 * cells[s1 + c] + a2 * cells[s2 + c]
                        if not first_group:
                            value += cells[target + c]
                        cells[target + c] = (value * emitted[emission_here + c] if last_group
                                             else value)
            if d % period == 0:
                for c in range(count):
                    total += cells[target + c]
        if envelope.shape[1] > 0 and d % period == 0:
            _record_envelope(cells, positions, n_states, d, lo, min(n, d), total * BAND_FLOOR,
                             envelope, recorded)
            recorded = d
        sums[d] = _divisor(total) if d % period == 0 else 1.0
        if normalising:  # (cells outside the band are zero)
            for k in range(n_states):
                _scale(cells, U(positions[k, d] + band_lo - lo), band_hi - band_lo + 1,
                       1.0 / sums[d])


@njit(cache=True)
def forward_score(x, y, dx, dy, emission, start, transmat, end):
    """log P(x, y) in O(len(x) + len(y)) memory: three rolling anti-diagonals."""
    n, m = x.shape[0], y.shape[0]
    n_states = start.shape[0]
    width = min(n, m) + 1
    cells = np.zeros((n_states + 1) * 3 * width)
    positions = (np.arange(n_states + 1).reshape(-1, 1) * 3 * width
                 + (np.arange(n + m + 1) % 3) * width)
    sums = np.ones(n + m + 1)
    groups, n_groups = _predecessor_groups(transmat, 0.0)
    lookup = _emission_lookup(x, y, dx, dy, emission, EMISSION_BLOCK,
                              np.empty(emission_buffer_size(n, m, n_states)))
    period = rescale_period(emission, transmat)
    _forward_sweep(n, m, dx, dy, start, transmat, lookup, groups, n_groups,
                   grid_edges(dx, dy, transmat, 0.0), cells, positions, sums, 1, n + m, period,
                   np.empty((2, 0), dtype=np.int64), np.empty((2, 0), dtype=np.int64))
    return _forward_loglik(cells, positions, sums, period, end, n + m)


@njit(cache=True)
def _log_scales(sums, period, last):
    """The log of what each diagonal ``0 .. last`` of a forward swept with ``sums`` is
    divided by: ``log (t_1 ... t_{d-1})``, and ``t_d`` too when the sweep normalises
    (:func:`_forward_sweep`)."""
    scales = np.zeros(last + 1)
    for d in range(1, last + 1):
        scales[d] = scales[d - 1] + np.log(sums[d - 1])
    if _normalising(period):
        scales += np.log(sums[:last + 1])
    return scales


@njit(cache=True)
def _forward_loglik(cells, positions, sums, period, end, last):
    """log P from a forward swept to diagonal ``last`` (``-inf`` when impossible)."""
    total = 0.0
    for k in range(end.shape[0]):
        total += cells[positions[k, last]] * end[k]
    if total <= 0.0:
        return -np.inf
    return _log_scales(sums, period, last)[last] + np.log(total)


@njit(cache=True)
def block_firsts(n, m, block):
    """First diagonal of each block of ``block`` diagonals over ``1 .. n + m``, then
    ``n + m + 1``: the posterior pass keeps the forward of one block at a time."""
    last = n + m
    n_blocks = max(1, (last + block - 1) // block)
    firsts = np.empty(n_blocks + 1, dtype=np.int64)
    for b in range(n_blocks):
        firsts[b] = 1 + b * block
    firsts[n_blocks] = last + 1
    return firsts


@njit(cache=True)
def _forward_layout(n, m, block):
    """Where the checkpointing forward pass puts each diagonal, in columns of one row.

    Columns: two checkpoint diagonals per block that is neither the first (it starts
    from begin) nor the last (kept whole from the first pass), then room for the
    largest block, then three rolling diagonals for everything else; ``block == 0``
    (only match forwards kept, see :func:`posterior_pass`): three rolling diagonals.
    Returns each diagonal's column, the diagonal offsets, the block firsts, the row
    size and where the block room starts.
    """
    offsets = diagonal_offsets(n, m)
    if block == 0:
        firsts = np.array([1, n + m + 1])
        starts = (np.arange(n + m + 1) % 3) * (min(n, m) + 1)
        return starts, offsets, firsts, 3 * (min(n, m) + 1), 0
    firsts = block_firsts(n, m, block)
    n_blocks = firsts.shape[0] - 1
    starts = np.full(n + m + 1, -1, dtype=np.int64)
    column = 0
    for b in range(1, n_blocks - 1):
        for d in range(firsts[b] - 2, firsts[b]):
            starts[d] = column
            column += offsets[d + 1] - offsets[d]
    block_room = column
    largest = 0
    for b in range(n_blocks):
        largest = max(largest, offsets[firsts[b + 1]] - offsets[firsts[b]])
    rolling = block_room + largest
    for d in range(n + m + 1):
        if d >= firsts[n_blocks - 1]:
            starts[d] = block_room + offsets[d] - offsets[firsts[n_blocks - 1]]
        elif starts[d] < 0:
            starts[d] = rolling + (d % 3) * (min(n, m) + 1)
    return starts, offsets, firsts, rolling + 3 * (min(n, m) + 1), block_room


@njit(cache=True)
def workspace_size(n, m, dx, dy, block):
    """Doubles of the workspace :func:`posterior_pass` needs for an ``n x m`` pair."""
    row_size = _forward_layout(n, m, block)[3]
    n_states = dx.shape[0]
    kept = 0 if block else (dx * dy).sum() * (n + 1) * (m + 1)
    return (n_states + 1) * (row_size + 3 * (min(n, m) + 3)) + 8 * (min(n, m) + 3) + kept


@njit(cache=True)
def kept_capacity(n, m, threshold):
    """Entries the sparse posterior lists of :func:`posterior_pass` take at ``threshold``:
    all they can need, allocated at the start (touched only as used), since lists grown
    in the loop would cost atomic reference counts on every diagonal. The match
    posteriors sum to at most ``min(n, m)``, so at most ``min(n, m) / threshold`` cells
    reach the threshold (a margin for rounding), plus a diagonal written before its
    test."""
    bound = min(float(n * m), np.ceil(min(n, m) * (1.0 + 1e-9) / threshold))
    return int(bound) + 2 * min(n, m) + 16


@njit(cache=True, inline="always")
def _dense_slot(d, m):
    """Where cell ``i = lo(d)`` of diagonal d goes in the buffer of :func:`_write_dense`
    (cell i is ``(i - lo(d)) * DENSE_BLOCK`` further): its run of :data:`DENSE_BLOCK`
    diagonals starts at ``max(1, d - d % DENSE_BLOCK)``, whose cells start at
    ``lo`` of it, and the run spans at most ``min(n, m) + DENSE_BLOCK`` rows."""
    first = max(1, d - d % DENSE_BLOCK)
    return U((_lo(d, m) - _lo(first, m)) * DENSE_BLOCK + d % DENSE_BLOCK)


@njit(cache=True)
def _write_dense(dense, buffered, band, first, last, n, m):
    """Match posteriors of the ``band`` cells of diagonals ``first .. last`` (one aligned
    run of :data:`DENSE_BLOCK`; cell i of diagonal e at ``buffered[(i - lo(first)) *
    DENSE_BLOCK + e % DENSE_BLOCK]``, :func:`_dense_slot`) into the ``(n, m)`` matrix
    ``dense``, row by row: each row's cells are contiguous on both sides, a copy LLVM
    vectorises. A row's band cells are one run of diagonals, since both bounds of a
    band rise with e (:func:`band_from_envelope`): from the first e whose band reaches
    down to row i to the last whose band starts at or above it."""
    flat = dense.reshape(-1)
    base = _lo(first, m)
    reaching, starting = first, first - 1  # the run of row i: reaching .. starting
    for i in range(max(1, base), min(n, last - 1) + 1):
        while reaching <= last and band[1, reaching] < i:
            reaching += 1
        while starting < last and band[0, starting + 1] <= i:
            starting += 1
        e_first, e_last = max(reaching, i + 1), min(starting, i + m)
        source = U((i - base) * DENSE_BLOCK) + U(e_first % DENSE_BLOCK)
        target = U((i - 1) * m + e_first - i - 1)
        for c in range(U(max(0, e_last - e_first + 1))):
            flat[target + c] = buffered[source + c]


@njit(cache=True, inline="always")
def _keep_at_least(match, at, first, last, d, threshold, rows, columns, values, n_kept):
    """Append the cells ``i = first .. last`` of diagonal d whose match posterior
    (``match[at + i]``) is at least ``threshold`` to the lists ``rows, columns, values``
    from ``n_kept`` on; returns the new length. Runs of :data:`KEEP_RUN` cells are first
    counted (a vectorised loop) and skipped when none qualifies, as most are: the
    appending loop stores every cell before it tests it, three scalar stores a cell."""
    for run_first in range(first, last + 1, KEEP_RUN):
        run_last = min(run_first + KEEP_RUN - 1, last)
        hits = 0
        for c in range(at + U(run_first), at + U(run_last) + U(1)):
            hits += match[c] >= threshold
        if hits == 0:
            continue
        for i in range(run_first, run_last + 1):  # written, kept if at least the threshold
            value = match[at + U(i)]
            rows[n_kept], columns[n_kept] = i - 1, d - i - 1
            values[n_kept] = value
            n_kept += value >= threshold
    return n_kept


@njit(cache=True, fastmath=FLOAT_FLAGS, inline="always")
def _mea_step(d, n, m, band, score, match, slot_size, moves, offsets):
    """One anti-diagonal of the MEA suffix table (read backwards, from the end).

    ``score`` at cell (i, j) is the best sum of match posteriors over the rest of an
    alignment from (i, j) to (n, m): a match into (i+1, j+1) gains its posterior,
    gaps gain nothing. Only the cells of ``band`` (:func:`band_from_envelope`), in
    three rolling diagonals padded with ``-inf`` on each side of it; ties go to the
    match, then the x gap. ``moves`` (if not empty) keeps each cell's choice, 0 match,
    1 x gap, 2 y gap, in diagonal-major order.
    """
    lo = _lo(d, m)
    width = U(band[1, d] - band[0, d] + 1)
    here = U((d % 3) * slot_size + band[0, d] - lo)
    score[here] = -np.inf
    score[here + width + 1] = -np.inf
    if d == n + m:
        score[here + 1] = 0.0
        return
    next1 = U(((d + 1) % 3) * slot_size + 1 + band[0, d] - _lo(d + 1, m))
    next2 = U(((d + 2) % 3) * slot_size + 2 + band[0, d] - _lo(d + 2, m))
    x_next = next1 + U(1)  # (unsigned: a signed index stops vectorisation)
    if moves.shape[0] > 0:
        cell = U(offsets[d] + band[0, d] - lo)
        for c in range(width):
            diagonal = match[next2 + c] + score[next2 + c]
            x_gap, y_gap = score[x_next + c], score[next1 + c]
            best = x_gap if x_gap > diagonal else diagonal
            score[here + U(1) + c] = y_gap if y_gap > best else best
            moves[cell + c] = np.uint8(2 if y_gap > best else (1 if x_gap > diagonal else 0))
    else:
        for c in range(width):
            diagonal = match[next2 + c] + score[next2 + c]
            x_gap, y_gap = score[x_next + c], score[next1 + c]
            best = x_gap if x_gap > diagonal else diagonal
            score[here + U(1) + c] = y_gap if y_gap > best else best


@njit(cache=True, fastmath=FLOAT_FLAGS, nogil=True)
def posterior_pass(x, y, dx, dy, emission, start, transmat, end, block, workspace, counts,
                   transitions, starts_count, ends_count, emissions, dense, threshold, mea,
                   moves, band_cells):
    """Forward-backward of one pair in bounded memory, its results fused into the backward.

    The forward runs once over all diagonals keeping two checkpoint diagonals per block
    of ``block`` diagonals (and the last block whole); the backward then walks the
    blocks from the end, recomputing each block's forward from its checkpoints
    (:func:`_forward_sweep` writes the same numbers again), so memory is that of one
    block plus the checkpoints (:func:`workspace_size` doubles, taken from
    ``workspace``). With ``block == 0`` the forward keeps only the match states' values
    (8 bytes a cell per match state) and nothing is recomputed; the other states'
    forwards are gone, so counts need a positive block. The backward keeps three
    rolling diagonals of ``emission x backward`` per state, pulls each state's backward
    from its successors in groups of three (as the forward does from predecessors, the
    groups' running sum in a scratch slot; the last pass also sums the diagonal,
    multiplies in the emission and writes forward times backward where it is read, in
    one loop), folds each diagonal's sum into the next reads, and, per diagonal, turns
    forward times backward into what is asked for:

    - ``counts``: expected counts added into ``transitions (K, K)``, ``starts_count``,
      ``ends_count`` and ``emissions`` (shaped like ``emission``): transitions by one dot
      product per edge, insert emissions summed per letter position, match emissions
      scattered per cell;
    - ``dense`` (an ``(n, m)`` array of zeros, or empty): the match posteriors written
      into it (those of the band's cells: the rest, zero, is not written);
    - ``threshold > 0``: the match posteriors at least that, as coordinate lists;
    - ``mea``: the maximum expected accuracy table (:func:`_mea_step`), its moves kept
      in ``moves`` when that is not empty (one byte per cell, diagonal-major).

    A pair of at least ``band_cells`` cells (:data:`BAND_MIN_CELLS`) runs the rest in a
    band when it can: its first forward records where the forward holds its mass, and
    when the band around that (:func:`band_from_envelope`) covers at most
    :data:`BAND_MAX_SHARE` of the grid, the forward runs again inside it. If the band's
    paths hold at least ``1 -`` :data:`BAND_SLACK` of P(x, y), which the first forward
    proves, the backward and all it computes keep to the band (posteriors outside it
    are zero, those inside are of the band's paths, and the MEA alignment is the best
    inside it); otherwise the forward runs on the whole grid again and so does the rest.

    Returns log P (of the whole grid), the MEA score (summed match posteriors of the
    best alignment; NaN without ``mea``), the kept posteriors' rows, columns and
    values, and whether the pass ran banded. An impossible pair returns ``-inf`` and
    adds nothing.
    """
    n, m = x.shape[0], y.shape[0]
    n_states = start.shape[0]
    last = n + m
    if counts and block == 0:
        raise ValueError("counts need every state's forward: block must be positive")
    lookup = _emission_lookup(x, y, dx, dy, emission, EMISSION_BLOCK,
                              np.empty(emission_buffer_size(n, m, n_states)))
    rows, columns, emitted, table = lookup
    groups, n_groups = _predecessor_groups(transmat, 0.0)
    successors, n_successors = _predecessor_groups(np.ascontiguousarray(transmat.T), 0.0)
    confined = grid_edges(dx, dy, transmat, 0.0)
    columns_f, offsets, firsts, row_f, block_room = _forward_layout(n, m, block)
    n_blocks = firsts.shape[0] - 1
    slot_size = min(n, m) + 3
    row_w = 3 * slot_size
    forward = workspace  # rows of row_f per state (block 0: the match states' at kept_at)
    # emission x backward: rows of row_w per state, the dummy's, then two scratch slots
    weighted = workspace[(n_states + 1) * row_f:(n_states + 1) * (row_f + row_w)
                         + 2 * slot_size]
    scratch = U((n_states + 1) * row_w)
    score = workspace[(n_states + 1) * (row_f + row_w) + 2 * slot_size:][:row_w]
    match = workspace[(n_states + 1) * (row_f + row_w) + 2 * slot_size + row_w:][:row_w]
    positions = np.arange(n_states + 1).reshape(-1, 1) * row_f + columns_f
    if block == 0:  # the match states' forwards are kept whole (the others roll)
        kept_at = (n_states + 1) * (row_f + row_w) + 2 * slot_size + 2 * row_w
        for k in range(n_states):
            if dx[k] * dy[k]:
                positions[k] = kept_at + offsets[:last + 1]
                kept_at += offsets[-1]
    forward[n_states * row_f:(n_states + 1) * row_f] = 0.0
    weighted[:] = 0.0
    score[:] = -np.inf
    match[:] = 0.0
    sums = np.ones(last + 1)
    period = rescale_period(emission, transmat)
    normalising = _normalising(period)
    band = full_band(n, m)
    envelope = np.full((2, last + 1 if n * m >= band_cells else 0), -1, dtype=np.int64)
    narrow = no_envelope = np.empty((2, 0), dtype=np.int64)
    exact, banded = -np.inf, False
    stage = 0  # 0: the whole grid, recording the envelope; 1: the band; 2: the whole
    while True:  # grid again, when the band misses mass
        sums[:] = 1.0
        _forward_sweep(n, m, dx, dy, start, transmat, lookup, groups, n_groups, confined,
                       forward, positions, sums, 1, last, period, narrow if stage == 1 else band,
                       envelope if stage == 0 else no_envelope)
        found = _forward_loglik(forward, positions, sums, period, end, last)
        if stage == 0:
            exact = found
            if envelope.shape[1] > 0 and found > -np.inf:
                narrow = band_from_envelope(envelope, n, m, period + 2, BAND_MAX_SHARE)
            if narrow.shape[1] == 0:
                break
            stage = 1
        elif stage == 1 and found >= exact + np.log1p(-BAND_SLACK):
            band, banded = narrow, True
            break
        elif stage == 1:  # the band misses mass
            stage = 2
        else:
            break
    keep = threshold > 0.0
    capacity = kept_capacity(n, m, threshold) if keep else 1
    kept_rows = np.empty(capacity, dtype=np.int64)
    kept_columns = np.empty(capacity, dtype=np.int64)
    kept_values = np.empty(capacity)
    n_kept = 0
    final = 0.0
    for k in range(n_states):
        final += forward[positions[k, last]] * end[k]
    if final <= 0.0:
        return (-np.inf, np.nan, kept_rows[:0].copy(), kept_columns[:0].copy(),
                kept_values[:0].copy(), False)
    log_forward = _log_scales(sums, period, last)  # what forward diagonal d is divided by
    loglik = log_forward[last] + np.log(final)  # (of the band's paths when banded)
    if counts:
        for k in range(n_states):
            ends_count[k] += forward[positions[k, last]] * end[k] / final
    profile_size = max(n, m) + 1
    occupied = np.zeros(n_states * profile_size if counts else 0)
    flat_counts = emissions.reshape(-1)
    table_size = table.shape[0] // n_states
    posterior = np.empty(min(n, m) + 1)
    flows = np.zeros((n_states, n_states + 1))  # the last column: the dummy successor
    edges = np.zeros((n_states, n_states + 1))  # transmat, and 0 to the dummy
    edges[:, :n_states] = transmat
    steps = np.zeros(n_states + 1, dtype=np.int64)  # letters each state moves (dummy 0)
    steps[:n_states] = dx + dy
    moves_x = np.zeros(n_states + 1, dtype=np.int64)
    moves_x[:n_states] = dx
    wants_match = mea or keep or dense.size > 0
    buffered = np.empty(DENSE_BLOCK * (min(n, m) + DENSE_BLOCK + 1) if dense.size > 0
                        else 0)
    log_backward = 0.0  # log (s_{d+1} ... s_last): the scale of backward diagonal d
    sum1, sum2 = 1.0, 1.0  # s_{d+1}, s_{d+2}
    for b in range(n_blocks - 1, -1, -1):
        top = firsts[b + 1] - 1
        if b < n_blocks - 1:
            for d in range(firsts[b], top + 1):
                for k in range(n_states + 1):  # (every state rolls when block > 0)
                    positions[k, d] = k * row_f + block_room + offsets[d] - offsets[firsts[b]]
            _forward_sweep(n, m, dx, dy, start, transmat, lookup, groups, n_groups, confined,
                           forward, positions, sums, firsts[b], top, period, band, no_envelope)
        for d in range(top, firsts[b] - 1, -1):
            phase = (d - 1) % EMISSION_BLOCK
            if d == top or phase == EMISSION_BLOCK - 1:
                _emissions_along(d - phase, phase + 1, n, m, dx, dy, rows, columns, table,
                                 emitted, EMISSION_BLOCK, n, m, band)
            inverse1, inverse2 = _folds(normalising, sum1, sum2)
            occupancy = np.exp(log_forward[d] + log_backward - loglik)
            lo = _lo(d, m)
            width = min(n, d) - lo + 1
            band_lo, band_hi = _band_at(band, d, n, m)
            window_lo, window_hi = _band_window(band_lo, band_hi, d, n, m)
            slot = U((d % 3) * slot_size)
            window = slot + U(window_lo - lo)  # (the slot's first cell is i = lo - 1)
            if wants_match:
                for c in range(U(window_hi - window_lo + 3)):
                    match[window + c] = 0.0
            total = 0.0
            for l in range(n_states):
                here = U(l * row_w) + slot
                i_min, i_max = _state_range(d, n, m, dx[l], dy[l], confined[l])
                i_min, i_max = max(i_min, band_lo), min(i_max, band_hi)
                _clear_edges(weighted, here + U(window_lo - lo), window_hi - window_lo + 3,
                             i_min - window_lo + 1, i_max - window_lo + 1, 0.0)
                if i_min > i_max:
                    continue
                count = U(i_max - i_min + 1)
                target = here + U(i_min - lo + 1)
                emission_here = U(_emission_offset(d, l, i_min, n, m, dx[l], dy[l], n_states,
                                                   EMISSION_BLOCK))
                is_match = dx[l] + dy[l] == 2
                forward_here = U(positions[l, d] + i_min - lo)
                bias = end[l] if d == last else 0.0
                n_passes = n_successors[l] if d < last else 1
                for g in range(n_passes):
                    k0, k1, k2 = (successors[l, 3 * g], successors[l, 3 * g + 1],
                                  successors[l, 3 * g + 2])
                    step0, step1, step2 = steps[k0], steps[k1], steps[k2]
                    s0 = _successor(n_states, k0, step0, moves_x[k0], d, i_min, m, last,
                                    slot_size)
                    s1 = _successor(n_states, k1, step1, moves_x[k1], d, i_min, m, last,
                                    slot_size)
                    s2 = _successor(n_states, k2, step2, moves_x[k2], d, i_min, m, last,
                                    slot_size)
                    a0 = edges[l, k0] * (inverse1 if step0 == 1 else inverse2)
                    a1 = edges[l, k1] * (inverse1 if step1 == 1 else inverse2)
                    a2 = edges[l, k2] * (inverse1 if step2 == 1 else inverse2)
                    # Earlier passes' running sum: in a scratch slot, the two taken in
                    # turn (the dummy row's zeros for the first pass), so no loop reads
                    # the cells it writes. One that did (the sum kept in the state's own
                    # cells) stayed scalar: LLVM vectorises a loop that reads and writes
                    # one array only where it can tell the ranges apart.
                    carried = (scratch + U(((g + 1) % 2) * slot_size) if g > 0
                               else U(n_states * row_w))
                    partial = scratch + U((g % 2) * slot_size)
                    extra = bias if g == 0 else 0.0
                    flow0, flow1, flow2 = 0.0, 0.0, 0.0  # forward x edge x backward sums
                    if g < n_passes - 1 and counts:
                        for c in range(count):
                            f = forward[forward_here + c]
                            flow0 += f * weighted[s0 + c]
                            flow1 += f * weighted[s1 + c]
                            flow2 += f * weighted[s2 + c]
                            weighted[partial + c] = _pulled(weighted, s0, s1, s2, carried, a0,
                                                            a1, a2, extra, c)
                    elif g < n_passes - 1:
                        for c in range(count):
                            weighted[partial + c] = _pulled(weighted, s0, s1, s2, carried, a0,
                                                            a1, a2, extra, c)
                    # The last pass also sums the diagonal, multiplies in the emission and
                    # writes the posteriors where they are read. A one-pass state reads
                    # nothing carried, and one with two successors no dummy row: loops of
                    # their own for these gave MEA 4-22 % and EM 1-7 % more cells/s (LLVM
                    # vectorises a loop per case, not a loop that branches inside).
                    elif counts and g == 0 and k2 == n_states:  # posteriors, for the counts
                        for c in range(count):
                            f = forward[forward_here + c]
                            flow0 += f * weighted[s0 + c]
                            flow1 += f * weighted[s1 + c]
                            value = _pulled_two(weighted, s0, s1, a0, a1, extra, c)
                            total += value
                            posterior[c] = f * value * occupancy
                            weighted[target + c] = value * emitted[emission_here + c]
                    elif counts:
                        for c in range(count):
                            f = forward[forward_here + c]
                            flow0 += f * weighted[s0 + c]
                            flow1 += f * weighted[s1 + c]
                            flow2 += f * weighted[s2 + c]
                            value = _pulled(weighted, s0, s1, s2, carried, a0, a1, a2, extra, c)
                            total += value
                            posterior[c] = f * value * occupancy
                            weighted[target + c] = value * emitted[emission_here + c]
                    elif is_match and wants_match and g == 0:  # posteriors, into the MEA row
                        cell = slot + U(i_min - lo + 1)
                        for c in range(count):
                            value = _pulled_first(weighted, s0, s1, s2, a0, a1, a2, extra, c)
                            total += value
                            match[cell + c] += forward[forward_here + c] * value * occupancy
                            weighted[target + c] = value * emitted[emission_here + c]
                    elif is_match and wants_match:
                        cell = slot + U(i_min - lo + 1)
                        for c in range(count):
                            value = _pulled(weighted, s0, s1, s2, carried, a0, a1, a2, extra, c)
                            total += value
                            match[cell + c] += forward[forward_here + c] * value * occupancy
                            weighted[target + c] = value * emitted[emission_here + c]
                    elif g == 0 and k2 == n_states:
                        for c in range(count):
                            value = _pulled_two(weighted, s0, s1, a0, a1, extra, c)
                            total += value
                            weighted[target + c] = value * emitted[emission_here + c]
                    else:
                        for c in range(count):
                            value = _pulled(weighted, s0, s1, s2, carried, a0, a1, a2, extra, c)
                            total += value
                            weighted[target + c] = value * emitted[emission_here + c]
                    if counts:
                        flows[l, k0] += a0 * flow0 * occupancy
                        flows[l, k1] += a1 * flow1 * occupancy
                        flows[l, k2] += a2 * flow2 * occupancy
                if is_match and wants_match and counts:
                    cell = slot + U(i_min - lo + 1)
                    for c in range(count):
                        match[cell + c] += posterior[c]
                if counts and is_match:
                    state_counts = U(l * table_size)
                    column = U(m - d + i_min)
                    for c in range(count):
                        flat_counts[state_counts + U(rows[1, U(i_min) + c]
                                                     + columns[1, column + c])] += posterior[c]
                elif counts:
                    for c in range(count):
                        occupied[emission_here + c] += posterior[c]
                if counts and d == dx[l] + dy[l]:
                    starts_count[l] += start[l] * weighted[target] * np.exp(log_backward
                                                                            - loglik)
            if dense.size > 0:  # (the band's cells only: the rest stays zero)
                here = _dense_slot(d, m)  # cell lo (c = i - lo)
                for c in range(U(band_lo - lo), U(band_hi - lo + 1)):
                    buffered[here + c * U(DENSE_BLOCK)] = match[slot + U(1) + c]
                if d % DENSE_BLOCK == 0 or d == 1:
                    _write_dense(dense, buffered, band, d,
                                 min(d - d % DENSE_BLOCK + DENSE_BLOCK - 1, last), n, m)
            if keep:
                if n_kept + width > capacity:
                    raise ValueError("more posteriors at least the threshold than a "
                                     "posterior sum of min(n, m) allows")
                n_kept = _keep_at_least(match, slot + U(1) - U(lo), max(band_lo, 1),
                                        min(band_hi, d - 1), d, threshold, kept_rows,
                                        kept_columns, kept_values, n_kept)
            if mea:
                _mea_step(d, n, m, band, score, match, slot_size, moves, offsets)
            sum2, sum1 = sum1, _divisor(total)
            log_backward += np.log(sum1)
            if normalising:
                for l in range(n_states):
                    _scale(weighted, U(l * row_w) + slot + U(band_lo - lo + 1),
                           band_hi - band_lo + 1, 1.0 / sum1)
    if counts:
        transitions += flows[:, :n_states]
        for k in range(n_states):
            if dx[k] + dy[k] == 1:
                for c in range(n + 1 if dx[k] else m + 1):
                    flat_counts[k * table_size + rows[dx[k], c * dx[k]]
                                + columns[dy[k], c * dy[k]]] += occupied[k * profile_size + c]
    accuracy = np.nan
    if mea:
        _mea_step(0, n, m, band, score, match, slot_size, moves, offsets)
        accuracy = score[1]
    return (exact, accuracy, kept_rows[:n_kept].copy(), kept_columns[:n_kept].copy(),
            kept_values[:n_kept].copy(), banded)


@njit(cache=True, fastmath=FLOAT_FLAGS, inline="always")
def _pulled(weighted, s0, s1, s2, carried, a0, a1, a2, extra, c):
    """Cell ``c``'s backward from three successors' ``emission x backward`` (rows at
    ``s0, s1, s2``), plus what earlier passes ``carried`` and ``extra``."""
    return (a0 * weighted[s0 + c] + a1 * weighted[s1 + c] + a2 * weighted[s2 + c]
            + weighted[carried + c] + extra)


@njit(cache=True, fastmath=FLOAT_FLAGS, inline="always")
def _pulled_first(weighted, s0, s1, s2, a0, a1, a2, extra, c):
    """:func:`_pulled` of a first pass, which carries nothing."""
    return a0 * weighted[s0 + c] + a1 * weighted[s1 + c] + a2 * weighted[s2 + c] + extra


@njit(cache=True, fastmath=FLOAT_FLAGS, inline="always")
def _pulled_two(weighted, s0, s1, a0, a1, extra, c):
    """:func:`_pulled` of a first pass whose third successor is the dummy."""
    return a0 * weighted[s0 + c] + a1 * weighted[s1 + c] + extra


@njit(cache=True, inline="always")
def _successor(n_states, k, step, dxk, d, i_min, m, last, slot_size):
    """Where state k's successor reads (rolling ``emission x backward`` rows) start for
    cells ``i_min ..`` of diagonal d; the dummy successor ``K``, and one past the last
    diagonal, read the dummy row (all zero). Scalars only: array arguments cost atomic
    reference counts per call."""
    if k == n_states or d + step > last:
        return U(n_states * 3 * slot_size)
    return U((k * 3 + (d + step) % 3) * slot_size + 1 + i_min + dxk - _lo(d + step, m))


@njit(cache=True)
def mea_moves(moves, n, m):
    """The MEA alignment from the table of :func:`posterior_pass`: moves ``0`` match,
    ``1`` x gap (a letter of x only), ``2`` y gap, in order from the start."""
    offsets = diagonal_offsets(n, m)
    path = np.empty(n + m, dtype=np.int8)
    length, i, j = 0, 0, 0
    while i < n or j < m:
        move = moves[offsets[i + j] + i - _lo(i + j, m)]
        path[length] = move
        length += 1
        if move != 2:
            i += 1
        if move != 1:
            j += 1
    return path[:length].copy()


@njit(cache=True, inline="always")
def _better(best, state, value, candidate):
    """The running maximum and its state after seeing ``value`` from ``candidate``
    (strictly greater wins, so the first, lowest-numbered state keeps ties)."""
    if value > best:
        return value, candidate
    return best, state


@njit(cache=True)
def viterbi_blocks(n, m, n_states):
    """Diagonals per block of :func:`viterbi`: ``n + m`` (one block, every back-pointer
    kept) while a byte a cell per state fits :data:`VITERBI_POINTER_BYTES`, else about
    ``2 sqrt(n + m)`` (at least 128). Measured on one thread, Durbin model, random
    proteins: blocks of 128 took 0.97x the time of one block at 1,000 x 1,000 letters,
    0.82x at 1,500, 0.75x at 2,000 and 0.42x at 3,000; one block, 0.79x of blocks of 64
    at 500 x 500."""
    if n_states * (n + m) * (min(n, m) + 1) <= VITERBI_POINTER_BYTES:
        return n + m
    return max(128, 2 * int(np.sqrt(n + m)))


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _viterbi_scores(n, m, dx, dy, log_start, log_transmat, lookup, groups, n_groups, confined,
                    scores, width, last, firsts, checkpoints, band):
    """Best scores of diagonals ``1 .. last`` (max only, no back-pointers) in the three
    rolling diagonals of ``scores``; diagonals ``firsts[b] - 2`` and ``firsts[b] - 1``
    of each block ``b >= 1`` that starts by ``last + 1`` are copied into
    ``checkpoints`` (``2 K`` rows of ``width`` per block; ``band``, empty for the whole
    grid, bounds the emissions laid out). Each state takes one
    pass per group of three predecessors, the running best carried in its own row
    (the dummy row's ``-inf`` on the first), the last pass adding the emissions."""
    rows, columns, emitted, table = lookup
    n_states = log_start.shape[0]
    row_size = 3 * width
    block = 1
    for d in range(1, last + 1):
        lo = _lo(d, m)
        if (d - 1) % EMISSION_BLOCK == 0:
            _emissions_along(d, min(EMISSION_BLOCK, last + 1 - d), n, m, dx, dy, rows, columns,
                             table, emitted, EMISSION_BLOCK, n, m, band)
        for k in range(n_states):
            here = U(k * row_size + (d % 3) * width)
            i_min, i_max = _state_range(d, n, m, dx[k], dy[k], confined[k])
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
            for g in range(n_groups[k]):
                l0, l1, l2 = groups[k, 3 * g], groups[k, 3 * g + 1], groups[k, 3 * g + 2]
                a0 = _coefficient(log_transmat, l0, k, 1.0, -np.inf)
                a1 = _coefficient(log_transmat, l1, k, 1.0, -np.inf)
                a2 = _coefficient(log_transmat, l2, k, 1.0, -np.inf)
                s0 = U(l0 * row_size) + source
                s1 = U(l1 * row_size) + source
                s2 = U(l2 * row_size) + source
                if g == 0 and n_groups[k] == 1:
                    for c in range(count):
                        scores[target + c] = (_best_of(scores, s0, s1, s2, a0, a1, a2, c)
                                              + emitted[emission_here + c])
                elif g == 0:
                    for c in range(count):
                        scores[target + c] = _best_of(scores, s0, s1, s2, a0, a1, a2, c)
                elif g < n_groups[k] - 1:
                    for c in range(count):
                        scores[target + c] = max(scores[target + c],
                                                 _best_of(scores, s0, s1, s2, a0, a1, a2, c))
                else:
                    for c in range(count):
                        scores[target + c] = (max(scores[target + c],
                                                  _best_of(scores, s0, s1, s2, a0, a1, a2, c))
                                              + emitted[emission_here + c])
        if block < firsts.shape[0] - 1 and firsts[block] - 2 <= d:  # a checkpoint diagonal
            into = U((2 * (block - 1) + d - firsts[block] + 2) * n_states * width)
            for k in range(n_states):
                here = U(k * row_size + (d % 3) * width)
                for c in range(U(width)):
                    checkpoints[into + U(k * width) + c] = scores[here + c]
            if d == firsts[block] - 1:
                block += 1


@njit(cache=True, fastmath=FLOAT_FLAGS, inline="always")
def _best_of(scores, s0, s1, s2, a0, a1, a2, c):
    """The largest of cell ``c``'s three weighted predecessors."""
    best = scores[s0 + c] + a0
    value = scores[s1 + c] + a1
    best = value if value > best else best
    value = scores[s2 + c] + a2
    return value if value > best else best


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _viterbi_pointers(n, m, dx, dy, log_start, log_transmat, lookup, groups, n_groups, confined,
                      scores, width, first, apex_i, apex_j, pointers, best_state, band):
    """Scores and back-pointers of diagonals ``first .. apex_i + apex_j``, only for the
    cells a path ending at ``(apex_i, apex_j)`` can pass through (its cone: on
    diagonal d, ``d - apex_j <= i <= apex_i``); diagonals ``first - 1`` and ``first - 2``
    must be in the rolling ``scores`` over at least the cone. A back-pointer is the
    position of the best predecessor in the state's list, one byte, at
    ``k * (rows * width) + (d - first) * width + i - lo(d)`` for ``rows`` diagonals;
    a state's first cell comes from begin and needs none. Per state, one pass per
    group of three predecessors keeps the running best (strictly greater wins, so the
    first predecessor keeps ties); the last pass also adds the emissions and stores the
    pointers. A state with one or two groups, the common cases, takes a single pass
    (with two predecessors a two-term one). ``band`` (empty: the whole grid) bounds
    the emissions laid out."""
    rows, columns, emitted, table = lookup
    n_states = log_start.shape[0]
    row_size = 3 * width
    apex = apex_i + apex_j
    plane = (apex - first + 1) * width
    for d in range(first, apex + 1):
        lo = _lo(d, m)
        phase = (d - 1) % EMISSION_BLOCK
        if d == first or phase == 0:
            _emissions_along(d, min(EMISSION_BLOCK - phase, apex + 1 - d), n, m, dx, dy, rows,
                             columns, table, emitted, EMISSION_BLOCK, apex_i, apex_j, band)
        span_lo, span_hi = max(lo, d - apex_j), min(min(n, d), apex_i)
        for k in range(n_states):
            here = U(k * row_size + (d % 3) * width)
            i_min, i_max = _cone_range(d, n, m, dx[k], dy[k], confined[k], apex_i, apex_j)
            _clear_edges(scores, here + U(span_lo - lo), span_hi - span_lo + 1, i_min - span_lo,
                         i_max - span_lo, -np.inf)
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
            back = U(k * plane + (d - first) * width + i_min - lo)
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
                    pointers[back + c] = np.uint8(state)
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
                        pointers[back + c] = np.uint8(state)
                elif single:
                    for c in range(count):
                        best, state = _better(scores[s0 + c] + a0, 0, scores[s1 + c] + a1, 1)
                        best, state = _better(best, state, scores[s2 + c] + a2, 2)
                        scores[target + c] = best + emitted[emission_here + c]
                        pointers[back + c] = np.uint8(state)
                elif g == n_groups[k] - 1:
                    for c in range(count):
                        best, state = _better(scores[target + c], best_state[c],
                                              scores[s0 + c] + a0, p0)
                        best, state = _better(best, state, scores[s1 + c] + a1, p0 + 1)
                        best, state = _better(best, state, scores[s2 + c] + a2, p0 + 2)
                        scores[target + c] = best + emitted[emission_here + c]
                        pointers[back + c] = np.uint8(state)
                else:
                    for c in range(count):
                        best, state = _better(scores[target + c], best_state[c],
                                              scores[s0 + c] + a0, p0)
                        best, state = _better(best, state, scores[s1 + c] + a1, p0 + 1)
                        best, state = _better(best, state, scores[s2 + c] + a2, p0 + 2)
                        scores[target + c] = best
                        best_state[c] = state


@njit(cache=True)
def viterbi_workspace(n, m, n_states, block):
    """The doubles and the bytes :func:`viterbi` works in for an ``n x m`` pair (the
    emission buffer, rolling scores and checkpoints; back-pointers), and its blocks'
    first diagonals (``block``: as for :func:`viterbi`)."""
    firsts = block_firsts(n, m, block if block >= 2 else viterbi_blocks(n, m, n_states))
    width = min(n, m) + 1
    doubles = (emission_buffer_size(n, m, n_states) + (n_states + 1) * 3 * width
               + 2 * (firsts.shape[0] - 2) * n_states * width)
    return doubles, n_states * (firsts[1] - firsts[0]) * width, firsts


@njit(cache=True, fastmath=FLOAT_FLAGS)
def viterbi(x, y, dx, dy, log_emission, log_start, log_transmat, log_end, block, workspace,
            pointer_bytes):
    """Best state path (states in order) and its log-probability, by max-plus DP, in
    memory that grows as ``(n + m)^1.5``, not ``n m``.

    Scores roll over three anti-diagonals. A pair small enough
    (:func:`viterbi_blocks`) is one block: one pass keeps every back-pointer
    (:func:`_viterbi_pointers`, a byte a cell per state) and the path is read back.
    A larger pair runs in blocks of diagonals: a pass of scores alone
    (:func:`_viterbi_scores`: a running max, which vectorises better than an argmax
    with its pointers) over all but the last block keeps each block's first two
    diagonals; the traceback then takes the blocks from the end, and in each
    recomputes, from those two diagonals, the scores and pointers of the cells the
    path can still pass through (the cone below the cell where it entered the block:
    about ``block^2 / 2`` cells, a few percent of the grid). The scores of both passes
    are maxima of the same sums, so the path and score are those of one full pass.
    ``block`` (at least 2) sets the diagonals per block; 0 lets :func:`viterbi_blocks`
    choose. ``workspace`` (doubles) and ``pointer_bytes`` (``uint8``) hold at least
    what :func:`viterbi_workspace` says; a caller reuses them across pairs, since fresh
    allocations this size cost page faults every call (a tenth to a fifth of the time
    at 1,000 letters).
    Flat arrays, unsigned offsets, no views (see :func:`_forward_sweep`).
    """
    n, m = x.shape[0], y.shape[0]
    n_states = log_start.shape[0]
    last = n + m
    width = min(n, m) + 1
    _, n_pointers, firsts = viterbi_workspace(n, m, n_states, block)
    n_blocks = firsts.shape[0] - 1
    emission_size = emission_buffer_size(n, m, n_states)
    lookup = _emission_lookup(x, y, dx, dy, log_emission, EMISSION_BLOCK,
                              workspace[:emission_size])
    groups, n_groups = _predecessor_groups(log_transmat, -np.inf)
    confined = grid_edges(dx, dy, log_transmat, -np.inf)
    band = np.empty((2, 0), dtype=np.int64)  # (the whole grid)
    scores = workspace[emission_size:emission_size + (n_states + 1) * 3 * width]
    scores[:] = -np.inf
    checkpoints = workspace[emission_size + scores.shape[0]:][
        :2 * (n_blocks - 1) * n_states * width]
    _viterbi_scores(n, m, dx, dy, log_start, log_transmat, lookup, groups, n_groups, confined,
                    scores, width, firsts[n_blocks - 1] - 1, firsts, checkpoints, band)
    pointers = pointer_bytes[:n_pointers]
    best_state = np.empty(width, dtype=np.int64)
    path = np.empty(n + m, dtype=np.int64)
    length, i, j, state, best = 0, n, m, -1, -np.inf
    for b in range(n_blocks - 1, -1, -1):
        first = firsts[b]
        if b < n_blocks - 1 and state < 0:  # the path began in a later block
            break
        if b > 0:  # the block's first two diagonals' scores from its checkpoint
            for e in range(2):
                into = U((2 * (b - 1) + e) * n_states * width)
                for k in range(n_states):
                    here = U(k * 3 * width + ((first - 2 + e) % 3) * width)
                    for c in range(U(width)):
                        scores[here + c] = checkpoints[into + U(k * width) + c]
        else:
            scores[:] = -np.inf
        _viterbi_pointers(n, m, dx, dy, log_start, log_transmat, lookup, groups, n_groups,
                          confined, scores, width, first, i, j, pointers, best_state, band)
        if b == n_blocks - 1:
            for k in range(n_states):
                value = scores[k * 3 * width + (last % 3) * width + n - _lo(last, m)]
                if value + log_end[k] > best:
                    best, state = value + log_end[k], k
        plane = (i + j - first + 1) * width
        while state >= 0 and i + j >= first:
            path[length] = state
            length += 1
            if i + j == dx[state] + dy[state]:
                previous = -1
            else:
                cell = state * plane + (i + j - first) * width + i - _lo(i + j, m)
                previous = groups[state, pointers[cell]]
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
    n_states = log_start.shape[0]
    for p in prange(n_pairs):
        n, m = x_offsets[p + 1] - x_offsets[p], y_offsets[p + 1] - y_offsets[p]
        doubles, n_bytes, _ = viterbi_workspace(n, m, n_states, 0)
        path, score = viterbi(xs[x_offsets[p]:x_offsets[p + 1]],
                              ys[y_offsets[p]:y_offsets[p + 1]], dx, dy, log_emission,
                              log_start, log_transmat, log_end, 0, np.empty(doubles),
                              np.empty(n_bytes, dtype=np.uint8))
        first = x_offsets[p] + y_offsets[p]
        paths[first:first + path.shape[0]] = path
        lengths[p] = path.shape[0]
        scores[p] = score
    return paths, lengths, scores



@njit(cache=True)
def _chunk_sizes(x_offsets, y_offsets, first, stop, dx, dy, blocks):
    """Doubles of a workspace, and cells of an MEA table, big enough for every pair
    ``first .. stop - 1`` of a batch."""
    size, cells = 0, 0
    for p in range(first, stop):
        n, m = x_offsets[p + 1] - x_offsets[p], y_offsets[p + 1] - y_offsets[p]
        size = max(size, workspace_size(n, m, dx, dy, blocks[p]))
        cells = max(cells, (n + 1) * (m + 1))
    return size, cells


@njit(cache=True)
def _thread_row(rows, size):
    """The calling thread's row of ``rows`` (one per thread of a parallel launch, which
    the caller keeps across calls: a fresh allocation this large costs page faults every
    call), or a new array of ``size`` items when the row is missing or too short."""
    thread = get_thread_id()
    if thread < rows.shape[0] and rows.shape[1] >= size:
        return rows[thread]
    return np.empty(size, dtype=rows.dtype)


@njit(cache=True, parallel=True)
def batch_expectations(xs, x_offsets, ys, y_offsets, chunks, blocks, band_cells, workspaces,
                       dx, dy, emission, start, transmat, end):
    """Counts summed over pairs (per-chunk accumulators), and log P per pair; pair ``p``
    runs in blocks of ``blocks[p]`` diagonals, banded from ``band_cells`` cells
    (:func:`posterior_pass`), in its thread's row of ``workspaces`` (:func:`_thread_row`)."""
    n_pairs = x_offsets.shape[0] - 1
    n_chunks = chunks.shape[0] - 1
    n_states = start.shape[0]
    loglik = np.empty(n_pairs)
    transitions = np.zeros((n_chunks, n_states, n_states))
    starts = np.zeros((n_chunks, n_states))
    ends = np.zeros((n_chunks, n_states))
    emissions = np.zeros((n_chunks,) + emission.shape)  # noqa: RUF005 (numba: no * in tuples)
    for c in prange(n_chunks):
        size = _chunk_sizes(x_offsets, y_offsets, chunks[c], chunks[c + 1], dx, dy, blocks)[0]
        workspace = _thread_row(workspaces, size)
        no_posterior, no_moves = np.empty((0, 0)), np.empty(0, dtype=np.uint8)
        for p in range(chunks[c], chunks[c + 1]):
            loglik[p] = posterior_pass(xs[x_offsets[p]:x_offsets[p + 1]],
                                       ys[y_offsets[p]:y_offsets[p + 1]], dx, dy, emission,
                                       start, transmat, end, blocks[p], workspace, True,
                                       transitions[c], starts[c], ends[c], emissions[c],
                                       no_posterior, 0.0, False, no_moves, band_cells)[0]
    return (loglik, transitions.sum(axis=0), starts.sum(axis=0), ends.sum(axis=0),
            emissions.sum(axis=0))


@njit(cache=True, parallel=True)
def batch_mea(xs, x_offsets, ys, y_offsets, chunks, blocks, band_cells, workspaces, tables,
              dx, dy, emission, start, transmat, end):
    """Per pair, in parallel: the MEA alignment's summed match posteriors (NaN for an
    impossible pair) and log P; ``blocks``, ``band_cells`` and ``workspaces`` as
    :func:`batch_expectations`'. With ``tables`` of positive width (each thread's MEA
    table, as ``workspaces``), also each alignment's moves (as :func:`mea_moves`): pair
    ``p``'s ``lengths[p]`` moves start at ``x_offsets[p] + y_offsets[p]`` of ``moves``."""
    n_pairs = x_offsets.shape[0] - 1
    n_states = start.shape[0]
    keep = tables.shape[1] > 0
    score = np.empty(n_pairs)
    loglik = np.empty(n_pairs)
    moves = np.empty(x_offsets[-1] + y_offsets[-1] if keep else 0, dtype=np.int8)
    lengths = np.zeros(n_pairs, dtype=np.int64)
    for c in prange(chunks.shape[0] - 1):
        size, cells = _chunk_sizes(x_offsets, y_offsets, chunks[c], chunks[c + 1], dx, dy,
                                   blocks)
        workspace = _thread_row(workspaces, size)
        table = _thread_row(tables, cells) if keep else np.empty(0, dtype=np.uint8)
        transitions, starts = np.zeros((n_states, n_states)), np.zeros(n_states)
        ends, emissions = np.zeros(n_states), np.zeros(emission.shape)
        no_posterior = np.empty((0, 0))
        for p in range(chunks[c], chunks[c + 1]):
            n, m = x_offsets[p + 1] - x_offsets[p], y_offsets[p + 1] - y_offsets[p]
            found = posterior_pass(xs[x_offsets[p]:x_offsets[p + 1]],
                                   ys[y_offsets[p]:y_offsets[p + 1]], dx, dy, emission, start,
                                   transmat, end, blocks[p], workspace, False, transitions,
                                   starts, ends, emissions, no_posterior, 0.0, True, table,
                                   band_cells)
            loglik[p], score[p] = found[0], found[1]
            if keep and found[0] > -np.inf:
                path = mea_moves(table, n, m)
                first = x_offsets[p] + y_offsets[p]
                moves[first:first + path.shape[0]] = path
                lengths[p] = path.shape[0]
    return score, loglik, moves, lengths
