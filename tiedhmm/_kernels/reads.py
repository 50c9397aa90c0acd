"""Numba kernel for read likelihoods: GATK's three-state pair HMM (LoglessPairHMM) over
many read x haplotype pairs at once.

A *task* is one read against up to ``lanes`` haplotypes (4, 8 or 16, a compile-time
constant). Rows follow the read and columns the haplotypes; one row of all lanes is
stored column-major with the lanes innermost (``[column * lanes + lane]``), so a row is
one flat loop that LLVM vectorises: the read's parameters of that row are scalars, the
haplotype letters differ by lane, and the one dependence inside a row (deletions along
the row) is ``lanes`` elements back. Shorter haplotypes are padded on the right with
letter 0; columns only flow rightwards, so padding never reaches a real cell, and the
last-row sum stops at each lane's own length.

Per read position a read has :data:`N_PARAMETERS` parameters, in this order: match
emission ``1 - e_base``, mismatch emission ``e_base / 3``, ``M->M``, ``I->M`` (and
``D->M``), ``M->I``, ``I->I`` (and ``D->D``), ``M->D``. Letters are bit sets (A 1, C 2,
G 4, T 8, N 15, padding 0): a read and a haplotype letter match when they share a bit.

Numerics, as Intel GKL does it: ``float32`` with the deletion row starting at
``initial / haplotype length`` and no rescaling (the caller recomputes in ``float64``
every pair flagged as too small to trust), or ``float64`` rescaled every
``rescale_every`` rows by a power of two per lane (exact, so 10 kb reads against 20 kb
haplotypes stay finite). Values below ``flush`` are set to zero so that no operation
ever sees a subnormal number (x86 runs those about ten times slower here); every
parameter that can be nonzero is at least ~1e-10, so a kept value times two of them
stays normal. A pair's dropped mass is at most ``3 x cells x flush`` (a dropped value
can grow into at most itself: the transitions out of a state sum to one and the
emissions are at most one), which is what the ``float32`` flag bounds.
"""

import math

import numba
import numpy as np
from numba import njit, prange

#: Per-position parameters of a read (see the module docstring).
N_PARAMETERS = 7
MATCH, MISMATCH, MATCH_TO_MATCH, GAP_TO_MATCH, MATCH_TO_INSERT, GAP_EXTEND, \
    MATCH_TO_DELETE = range(N_PARAMETERS)
FLOAT_FLAGS = {"reassoc", "contract"}
#: Transitions of a context model, by the column of the state they leave (see
#: :func:`_row`).
COLUMN_TRANSITIONS = ("to_match", "gap_to_match", "to_insert", "extend", "to_delete")
N_COLUMN_TRANSITIONS = len(COLUMN_TRANSITIONS)
#: Per-column rows of the transposed programme (:func:`_task_by_reads`).
READ_LANE_COLUMNS = (*COLUMN_TRANSITIONS, "match", "mismatch", "delete_extend")
#: Where :func:`_row` takes its probabilities from.
ROW_PARAMETERS, COLUMN_TRANSITIONS_MODE, ALL_BY_COLUMN = range(3)
#: Unsigned offsets: numba adds negative wrap-around to signed indices, which stops
#: LLVM from vectorising the row loop.
U = np.uint64


@njit(cache=True, fastmath=FLOAT_FLAGS)
def _row(lanes, mode, parameters, by_columns, letter, columns, previous_m, previous_i,
         previous_d, current_m, current_i, current_d, width, flush):
    """One row of every lane: M, I and D of row i - 1 (``previous_*``) and row i.

    ``mode`` (a compile-time constant: one branch is compiled) says where the
    probabilities come from: :data:`ROW_PARAMETERS`, the row's ``parameters`` (GATK's
    read qualities, one read per task); :data:`COLUMN_TRANSITIONS_MODE`, transitions
    from ``by_columns[k, f]`` by the column the state leaves (a context model, rows
    :data:`COLUMN_TRANSITIONS`); :data:`ALL_BY_COLUMN`, emissions and transitions from
    ``by_columns`` (rows :data:`READ_LANE_COLUMNS`: the transposed programme of
    :func:`_task_by_reads`, where columns are read positions).
    """
    match, mismatch = parameters[MATCH], parameters[MISMATCH]
    to_match, gap_to_match = parameters[MATCH_TO_MATCH], parameters[GAP_TO_MATCH]
    to_insert, extend = parameters[MATCH_TO_INSERT], parameters[GAP_EXTEND]
    to_delete, delete_extend = parameters[MATCH_TO_DELETE], parameters[GAP_EXTEND]
    zero = flush * 0
    W = U(lanes)
    for f in range(W, U((width + 1) * lanes)):
        if mode != ROW_PARAMETERS:
            to_match = by_columns[0, f - W]
            gap_to_match = by_columns[1, f - W]
            to_insert = by_columns[2, f]
            extend = by_columns[3, f]
            to_delete = by_columns[4, f - W]
            delete_extend = by_columns[3, f - W]
        if mode == ALL_BY_COLUMN:
            match = by_columns[5, f]
            mismatch = by_columns[6, f]
            delete_extend = by_columns[7, f - W]
        prior = match if (columns[f] & letter) != 0 else mismatch
        m = prior * (to_match * previous_m[f - W]
                     + gap_to_match * (previous_i[f - W] + previous_d[f - W]))
        i = to_insert * previous_m[f] + extend * previous_i[f]
        d = to_delete * current_m[f - W] + delete_extend * current_d[f - W]
        current_m[f] = m if m >= flush else zero
        current_i[f] = i if i >= flush else zero
        current_d[f] = d if d >= flush else zero


@njit(cache=True)
def _rescale(lanes, row, width, log_scale):
    """Multiply each lane of ``row`` by the power of two that brings its sum near 1,
    and record it in ``log_scale`` (log10 of what the lane's values are multiplied by)."""
    for lane in range(lanes):
        total = 0.0
        for j in range(width + 1):
            at = j * lanes + lane
            total += row[0, at] + row[1, at] + row[2, at]
        if total > 0.0:
            exponent = math.frexp(total)[1]
            factor = row.dtype.type(math.ldexp(1.0, -exponent))
            for j in range(width + 1):
                at = j * lanes + lane
                row[0, at] *= factor
                row[1, at] *= factor
                row[2, at] *= factor
            log_scale[lane] -= exponent * math.log10(2.0)


@njit(cache=True)
def _lane_columns(lanes, haps, hap_bits, hap_starts, hap_contexts, table, by_column):
    """A task's haplotype letters ``[column * lanes + lane]`` (0 for padding), each
    lane's length, and with ``by_column`` its transitions by column (from the context
    of each column, ``hap_contexts``, and the per-context ``table``)."""
    length = np.zeros(lanes, dtype=np.int64)
    for lane in range(lanes):
        if haps[lane] >= 0:
            length[lane] = hap_starts[haps[lane] + 1] - hap_starts[haps[lane]]
    size = (length.max() + 1) * lanes
    columns = np.zeros(size, dtype=np.uint8)
    by_columns = np.zeros((N_COLUMN_TRANSITIONS, size if by_column else 0))
    for lane in range(lanes):
        if haps[lane] < 0:
            continue
        start = hap_starts[haps[lane]]
        for j in range(length[lane]):
            columns[(j + 1) * lanes + lane] = hap_bits[start + j]
        if by_column:
            for j in range(length[lane] + 1):
                context = hap_contexts[start + haps[lane] + j]
                for k in range(N_COLUMN_TRANSITIONS):
                    by_columns[k, j * lanes + lane] = table[context, k]
    return columns, length, by_columns


@njit(cache=True)
def _task(lanes, mode, read, haps, read_bits, read_starts, parameters, hap_bits,
          hap_starts, hap_contexts, table, initial, flush, rescale_every, rescue_factor,
          out, flagged, scratch_type):
    """Log10 likelihoods of one read against its lanes' haplotypes (``-1``: padding)."""
    columns, length, by_columns_64 = _lane_columns(lanes, haps, hap_bits, hap_starts,
                                                   hap_contexts, table,
                                                   mode == COLUMN_TRANSITIONS_MODE)
    by_columns = by_columns_64.astype(scratch_type)
    width = length.max()
    size = (width + 1) * lanes
    previous = np.zeros((3, size), dtype=scratch_type)  # M, I, D of row i - 1
    current = np.zeros((3, size), dtype=scratch_type)
    log_scale = np.full(lanes, math.log10(initial))
    for lane in range(lanes):
        if haps[lane] >= 0:
            for j in range(width + 1):
                previous[2, j * lanes + lane] = initial / length[lane]
    row_parameters = np.empty(N_PARAMETERS, dtype=scratch_type)
    threshold = scratch_type(flush)
    first, n_rows = read_starts[read], read_starts[read + 1] - read_starts[read]
    for i in range(n_rows):
        for k in range(N_PARAMETERS):
            row_parameters[k] = parameters[first + i, k]
        for at in range(lanes):  # column 0 of rows >= 1 is empty (row 0 had D there)
            current[0, at] = current[1, at] = current[2, at] = 0
        _row(lanes, mode, row_parameters, by_columns, read_bits[first + i], columns,
             previous[0], previous[1], previous[2], current[0], current[1], current[2],
             width, threshold)
        previous, current = current, previous
        if rescale_every > 0 and (i + 1) % rescale_every == 0 and i + 1 < n_rows:
            _rescale(lanes, previous, width, log_scale)
    for lane in range(lanes):
        if haps[lane] < 0:
            continue
        total = 0.0
        for j in range(1, length[lane] + 1):
            total += previous[0, j * lanes + lane] + previous[1, j * lanes + lane]
        out[read, haps[lane]] = math.log10(total) - log_scale[lane] \
            if total > 0.0 else -np.inf
        flagged[read, haps[lane]] = not (
            total >= rescue_factor * n_rows * length[lane] and np.isfinite(total))


@njit(cache=True)
def _task_by_reads(lanes, hap, reads, read_bits, read_starts, parameters, hap_bits,
                   hap_starts, initial, flush, rescue_factor, out, flagged, scratch_type):
    """Log10 likelihoods of one haplotype against its lanes' reads (``-1``: padding):
    for regions with few haplotypes, where one read against its haplotypes would leave
    lanes empty.

    The programme is transposed: rows follow the haplotype and columns the read, so a
    row's letter is one haplotype letter and every read parameter is a lane vector by
    column (:data:`ALL_BY_COLUMN`). GATK's deletions (along the haplotype) become the
    moves between rows and its insertions the moves along a row, so the I and D
    blocks are passed to :func:`_row` swapped. Every row starts at column 0 with the
    deletion-row value ``initial / haplotype length``; each lane's likelihood is summed
    at the column of its read's last letter, row by row. Along a row the read's depth
    varies, so no row rescaling could keep a long read's deep columns in range: this is
    the ``float32`` pass (its flags still bound what flushing dropped), and ``float64``
    goes the other way.
    """
    length = np.zeros(lanes, dtype=np.int64)
    for lane in range(lanes):
        if reads[lane] >= 0:
            length[lane] = read_starts[reads[lane] + 1] - read_starts[reads[lane]]
    width = length.max()
    size = (width + 1) * lanes
    columns = np.zeros(size, dtype=np.uint8)
    by_columns = np.zeros((len(READ_LANE_COLUMNS), size), dtype=scratch_type)
    for lane in range(lanes):
        if reads[lane] < 0:
            continue
        first = read_starts[reads[lane]]
        for i in range(1, length[lane] + 1):  # read position i: column i
            row = parameters[first + i - 1]
            here, before = i * lanes + lane, (i - 1) * lanes + lane
            columns[here] = read_bits[first + i - 1]
            by_columns[5, here] = row[MATCH]
            by_columns[6, here] = row[MISMATCH]
            by_columns[0, before] = row[MATCH_TO_MATCH]   # read at f - lanes by _row
            by_columns[1, before] = row[GAP_TO_MATCH]
            by_columns[4, before] = row[MATCH_TO_INSERT]
            by_columns[7, before] = row[GAP_EXTEND]
            by_columns[2, here] = row[MATCH_TO_DELETE]    # between rows: deletions
            by_columns[3, here] = row[GAP_EXTEND]
    previous = np.zeros((3, size), dtype=scratch_type)  # M, GATK's D, GATK's I
    current = np.zeros((3, size), dtype=scratch_type)
    n_rows = hap_starts[hap + 1] - hap_starts[hap]
    start = scratch_type(initial / n_rows)  # the deletion row
    total = np.zeros(lanes)
    for lane in range(lanes):
        previous[1, lane] = start
    threshold = scratch_type(flush)
    no_parameters = np.zeros(N_PARAMETERS, dtype=scratch_type)
    for j in range(1, n_rows + 1):
        for lane in range(lanes):
            current[0, lane] = current[2, lane] = 0
            current[1, lane] = start
        _row(lanes, ALL_BY_COLUMN, no_parameters, by_columns,
             hap_bits[hap_starts[hap] + j - 1], columns, previous[0], previous[1],
             previous[2], current[0], current[1], current[2], width, threshold)
        for lane in range(lanes):
            end = length[lane] * lanes + lane
            total[lane] += current[0, end] + current[2, end]
        previous, current = current, previous
    for lane in range(lanes):
        if reads[lane] < 0:
            continue
        read = reads[lane]
        out[read, hap] = math.log10(total[lane]) - math.log10(initial) \
            if total[lane] > 0.0 else -np.inf
        flagged[read, hap] = not (total[lane] >= rescue_factor * length[lane] * n_rows
                                  and np.isfinite(total[lane]))


@njit(cache=True, parallel=True)
def read_likelihoods(lanes, mode, task_reads, task_haps, chunk_bounds, read_bits,
                     read_starts, parameters, hap_bits, hap_starts, hap_contexts, table,
                     initial, flush, rescale_every, rescue_factor, out, flagged,
                     scratch_type):
    """Log10 likelihood of every task's pairs, into ``out[read, haplotype]``.

    With ``mode`` :data:`ROW_PARAMETERS` or :data:`COLUMN_TRANSITIONS_MODE` (a
    context model: transitions from ``table[hap_contexts[...]]``, where haplotype ``h``
    has ``length + 1`` contexts from ``hap_starts[h] + h``), task ``t`` is read
    ``task_reads[t, 0]`` against haplotypes ``task_haps[t]`` (``lanes`` of them, ``-1``
    for padding); with :data:`ALL_BY_COLUMN` it is haplotype ``task_haps[t, 0]``
    against reads ``task_reads[t]`` (:func:`_task_by_reads`). ``flagged`` says which
    sums fell below ``rescue_factor x cells`` (in the scaled units) or are not finite.
    Chunks of tasks (``chunk_bounds``) run in parallel; each task is computed alone, so
    the results do not depend on the number of threads.
    """
    numba.literally(lanes)
    numba.literally(mode)
    for c in prange(chunk_bounds.shape[0] - 1):
        for t in range(chunk_bounds[c], chunk_bounds[c + 1]):
            if mode == ALL_BY_COLUMN:
                _task_by_reads(lanes, task_haps[t, 0], task_reads[t], read_bits,
                               read_starts, parameters, hap_bits, hap_starts, initial,
                               flush, rescue_factor, out, flagged, scratch_type)
            else:
                _task(lanes, mode, task_reads[t, 0], task_haps[t], read_bits, read_starts,
                      parameters, hap_bits, hap_starts, hap_contexts, table, initial,
                      flush, rescale_every, rescue_factor, out, flagged, scratch_type)


@njit(cache=True)
def _pair_statistics(read, hap, read_bits, read_starts, parameters, hap_bits, hap_starts,
                     hap_contexts, table, open_counts, extend_counts):
    """E-step of one read against one haplotype under a context model (transitions
    by column, in ``float64``): adds the expected count of every transition, by the
    context of the column it leaves, into ``open_counts[context]`` (from M: to M, to
    I, to D) and ``extend_counts[context]`` (from I or D: stay, to M). Returns the
    natural-log likelihood.

    The forward is :func:`_row` on one lane with every row normalised to sum 1 (its
    factor kept); the backward rows carry the same factors, so a state's posterior is
    ``F * B / P`` in the scaled values and a transition into the next row gains that
    row's factor.
    """
    haps = np.full(1, hap, dtype=np.int64)
    columns, length, by_columns = _lane_columns(1, haps, hap_bits, hap_starts, hap_contexts,
                                                table, True)
    width = length[0]
    first, n_rows = read_starts[read], read_starts[read + 1] - read_starts[read]
    forward = np.zeros((n_rows + 1, 3, width + 1))
    forward[0, 2, :] = 1.0 / width
    factor = np.ones(n_rows + 1)
    for i in range(1, n_rows + 1):
        _row(1, COLUMN_TRANSITIONS_MODE, parameters[first + i - 1], by_columns,
             read_bits[first + i - 1],
             columns, forward[i - 1, 0], forward[i - 1, 1], forward[i - 1, 2],
             forward[i, 0], forward[i, 1], forward[i, 2], width, 0.0)
        total = forward[i].sum()
        if total == 0.0:
            return -np.inf
        factor[i] = 1.0 / total
        forward[i] *= factor[i]
    scaled_total = forward[n_rows, 0, 1:].sum() + forward[n_rows, 1, 1:].sum()
    backward = np.zeros((n_rows + 1, 3, width + 2))
    backward[n_rows, 0, 1:width + 1] = 1.0
    backward[n_rows, 1, 1:width + 1] = 1.0
    for i in range(n_rows - 1, -1, -1):
        row = parameters[first + i]
        letter = read_bits[first + i]
        scale = factor[i + 1]
        for j in range(width, -1, -1):
            to_match, gap_to_match = by_columns[0, j], by_columns[1, j]
            to_insert, extend, to_delete = by_columns[2, j], by_columns[3, j], by_columns[4, j]
            diagonal = 0.0
            if j < width:
                prior = row[MATCH] if (columns[j + 1] & letter) != 0 else row[MISMATCH]
                diagonal = prior * backward[i + 1, 0, j + 1] * scale
            stay_insert = backward[i + 1, 1, j] * scale
            stay_delete = backward[i, 2, j + 1] if i > 0 else 0.0  # row 0 is the start
            backward[i, 0, j] = to_match * diagonal + to_insert * stay_insert \
                + to_delete * backward[i, 2, j + 1]
            backward[i, 1, j] = gap_to_match * diagonal + extend * stay_insert
            backward[i, 2, j] = gap_to_match * diagonal + extend * stay_delete
            context = hap_contexts[hap_starts[hap] + hap + j]
            m, ins, d = (forward[i, 0, j] / scaled_total, forward[i, 1, j] / scaled_total,
                         forward[i, 2, j] / scaled_total)
            open_counts[context, 0] += m * to_match * diagonal
            open_counts[context, 1] += m * to_insert * stay_insert
            open_counts[context, 2] += m * to_delete * backward[i, 2, j + 1]
            extend_counts[context, 0] += ins * extend * stay_insert + d * extend * stay_delete
            extend_counts[context, 1] += (ins + d) * gap_to_match * diagonal
    return math.log(scaled_total) - np.log(factor).sum()


@njit(cache=True, parallel=True)
def context_statistics(pair_reads, pair_haps, chunk_bounds, read_bits, read_starts,
                       parameters, hap_bits, hap_starts, hap_contexts, table, loglik):
    """E-step over pairs (``pair_reads[t]`` against ``pair_haps[t]``): the natural-log
    likelihood of each into ``loglik``, and the expected transition counts by context
    (``(contexts, 3)`` from M, ``(contexts, 2)`` from gaps), summed per chunk and then
    in chunk order, so they do not depend on the number of threads."""
    n_chunks, n_contexts = chunk_bounds.shape[0] - 1, table.shape[0]
    open_counts = np.zeros((n_chunks, n_contexts, 3))
    extend_counts = np.zeros((n_chunks, n_contexts, 2))
    for c in prange(n_chunks):
        for t in range(chunk_bounds[c], chunk_bounds[c + 1]):
            loglik[t] = _pair_statistics(pair_reads[t], pair_haps[t], read_bits, read_starts,
                                         parameters, hap_bits, hap_starts, hap_contexts,
                                         table, open_counts[c], extend_counts[c])
    open_total = np.zeros((n_contexts, 3))
    extend_total = np.zeros((n_contexts, 2))
    for c in range(n_chunks):
        open_total += open_counts[c]
        extend_total += extend_counts[c]
    return open_total, extend_total
