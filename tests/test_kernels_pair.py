"""Pair kernels against brute-force enumeration of every alignment, and log space."""

import numpy as np
import pytest

from tests.naive import pair_reference, random_pair_model
from tiedhmm._kernels import pair as kernels

DURBIN = (np.array([1, 1, 0]), np.array([1, 0, 1]))
PROBCONS = (np.array([1, 1, 0, 1, 0]), np.array([1, 0, 1, 0, 1]))
SIZES = [(1, 1), (2, 1), (1, 3), (3, 3), (4, 2), (0, 2), (3, 0), (4, 4)]
#: Seven fully connected states: three predecessor groups per state (first, middle and
#: last passes) and back-pointers spread over several bytes.
WIDE = (np.array([1, 1, 0, 1, 0, 1, 1]), np.array([1, 0, 1, 0, 1, 1, 0]))


def _case(seed, layout, n, m, free_end=False):
    rng = np.random.RandomState(seed)
    dx, dy = layout
    start, transmat, end, emission = random_pair_model(rng, dx, dy, 3, free_end)
    x = rng.randint(3, size=n).astype(np.int64)
    y = rng.randint(3, size=m).astype(np.int64)
    return x, y, dx, dy, emission, start, transmat, end


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
@pytest.mark.parametrize("n, m", SIZES)
@pytest.mark.parametrize("free_end", [False, True])
def test_forward_backward_posteriors_and_counts_match_enumeration(layout, n, m, free_end):
    if n + m > 6 and len(layout[0]) == 5:
        m = min(m, 2)
    args = _case(n * 10 + m, layout, n, m, free_end)
    ref = pair_reference(*args)
    loglik, match_posterior, transitions, starts, ends, emissions = kernels.expectations(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), ref["loglik"], rtol=1e-12)
    np.testing.assert_allclose(loglik, ref["loglik"], rtol=1e-12)
    np.testing.assert_allclose(match_posterior, ref["match_posterior"], atol=1e-12)
    np.testing.assert_allclose(transitions, ref["transitions"], atol=1e-12)
    np.testing.assert_allclose(starts, ref["starts"], atol=1e-12)
    np.testing.assert_allclose(ends, ref["ends"], atol=1e-12)
    np.testing.assert_allclose(emissions, ref["emissions"], atol=1e-12)


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
@pytest.mark.parametrize("n, m", SIZES)
def test_viterbi_matches_enumeration(layout, n, m):
    if n + m > 6 and len(layout[0]) == 5:
        m = min(m, 2)
    x, y, dx, dy, emission, start, transmat, end = _case(100 + n * 10 + m, layout, n, m)
    ref = pair_reference(x, y, dx, dy, emission, start, transmat, end)
    with np.errstate(divide="ignore"):
        path, score = kernels.viterbi(x, y, dx, dy, np.log(emission), np.log(start),
                                      np.log(transmat), np.log(end))
    np.testing.assert_array_equal(path, ref["viterbi_path"])
    np.testing.assert_allclose(score, ref["viterbi_logprob"], rtol=1e-12)


@pytest.mark.parametrize("n, m", [(1, 1), (2, 2), (3, 1), (0, 3)])
def test_many_state_model_matches_enumeration(n, m):
    args = _case(200 + n * 10 + m, WIDE, n, m)
    ref = pair_reference(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), ref["loglik"], rtol=1e-12)
    np.testing.assert_allclose(kernels.expectations(*args)[2], ref["transitions"], atol=1e-12)
    x, y, dx, dy, emission, start, transmat, end = args
    with np.errstate(divide="ignore"):
        path, score = kernels.viterbi(x, y, dx, dy, np.log(emission), np.log(start),
                                      np.log(transmat), np.log(end))
    np.testing.assert_array_equal(path, ref["viterbi_path"])
    np.testing.assert_allclose(score, ref["viterbi_logprob"], rtol=1e-12)


def test_batches_equal_single_pairs():
    pairs = [_case(s, DURBIN, n, m) for s, (n, m) in enumerate([(3, 4), (2, 2), (5, 1)])]
    dx, dy, emission, start, transmat, end = pairs[0][2:]
    xs = np.concatenate([p[0] for p in pairs])
    ys = np.concatenate([p[1] for p in pairs])
    x_offsets = np.cumsum([0] + [len(p[0]) for p in pairs])
    y_offsets = np.cumsum([0] + [len(p[1]) for p in pairs])
    singles = [kernels.expectations(p[0], p[1], dx, dy, emission, start, transmat, end)
               for p in pairs]
    loglik = kernels.batch_forward_score(xs, x_offsets, ys, y_offsets, dx, dy, emission,
                                         start, transmat, end)
    np.testing.assert_allclose(loglik, [s[0] for s in singles], rtol=1e-12)
    batch = kernels.batch_expectations(xs, x_offsets, ys, y_offsets, np.array([0, 2, 3]),
                                       dx, dy, emission, start, transmat, end)
    np.testing.assert_allclose(batch[0], [s[0] for s in singles], rtol=1e-12)
    for position in range(1, 5):
        np.testing.assert_allclose(batch[position], sum(s[position + 1] for s in singles),
                                   atol=1e-12)


def test_mea_path_picks_highest_posterior_sum():
    posterior = np.array([[0.9, 0.0, 0.0], [0.0, 0.1, 0.8]])
    moves = kernels.mea_path(posterior)
    np.testing.assert_array_equal(moves, [0, 2, 0])  # x1~y1, gap, x2~y3
