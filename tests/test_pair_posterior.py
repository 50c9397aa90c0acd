"""Posterior work on PairHMM: sparse and many pairs, MEA, checkpointed EM, memory plans."""

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse

import tiedhmm as th
from tests.naive import mea_reference
from tiedhmm.io import checks
from tiedhmm.pair import posterior as pair_posterior


@pytest.fixture(scope="module")
def protein_pairs():
    rng = np.random.RandomState(5)
    letters = list(th.PROTEIN.letters)
    related = []
    for n in (60, 45, 80, 1, 30):
        x = "".join(rng.choice(letters, n))
        y = "".join(c for c in x if rng.rand() > 0.15) + "".join(rng.choice(letters, 3))
        related.append((x, y))
    return [*related, ("", "MKV"), ("W", "")]


def test_sparse_posteriors_are_the_dense_ones_at_least_the_threshold(protein_pairs):
    model = th.PairHMM.load("protein")
    for x, y in protein_pairs:
        dense = model.posterior(x, y)
        sparse = model.posterior(x, y, threshold=0.01)
        assert isinstance(sparse, scipy.sparse.csr_matrix)
        assert sparse.shape == dense.shape == (len(x), len(y))
        np.testing.assert_array_equal(sparse.toarray(), np.where(dense >= 0.01, dense, 0.0))
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(th.InvalidDataError, match="threshold must be in"):
            model.posterior("MKV", "MKV", threshold=bad)


def test_posterior_many_equals_single_pairs(protein_pairs):
    model = th.PairHMM.load("protein")
    for threshold in (None, 0.05):
        many = model.posterior_many(protein_pairs, threshold=threshold)
        for found, (x, y) in zip(many, protein_pairs):
            single = model.posterior(x, y, threshold=threshold)
            if threshold:
                found, single = found.toarray(), single.toarray()
            np.testing.assert_array_equal(found, single)
    only_a = th.PairHMM.durbin("dna", insert=np.array([1.0, 0.0, 0.0, 0.0]))
    with pytest.raises(th.ImpossibleSequenceError, match="pair 1 has probability 0"):
        only_a.posterior_many([("AC", "AC"), ("C", "")])


def test_mea_alignment_is_the_textbook_dp_on_the_posteriors(protein_pairs):
    model = th.PairHMM.load("protein")
    for x, y in protein_pairs:
        score, moves = mea_reference(model.posterior(x, y))
        alignment = model.align(x, y, method="mea")
        np.testing.assert_array_equal(alignment.coordinates, _path_coordinates(moves))
        assert alignment.score == pytest.approx(score, rel=1e-12, abs=1e-12)
        assert model.expected_accuracy(x, y) == pytest.approx(
            score / max(1, min(len(x), len(y))), rel=1e-12, abs=1e-12)
    accuracy = model.expected_accuracy_many(protein_pairs)
    np.testing.assert_allclose(accuracy, [model.expected_accuracy(x, y)
                                          for x, y in protein_pairs], rtol=1e-12)


def _path_coordinates(moves):
    """Biopython coordinates of an alignment path: a column at each change of move."""
    steps = np.array([(1, 1), (1, 0), (0, 1)])[moves].reshape(-1, 2)
    points = [(0, 0)]
    for k in range(1, len(moves)):
        if moves[k] != moves[k - 1]:
            points.append(tuple(np.sum(steps[:k], axis=0)))
    points.append(tuple(steps.sum(axis=0)))
    return np.array(points).T


def test_checkpointed_em_equals_the_one_block_fit(monkeypatch):
    rng = np.random.RandomState(1)
    pairs = []
    for n in (150, 90, 200, 120):
        x = "".join(rng.choice(list("ACGT"), n))
        pairs.append((x, "".join(c for c in x if rng.rand() > 0.1)))

    def fitted():
        model = th.PairHMM.probcons("dna", n_iter=3, tol=-np.inf)
        return model.fit(pairs)

    one_block = fitted()
    monkeypatch.setattr(pair_posterior, "WHOLE_FORWARD_BYTES", 0)
    assert pair_posterior.plan(one_block.compiled(), 150, 135, 2**30, counts=True).block < 50
    checkpointed = fitted()
    np.testing.assert_allclose(checkpointed.monitor_.history, one_block.monitor_.history,
                               rtol=1e-12)
    for a, b in zip(checkpointed.topology.parameter_groups, one_block.topology.parameter_groups):
        for found, expected in zip(a.parameter_arrays(), b.parameter_arrays()):
            np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-12)


def test_checkpointed_blocks_are_short_unless_memory_says_otherwise():
    """EM's blocks are ``FAST_BLOCK`` diagonals long, or ``sqrt(2 (n + m))`` (less
    memory for long pairs) when the short blocks' checkpoints would take more than the
    limit, or more than twice the memory; a small pair is one block unless that does
    not fit the limit."""
    compiled = th.PairHMM.load("protein").compiled()
    roomy = pair_posterior.plan(compiled, 10_000, 10_000, 2**31, counts=True)
    lean = math.isqrt(2 * 20_000) + 1
    assert roomy.block == pair_posterior.FAST_BLOCK < lean
    tight = pair_posterior.plan(compiled, 10_000, 10_000, 8 * roomy.workspace - 1,
                                counts=True)
    assert tight.block == lean and tight.workspace < roomy.workspace
    short = pair_posterior.plan(compiled, 3000, 3000, 2**20, counts=True)  # fits neither
    assert short.block == pair_posterior.FAST_BLOCK  # (the leaner of the two there)
    small = pair_posterior.plan(compiled, 500, 500, 2**30, counts=True)
    assert small.block == 1000 and 8 * small.workspace > 4 * 2**20  # the whole forward
    tight_small = pair_posterior.plan(compiled, 500, 500, 4 * 2**20, counts=True)
    assert tight_small.block < 1000 and tight_small.working <= 4 * 2**20
    long_pair = pair_posterior.plan(compiled, 50_000, 50_000, 2**40, counts=True)
    assert long_pair.block == math.isqrt(2 * 100_000) + 1


def test_a_tight_memory_limit_checkpoints_and_gives_the_same_numbers():
    model = th.PairHMM.load("dna")
    rng = np.random.RandomState(2)
    x = "".join(rng.choice(list("ACGT"), 700))
    y = "".join(c for c in x if rng.rand() > 0.1)
    compiled = model.compiled()
    roomy = pair_posterior.plan(compiled, len(x), len(y), 2**30, moves=True)
    tight = pair_posterior.plan(compiled, len(x), len(y), 3 * 2**20, moves=True)
    assert roomy.block == 0 and tight.block > 0 and tight.working < 3 * 2**20
    np.testing.assert_array_equal(model.align(x, y, method="mea", memory="3M").coordinates,
                                  model.align(x, y, method="mea").coordinates)
    np.testing.assert_allclose(model.posterior(x, y, threshold=0.02, memory=6 * 2**20).toarray(),
                               model.posterior(x, y, threshold=0.02).toarray(), atol=1e-12)


@pytest.mark.parametrize("memory, expected", [(1000, 1000), ("512M", 512 * 2**20),
                                              ("2G", 2**31), ("1.5 GiB", 3 * 2**29),
                                              ("64kb", 65536)])
def test_memory_sizes_parse(memory, expected):
    assert checks.parse_memory(memory) == expected


@pytest.mark.parametrize("memory", ["lots", "-1G", 0, "2X", True, 1.5])
def test_bad_memory_sizes_are_named(memory):
    with pytest.raises(th.InvalidDataError, match="memory must be"):
        th.PairHMM.load("dna").posterior("ACGT", "ACG", memory=memory)


def test_mea_of_two_20kb_dna_sequences_stays_within_2_gib():
    """The full forward and backward of this pair would take 32 GB; the default limit is
    2 GiB, and the child's peak resident memory must stay under it."""
    code = """
import resource, numpy as np, tiedhmm as th
rng = np.random.RandomState(0)
x = "".join(rng.choice(list("ACGT"), 20000))
y = list(x)
for i in rng.choice(20000, 3000, replace=False):
    y[i] = "ACGT"[rng.randint(4)]
alignment = th.PairHMM.load("dna").align(x, "".join(y), method="mea")
print(alignment.score, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=600)
    score, peak = result.stdout.split()
    assert 15000 < float(score) <= 20000  # most of the 17,000 unchanged letters align
    assert int(peak) < 2 * 2**30, f"peak resident memory {int(peak) / 2**30:.2f} GiB"


@pytest.mark.parametrize("n, m, entries", [(5, 7, 20), (100, 90, 500), (1, 1, 1), (3, 4, 0)])
@pytest.mark.parametrize("order", ["random", "descending columns"])
def test_sparse_posteriors_are_built_as_scipy_builds_them_from_coordinates(n, m, entries,
                                                                          order):
    """The direct CSR build (rows counted, entries sorted) gives scipy's COO route's
    matrix exactly: data, sorted column indices, row pointers and index types, from
    entries in any order or in the backward sweep's (each row's columns descending)."""
    rng = np.random.RandomState(n + entries)
    cells = rng.choice(n * m, entries, replace=False)
    if order != "random":
        cells = np.sort(cells)[::-1]
    rows, columns, values = cells // m, cells % m, rng.rand(entries)
    built = pair_posterior._csr(rows, columns, values, n, m)
    expected = scipy.sparse.csr_matrix((values, (rows, columns)), shape=(n, m))
    assert built.shape == (n, m) and built.has_sorted_indices
    for field in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(built, field), getattr(expected, field))
        assert getattr(built, field).dtype == getattr(expected, field).dtype
