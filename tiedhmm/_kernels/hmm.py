"""Numba kernels for HMM inference over a batch of sequences stored end to end.

Every kernel takes plain arrays:

- ``emission``: ``(T, G)`` emission probabilities per *group*, each row scaled so that
  its largest entry is 1 (see :func:`tiedhmm._kernels.emissions.scaled_emissions`);
  ``log_shift[t]`` is the log of the factor taken out of row ``t``.
- ``state_group``: ``(N,)`` index of each state's emission group.
- ``startprob`` ``(N,)``, ``transmat`` ``(N, N)`` and ``endprob`` ``(N,)`` (the
  probability of ending after each state; all ones for a free end, as in hmmlearn) in
  probability space (log space for Viterbi).
- ``offsets``: ``(S + 1,)``; sequence ``s`` occupies rows ``offsets[s]:offsets[s+1]``.
- ``chunks``: ``(C + 1,)`` sequence indices; the parallel loop runs over chunks and
  each chunk accumulates into its own slot, summed afterwards (no races).

Forward-backward runs in probability space with one normaliser per time step
(every state at step ``t`` has emitted ``t + 1`` symbols, so the scaling is exact);
``final[s]``, the end-weighted sum of the last normalised forward row, closes each
sequence. A sequence the model cannot generate gets log-likelihood ``-inf`` and zero
posteriors and counts. Kernels do no validation: the callers in ``tiedhmm`` do.
"""

import numpy as np
from numba import njit, prange


def sequence_chunks(offsets: np.ndarray, n_chunks: int) -> np.ndarray:
    """Split sequences into at most ``n_chunks`` contiguous runs of similar total length,
    each cut at the sequence boundary nearest an even share of the total (two sequences
    of 2,900 and 3,100 letters are two chunks, not one)."""
    n_sequences = offsets.shape[0] - 1
    n_chunks = max(1, min(n_chunks, n_sequences))
    targets = np.linspace(0, offsets[-1], n_chunks + 1)[1:-1]
    after = np.clip(np.searchsorted(offsets, targets, side="left"), 1, n_sequences)
    before_is_nearer = targets - offsets[after - 1] < offsets[after] - targets
    cuts = np.where(before_is_nearer, after - 1, after)
    return np.unique(np.concatenate(([0], cuts, [n_sequences]))).astype(np.int64)


@njit(cache=True)
def _forward_sequence(emission, state_group, startprob, transmat, start, stop, alpha, scale):
    """Scaled forward pass over rows ``start:stop``; all zeros from the first impossible step."""
    n_states = startprob.shape[0]
    for t in range(start, stop):
        if t == start:
            for j in range(n_states):
                alpha[t, j] = startprob[j]
        else:
            for j in range(n_states):
                alpha[t, j] = 0.0
            for i in range(n_states):
                a = alpha[t - 1, i]
                if a != 0.0:
                    for j in range(n_states):
                        alpha[t, j] += a * transmat[i, j]
        total = 0.0
        for j in range(n_states):
            alpha[t, j] *= emission[t, state_group[j]]
            total += alpha[t, j]
        scale[t] = total
        if total == 0.0:
            for u in range(t, stop):
                scale[u] = 0.0
                for j in range(n_states):
                    alpha[u, j] = 0.0
            return
        for j in range(n_states):
            alpha[t, j] /= total


@njit(cache=True)
def _backward_sequence(emission, state_group, transmat, endprob, final, scale, start, stop,
                       beta, weighted):
    """Scaled backward pass; ``weighted`` is scratch for ``b(t+1) * beta(t+1)``."""
    n_states = transmat.shape[0]
    for j in range(n_states):
        beta[stop - 1, j] = endprob[j] / final
    for t in range(stop - 2, start - 1, -1):
        for j in range(n_states):
            weighted[j] = emission[t + 1, state_group[j]] * beta[t + 1, j] / scale[t + 1]
        for i in range(n_states):
            total = 0.0
            for j in range(n_states):
                total += transmat[i, j] * weighted[j]
            beta[t, i] = total


@njit(cache=True)
def _final_weight(alpha, endprob, stop):
    """End-weighted sum of the last normalised forward row (0 if no path can end)."""
    total = 0.0
    for j in range(endprob.shape[0]):
        total += alpha[stop - 1, j] * endprob[j]
    return total


@njit(cache=True)
def _sequence_loglik(scale, log_shift, final, start, stop):
    if final == 0.0:
        return -np.inf
    total = np.log(final)
    for t in range(start, stop):
        total += np.log(scale[t]) + log_shift[t]
    return total


@njit(cache=True, parallel=True)
def forward(emission, log_shift, state_group, startprob, transmat, endprob, offsets, chunks):
    """Scaled forward variables ``(T, N)``, normalisers ``(T,)``, ``final`` and log P
    per sequence."""
    n_steps = emission.shape[0]
    n_states = startprob.shape[0]
    n_sequences = offsets.shape[0] - 1
    alpha = np.zeros((n_steps, n_states))
    scale = np.zeros(n_steps)
    final = np.zeros(n_sequences)
    loglik = np.empty(n_sequences)
    for c in prange(chunks.shape[0] - 1):
        for s in range(chunks[c], chunks[c + 1]):
            start, stop = offsets[s], offsets[s + 1]
            _forward_sequence(emission, state_group, startprob, transmat, start, stop,
                              alpha, scale)
            final[s] = _final_weight(alpha, endprob, stop)
            loglik[s] = _sequence_loglik(scale, log_shift, final[s], start, stop)
    return alpha, scale, final, loglik


@njit(cache=True)
def _accumulate_sequence(emission, state_group, transmat, alpha, beta, scale,
                         start, stop, posterior, pair_sums, start_counts, end_counts,
                         weighted):
    """Add one sequence's ``sum_t alpha_t(i) b_t+1(j) beta_t+1(j) / c_t+1``, then posteriors.

    ``posterior`` may be the ``beta`` array itself: it is written only after the
    pair sums have read ``beta``.
    """
    n_states = transmat.shape[0]
    for t in range(start, stop - 1):
        for j in range(n_states):
            weighted[j] = emission[t + 1, state_group[j]] * beta[t + 1, j] / scale[t + 1]
        for i in range(n_states):
            a = alpha[t, i]
            if a != 0.0:
                for j in range(n_states):
                    pair_sums[i, j] += a * weighted[j]
    for t in range(start, stop):
        for j in range(n_states):
            posterior[t, j] = alpha[t, j] * beta[t, j]
    for j in range(n_states):
        start_counts[j] += posterior[start, j]
        end_counts[j] += posterior[stop - 1, j]


@njit(cache=True, parallel=True)
def e_step(emission, log_shift, state_group, startprob, transmat, endprob, offsets, chunks):
    """Forward, backward and expected counts of every sequence, in one parallel loop
    over chunks of sequences (one launch: under load, every launch's closing barrier
    waits for a thread the scheduler may have set aside).

    Returns log P per sequence, posteriors ``(T, N)`` (written over the backward
    buffer), transition counts ``(N, N)``, start and end counts ``(N,)``. Transition
    counts are ``xi(i, j) = sum_t alpha_t(i) a_ij b_t+1(j) beta_t+1(j) / c_t+1``; the
    factor ``a_ij`` is applied once after summing over time, and each chunk's sums are
    added in chunk order.
    """
    n_steps = emission.shape[0]
    n_states = startprob.shape[0]
    n_sequences = offsets.shape[0] - 1
    n_chunks = chunks.shape[0] - 1
    alpha = np.zeros((n_steps, n_states))
    beta = np.zeros((n_steps, n_states))
    scale = np.zeros(n_steps)
    loglik = np.empty(n_sequences)
    pair_sums = np.zeros((n_chunks, n_states, n_states))
    start_counts = np.zeros((n_chunks, n_states))
    end_counts = np.zeros((n_chunks, n_states))
    for c in prange(n_chunks):
        weighted = np.empty(n_states)
        for s in range(chunks[c], chunks[c + 1]):
            start, stop = offsets[s], offsets[s + 1]
            _forward_sequence(emission, state_group, startprob, transmat, start, stop,
                              alpha, scale)
            final = _final_weight(alpha, endprob, stop)
            loglik[s] = _sequence_loglik(scale, log_shift, final, start, stop)
            if final != 0.0:
                _backward_sequence(emission, state_group, transmat, endprob, final, scale,
                                   start, stop, beta, weighted)
                _accumulate_sequence(emission, state_group, transmat, alpha, beta, scale,
                                     start, stop, beta, pair_sums[c], start_counts[c],
                                     end_counts[c], weighted)
    return (loglik, beta, pair_sums.sum(axis=0) * transmat, start_counts.sum(axis=0),
            end_counts.sum(axis=0))


@njit(cache=True, parallel=True)
def group_occupancy(posterior, state_group, n_groups):
    """``(T, G)`` posterior mass of each emission group: the sum over its states."""
    n_steps, n_states = posterior.shape
    occupancy = np.zeros((n_steps, n_groups))
    for t in prange(n_steps):
        for j in range(n_states):
            occupancy[t, state_group[j]] += posterior[t, j]
    return occupancy


@njit(cache=True, parallel=True)
def viterbi(log_table, state_group, log_startprob, log_transmat, log_endprob, offsets,
            chunks):
    """Most probable state path ``(T,)`` and its log-probability per sequence (log space).

    Ties go to the lowest state index. Back-pointers are int32, one per cell.
    """
    n_steps = log_table.shape[0]
    n_states = log_startprob.shape[0]
    path = np.zeros(n_steps, dtype=np.int64)
    pointers = np.zeros((n_steps, n_states), dtype=np.int32)
    best_logprob = np.empty(offsets.shape[0] - 1)
    for c in prange(chunks.shape[0] - 1):
        delta = np.empty(n_states)
        previous = np.empty(n_states)
        for s in range(chunks[c], chunks[c + 1]):
            start, stop = offsets[s], offsets[s + 1]
            for j in range(n_states):
                delta[j] = log_startprob[j] + log_table[start, state_group[j]]
            for t in range(start + 1, stop):
                previous[:] = delta
                for j in range(n_states):
                    best = -np.inf
                    arg = 0
                    for i in range(n_states):
                        value = previous[i] + log_transmat[i, j]
                        if value > best:
                            best = value
                            arg = i
                    delta[j] = best + log_table[t, state_group[j]]
                    pointers[t, j] = arg
            best = -np.inf
            arg = 0
            for j in range(n_states):
                if delta[j] + log_endprob[j] > best:
                    best = delta[j] + log_endprob[j]
                    arg = j
            best_logprob[s] = best
            path[stop - 1] = arg
            for t in range(stop - 1, start, -1):
                path[t - 1] = pointers[t, path[t]]
    return path, best_logprob
