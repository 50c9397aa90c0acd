"""Numba kernels for HMMs with sparse edges, each sequence on its own network.

Speech models are composites of shared units: every training utterance has its own
left-to-right network (its transcription's units in order), and a decoding network
has a few hundred states with a few edges each. These kernels take the networks as
edge lists instead of dense ``(N, N)`` matrices:

- ``log_table`` ``(T, G)``: emission log-likelihoods per group.
- ``offsets`` ``(S + 1,)``: sequence ``s`` occupies rows ``offsets[s]:offsets[s+1]``;
  ``network_of[s]`` is the network it runs on.
- Network ``k`` owns states ``state_ptr[k]:state_ptr[k+1]`` (``state_group``,
  ``start_p`` and ``end_p`` per state) and edges ``edge_ptr[k]:edge_ptr[k+1]``
  (``edge_src``, ``edge_dst`` local to the network, ``edge_p`` probabilities). Several
  edges may join the same two states (paths through different skipped units).
- ``chunks`` ``(C + 1,)``: sequence indices; the parallel loop runs over chunks and
  each chunk adds counts into its own slot.

Forward-backward runs in probability space with one normaliser per frame, as the dense
kernels of :mod:`tiedhmm._kernels.hmm` do, but each frame's emissions are scaled by
the best among the states the forward reaches at that frame, not among all groups: a
decoding network holds every unit, and a unit far from the data (a collapsed variance
elsewhere) must not underflow the states that matter. Viterbi runs in log space and
returns, per frame, the state and the edge that entered it. Kernels do no validation.
"""

import numpy as np
from numba import njit, prange

#: Largest exponent taken when a frame is rescaled (keeps scaled emissions finite).
MAX_EXPONENT = 700.0


@njit(cache=True)
def _scaled_row(log_table, t, groups, predicted, row):
    """Emission probabilities of frame ``t`` per state, scaled by the largest one among
    the states the forward can reach (``predicted > 0``); unreachable states get 0.
    Returns the log of the scale. Should every product ``predicted * emission``
    underflow, the scale is taken from the products themselves instead."""
    n_states = groups.shape[0]
    shift = -np.inf
    for j in range(n_states):
        if predicted[j] > 0.0 and log_table[t, groups[j]] > shift:
            shift = log_table[t, groups[j]]
    if shift == -np.inf:
        return shift
    total = 0.0
    for j in range(n_states):
        row[j] = np.exp(log_table[t, groups[j]] - shift) if predicted[j] > 0.0 else 0.0
        total += row[j] * predicted[j]
    if total == 0.0:
        shift = -np.inf
        for j in range(n_states):
            if predicted[j] > 0.0:
                shift = max(shift, np.log(predicted[j]) + log_table[t, groups[j]])
        for j in range(n_states):
            if predicted[j] > 0.0:
                row[j] = np.exp(min(log_table[t, groups[j]] - shift, MAX_EXPONENT))
    return shift


@njit(cache=True)
def _forward(log_table, groups, start_p, src, dst, edge_p, begin, alpha, scaled, scale,
             log_shift):
    """Scaled forward rows of one sequence, with the scaled emissions it used;
    returns False at the first frame no path reaches."""
    n_steps, n_states = alpha.shape
    for t in range(n_steps):
        row = alpha[t]
        if t == 0:
            row[:] = start_p
        else:
            row[:] = 0.0
            previous = alpha[t - 1]
            for e in range(src.shape[0]):
                row[dst[e]] += previous[src[e]] * edge_p[e]
        log_shift[t] = _scaled_row(log_table, begin + t, groups, row, scaled[t])
        if log_shift[t] == -np.inf:
            return False
        total = 0.0
        for j in range(n_states):
            row[j] *= scaled[t, j]
            total += row[j]
        if total == 0.0:
            return False
        scale[t] = total
        for j in range(n_states):
            row[j] /= total
    return True


@njit(cache=True)
def _sequence_counts(log_table, groups, start_p, end_p, src, dst, edge_p, begin, stop,
                     occupancy, edge_counts, start_counts, end_counts):
    """Forward-backward of one sequence; adds its counts and returns its log P."""
    n_steps, n_states = stop - begin, groups.shape[0]
    alpha = np.empty((n_steps, n_states))
    scaled = np.empty((n_steps, n_states))
    scale = np.empty(n_steps)
    log_shift = np.empty(n_steps)
    if not _forward(log_table, groups, start_p, src, dst, edge_p, begin, alpha, scaled,
                    scale, log_shift):
        return -np.inf
    final = 0.0
    for j in range(n_states):
        final += alpha[n_steps - 1, j] * end_p[j]
    if final == 0.0:
        return -np.inf
    loglik = np.log(final)
    for t in range(n_steps):
        loglik += np.log(scale[t]) + log_shift[t]
    beta = np.empty(n_states)
    weighted = np.empty(n_states)
    for j in range(n_states):
        beta[j] = end_p[j] / final
        end_counts[j] += alpha[n_steps - 1, j] * beta[j]
    for t in range(n_steps - 1, -1, -1):
        for j in range(n_states):
            occupancy[begin + t, groups[j]] += alpha[t, j] * beta[j]
        if t == 0:
            break
        for j in range(n_states):
            weighted[j] = scaled[t, j] * beta[j] / scale[t]
        beta[:] = 0.0
        previous = alpha[t - 1]
        for e in range(src.shape[0]):
            flow = edge_p[e] * weighted[dst[e]]
            edge_counts[e] += previous[src[e]] * flow
            beta[src[e]] += flow
    for j in range(n_states):
        start_counts[j] += alpha[0, j] * beta[j]
    return loglik


@njit(cache=True, parallel=True)
def expected_counts(log_table, offsets, network_of, state_ptr, state_group, start_p, end_p,
                    edge_ptr, edge_src, edge_dst, edge_p, chunks):
    """The E-step of a batch: log P per sequence, group occupancy ``(T, G)``, and
    expected counts of every edge, start and end (summed over the chunks).

    A sequence its network cannot generate gets ``-inf`` and adds nothing.
    """
    n_chunks = chunks.shape[0] - 1
    occupancy = np.zeros(log_table.shape)
    edge_counts = np.zeros((n_chunks, edge_src.shape[0]))
    start_counts = np.zeros((n_chunks, state_group.shape[0]))
    end_counts = np.zeros((n_chunks, state_group.shape[0]))
    loglik = np.empty(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        for s in range(chunks[c], chunks[c + 1]):
            k = network_of[s]
            a, b = state_ptr[k], state_ptr[k + 1]
            e, f = edge_ptr[k], edge_ptr[k + 1]
            loglik[s] = _sequence_counts(
                log_table, state_group[a:b], start_p[a:b], end_p[a:b], edge_src[e:f],
                edge_dst[e:f], edge_p[e:f], offsets[s], offsets[s + 1], occupancy,
                edge_counts[c, e:f], start_counts[c, a:b], end_counts[c, a:b])
    return (loglik, occupancy, edge_counts.sum(axis=0), start_counts.sum(axis=0),
            end_counts.sum(axis=0))


@njit(cache=True)
def _sequence_viterbi(log_table, groups, log_start, log_end, src, dst, log_edge, begin,
                      stop, state_path, entry_edge):
    """Best path of one sequence: its states and entering edges (-1: the start)."""
    n_steps, n_states = stop - begin, groups.shape[0]
    pointers = np.empty((n_steps, n_states), dtype=np.int32)
    delta = np.empty(n_states)
    best = np.empty(n_states)
    for j in range(n_states):
        delta[j] = log_start[j] + log_table[begin, groups[j]]
        pointers[0, j] = -1
    for t in range(1, n_steps):
        best[:] = -np.inf
        arg = pointers[t]
        arg[:] = -1
        for e in range(src.shape[0]):
            value = delta[src[e]] + log_edge[e]
            if value > best[dst[e]]:
                best[dst[e]] = value
                arg[dst[e]] = e
        for j in range(n_states):
            delta[j] = best[j] + log_table[begin + t, groups[j]]
    score, last = -np.inf, 0
    for j in range(n_states):
        if delta[j] + log_end[j] > score:
            score, last = delta[j] + log_end[j], j
    state = last
    for t in range(n_steps - 1, -1, -1):
        state_path[begin + t] = state
        edge = pointers[t, state]
        entry_edge[begin + t] = edge
        if edge >= 0:
            state = src[edge]
    return score


@njit(cache=True, parallel=True)
def viterbi(log_table, offsets, network_of, state_ptr, state_group, log_start, log_end,
            edge_ptr, edge_src, edge_dst, log_edge, chunks):
    """Most probable path of every sequence: local state and entering edge per frame,
    and the path's log-probability (``-inf`` where no path exists). Ties go to the
    lowest state at the end and the first edge of the list on the way."""
    n_steps = log_table.shape[0]
    state_path = np.zeros(n_steps, dtype=np.int64)
    entry_edge = np.full(n_steps, -1, dtype=np.int64)
    score = np.empty(offsets.shape[0] - 1)
    for c in prange(chunks.shape[0] - 1):
        for s in range(chunks[c], chunks[c + 1]):
            k = network_of[s]
            a, b = state_ptr[k], state_ptr[k + 1]
            e, f = edge_ptr[k], edge_ptr[k + 1]
            score[s] = _sequence_viterbi(
                log_table, state_group[a:b], log_start[a:b], log_end[a:b], edge_src[e:f],
                edge_dst[e:f], log_edge[e:f], offsets[s], offsets[s + 1], state_path,
                entry_edge)
    return state_path, entry_edge, score
