"""The HMM kernels against brute-force enumeration of all state paths."""

from itertools import pairwise

import numpy as np
import pytest
from numba import njit

from tests.naive import hmm_reference, random_hmm
from tiedhmm._kernels import hmm as kernels
from tiedhmm._kernels.emissions import scaled_emissions


def _batch(rng, n_states, n_groups, lengths, zero_fraction=0.3, free_end=True):
    """Random model whose states read ``n_groups`` emission columns, and a batch.

    Without a free end, each row's mass is split between transitions and ending.
    """
    startprob, transmat, _ = random_hmm(rng, n_states, 2, zero_fraction)
    endprob = np.ones(n_states)
    if not free_end:
        endprob = rng.uniform(0.0, 0.6, size=n_states)
        if n_states > 1:
            endprob[rng.randint(n_states)] = 0.0
        transmat = transmat * (1.0 - endprob)[:, None]
    state_group = rng.randint(n_groups, size=n_states).astype(np.int64)
    log_table = np.log(rng.uniform(0.05, 1.0, size=(sum(lengths), n_groups))) - 30.0
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return startprob, transmat, endprob, state_group, log_table, offsets


def _references(startprob, transmat, endprob, state_group, log_table, offsets):
    probs = np.exp(log_table)[:, state_group]
    return [hmm_reference(startprob, transmat, probs[a:b], endprob)
            for a, b in pairwise(offsets)]


CASES = [(1, 1, [3]), (2, 2, [4, 1, 3]), (3, 2, [5, 2]), (3, 3, [1, 4, 4, 2])]


@pytest.mark.parametrize("n_states, n_groups, lengths", CASES)
@pytest.mark.parametrize("n_chunks", [1, 2, 8])
@pytest.mark.parametrize("free_end", [True, False])
def test_forward_backward_and_counts_match_enumeration(n_states, n_groups, lengths, n_chunks,
                                                       free_end):
    rng = np.random.RandomState(n_states * 100 + len(lengths) * 10 + n_chunks)
    startprob, transmat, endprob, state_group, log_table, offsets = _batch(
        rng, n_states, n_groups, lengths, free_end=free_end)
    chunks = kernels.sequence_chunks(offsets, n_chunks)
    refs = _references(startprob, transmat, endprob, state_group, log_table, offsets)
    emission, log_shift = scaled_emissions(log_table)
    alpha, _, _, loglik = kernels.forward(emission, log_shift, state_group, startprob,
                                                  transmat, endprob, offsets, chunks)
    found_loglik, posterior, transitions, starts, ends = kernels.e_step(
        emission, log_shift, state_group, startprob, transmat, endprob, offsets, chunks)
    np.testing.assert_allclose(found_loglik, loglik, rtol=1e-13)
    for s, ref in enumerate(refs):
        rows = slice(offsets[s], offsets[s + 1])
        np.testing.assert_allclose(loglik[s], ref["loglik"], rtol=1e-10)
        prefix = ref["alpha"].sum(axis=1, keepdims=True)
        np.testing.assert_allclose(alpha[rows], ref["alpha"] / prefix, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(posterior[rows], ref["posterior"], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(transitions, sum(ref["transitions"] for ref in refs),
                               rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(starts, sum(ref["starts"] for ref in refs), rtol=1e-9)
    np.testing.assert_allclose(ends, sum(ref["ends"] for ref in refs), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("n_states, n_groups, lengths", CASES)
@pytest.mark.parametrize("free_end", [True, False])
def test_viterbi_matches_enumeration(n_states, n_groups, lengths, free_end):
    rng = np.random.RandomState(7 + n_states)
    startprob, transmat, endprob, state_group, log_table, offsets = _batch(
        rng, n_states, n_groups, lengths, free_end=free_end)
    refs = _references(startprob, transmat, endprob, state_group, log_table, offsets)
    with np.errstate(divide="ignore"):
        path, logprob = kernels.viterbi(log_table, state_group, np.log(startprob),
                                        np.log(transmat), np.log(endprob), offsets,
                                        kernels.sequence_chunks(offsets, 3))
    for s, ref in enumerate(refs):
        np.testing.assert_array_equal(path[offsets[s]:offsets[s + 1]], ref["viterbi_path"])
        np.testing.assert_allclose(logprob[s], ref["viterbi_logprob"], rtol=1e-12)


def test_impossible_sequence_gets_minus_inf_and_no_counts():
    startprob = np.array([1.0, 0.0])
    transmat = np.array([[1.0, 0.0], [0.0, 1.0]])
    state_group = np.array([0, 1])
    # The second sequence needs group 1 at step 1, which state 0 cannot emit.
    with np.errstate(divide="ignore"):
        log_table = np.log(np.array([[1.0, 0.5], [0.2, 0.5], [1.0, 1.0], [0.0, 1.0]]))
    offsets = np.array([0, 2, 4])
    chunks = np.array([0, 2])
    emission, log_shift = scaled_emissions(log_table)
    loglik, posterior, transitions, starts, ends = kernels.e_step(
        emission, log_shift, state_group, startprob, transmat, np.ones(2), offsets, chunks)
    assert np.isfinite(loglik[0]) and loglik[1] == -np.inf
    np.testing.assert_array_equal(posterior[2:], 0.0)
    np.testing.assert_allclose(starts, [1.0, 0.0])
    np.testing.assert_allclose(transitions, [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(ends, [1.0, 0.0])


def test_sequence_chunks_cover_all_sequences_in_order():
    offsets = np.concatenate(([0], np.cumsum([5, 1, 1, 100, 3, 3, 3]))).astype(np.int64)
    for n_chunks in (1, 2, 3, 7, 50):
        chunks = kernels.sequence_chunks(offsets, n_chunks)
        assert chunks[0] == 0 and chunks[-1] == 7
        assert np.all(np.diff(chunks) > 0) and len(chunks) - 1 <= n_chunks
    # each cut at the boundary nearest its share: unequal pairs still split in two
    np.testing.assert_array_equal(kernels.sequence_chunks(np.array([0, 2900, 6000]), 2),
                                  [0, 1, 2])
    np.testing.assert_array_equal(kernels.sequence_chunks(offsets, 2), [0, 4, 7])


def test_kernels_are_cached_on_disk():
    """``cache=True`` on every compiled kernel, so a second process does not recompile."""
    compiled = [value for value in vars(kernels).values()
                if hasattr(value, "py_func") and hasattr(value, "_cache")]
    assert len(compiled) >= 8
    assert all(type(kernel._cache).__name__ == "FunctionCache" for kernel in compiled)
    assert njit(lambda: 0)._cache.__class__.__name__ == "NullCache"
