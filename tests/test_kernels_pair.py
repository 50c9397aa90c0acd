"""Pair kernels against brute-force enumeration of every alignment, and log space."""

import numpy as np
import pytest
from numba import njit

import tiedhmm as th
from tests.naive import mea_reference, pair_posterior_log, pair_reference, random_pair_model
from tiedhmm._kernels import pair as kernels
from tiedhmm._kernels.gather import GATHER_WIDTH, gather_sums

DURBIN = (np.array([1, 1, 0]), np.array([1, 0, 1]))
PROBCONS = (np.array([1, 1, 0, 1, 0]), np.array([1, 0, 1, 0, 1]))
SIZES = [(1, 1), (2, 1), (1, 3), (3, 3), (4, 2), (0, 2), (3, 0), (4, 4)]
#: Seven fully connected states: three predecessor groups per state (first, middle and
#: last passes) and back-pointers spread over several bytes.
WIDE = (np.array([1, 1, 0, 1, 0, 1, 1]), np.array([1, 0, 1, 0, 1, 1, 0]))
#: Blocks of the posterior pass: 0 keeps match forwards only; 2 and 3 checkpoint almost
#: every diagonal (blocks recomputed, block edges everywhere); 100 is one block.
BLOCKS = (0, 2, 3, 100)


def _case(seed, layout, n, m, free_end=False, n_letters=3):
    rng = np.random.RandomState(seed)
    dx, dy = layout
    start, transmat, end, emission = random_pair_model(rng, dx, dy, n_letters, free_end)
    x = rng.randint(n_letters, size=n).astype(np.int64)
    y = rng.randint(n_letters, size=m).astype(np.int64)
    return x, y, dx, dy, emission, start, transmat, end


def _viterbi(x, y, dx, dy, log_emission, log_start, log_transmat, log_end, block=0):
    """``kernels.viterbi`` in buffers larger than asked and full of NaN and 0xff bytes,
    as a reused workspace may be: what a call finds there must not matter."""
    doubles, n_bytes, _ = kernels.viterbi_workspace(x.size, y.size, dx.size, block)
    return kernels.viterbi(x, y, dx, dy, log_emission, log_start, log_transmat, log_end, block,
                           np.full(doubles + 7, np.nan), np.full(n_bytes + 5, 255, np.uint8))


def _posterior_pass(args, block, *, counts=True, threshold=0.0, moves=True,
                    band_cells=kernels.BAND_MIN_CELLS, dense_fill=0.0):
    """Everything one posterior pass computes, as a dict (the dense posteriors written
    into an array of ``dense_fill``)."""
    x, y, dx, dy, emission = args[:5]
    n, m, n_states = x.size, y.size, dx.size
    found = {"transitions": np.zeros((n_states, n_states)), "starts": np.zeros(n_states),
             "ends": np.zeros(n_states), "emissions": np.zeros(emission.shape),
             "match_posterior": np.full((n, m), dense_fill),
             "table": np.zeros((n + 1) * (m + 1) if moves else 0, dtype=np.uint8)}
    workspace = np.full(kernels.workspace_size(n, m, dx, dy, block), np.nan)
    loglik, score, rows, columns, values, banded = kernels.posterior_pass(
        *args, block, workspace, counts, found["transitions"], found["starts"], found["ends"],
        found["emissions"], found["match_posterior"], threshold, True, found["table"],
        band_cells)
    found.update(loglik=loglik, mea_score=score, sparse=(rows, columns, values), banded=banded)
    if moves:
        found["moves"] = kernels.mea_moves(found["table"], n, m)
    return found


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
@pytest.mark.parametrize("n, m", SIZES)
@pytest.mark.parametrize("free_end", [False, True])
def test_posteriors_counts_and_mea_match_enumeration(layout, n, m, free_end):
    if n + m > 6 and len(layout[0]) == 5:
        m = min(m, 2)
    args = _case(n * 10 + m, layout, n, m, free_end)
    ref = pair_reference(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), ref["loglik"], rtol=1e-12)
    _assert_every_block_matches(args, ref)


def _assert_every_block_matches(args, ref):
    """The posterior pass in every block layout against the enumeration ``ref``:
    likelihood, match posteriors, MEA score and moves, and (positive blocks) counts."""
    mea_score, mea_moves = mea_reference(ref["match_posterior"])
    for block in BLOCKS:
        found = _posterior_pass(args, block, counts=block > 0)
        np.testing.assert_allclose(found["loglik"], ref["loglik"], rtol=1e-12)
        np.testing.assert_allclose(found["match_posterior"], ref["match_posterior"],
                                   atol=1e-12)
        np.testing.assert_allclose(found["mea_score"], mea_score, atol=1e-12)
        np.testing.assert_array_equal(found["moves"], mea_moves)
        if block:
            for key in ("transitions", "starts", "ends", "emissions"):
                np.testing.assert_allclose(found[key], ref[key], atol=1e-12, err_msg=key)


#: Edges of the presets' topologies (gaps return only to the match state or stay), where
#: an insert state has two successors: the backward's two-successor loops.
SPARSE_EDGES = {
    "durbin": (DURBIN, np.array([[1, 1, 1], [1, 1, 0], [1, 0, 1]])),
    "probcons": (PROBCONS, np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 1, 0, 0],
                                     [1, 0, 0, 1, 0], [1, 0, 0, 0, 1]])),
}


@pytest.mark.parametrize("topology", sorted(SPARSE_EDGES))
@pytest.mark.parametrize("n, m", [(1, 2), (3, 3), (4, 2)])
def test_sparse_topologies_match_enumeration(topology, n, m):
    layout, edges = SPARSE_EDGES[topology]
    x, y, dx, dy, emission, start, transmat, end = _case(300 + n * 10 + m, layout, n, m)
    transmat = transmat * edges
    scale = (transmat.sum(axis=1) + end)[:, None]
    args = (x, y, dx, dy, emission, start, transmat / scale, end / scale[:, 0])
    _assert_every_block_matches(args, pair_reference(*args))


#: A core (match and two inserts) with a flank on each edge of the grid: y prefix (first
#: row), x prefix (first column), x suffix (last column) and y suffix (last row).
FLANKED = (np.array([1, 1, 0, 0, 1, 1, 0]), np.array([1, 0, 1, 1, 0, 0, 1]))
FLANKED_EDGES = np.array([[1, 1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 1, 1],
                          [1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0],
                          [0, 0, 0, 0, 0, 0, 1]])


def _flanked_case(seed, n, m):
    x, y, dx, dy, emission, start, transmat, end = _case(seed, FLANKED, n, m)
    transmat = transmat * FLANKED_EDGES
    scale = (transmat.sum(axis=1) + end)[:, None]
    return x, y, dx, dy, emission, start, transmat / scale, end / scale[:, 0]


def test_states_kept_to_an_edge_of_the_grid_are_found():
    """From the edges alone: a state that reads no y letter and follows only itself and
    such states lies in the first column, and so on; the local preset's x prefix and y
    suffix flanks, and none of the core."""
    args = _flanked_case(0, 2, 2)
    dx, dy, transmat = args[2], args[3], args[6]
    expected = [0, 0, 0, kernels.FIRST_ROW, kernels.FIRST_COLUMN, kernels.LAST_COLUMN,
                kernels.LAST_ROW]
    np.testing.assert_array_equal(kernels.grid_edges(dx, dy, transmat, 0.0), expected)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(
            kernels.grid_edges(dx, dy, np.log(transmat), -np.inf), expected)
    linked = transmat.copy()
    linked[3, 4] = 0.1  # the y prefix leads to the x prefix: that one may now have j > 0
    assert kernels.grid_edges(dx, dy, linked, 0.0)[4] == 0
    model = th.PairHMM.load("protein").local().compiled()
    edges = kernels.grid_edges(model.dx, model.dy, model.probabilities[4], 0.0)
    np.testing.assert_array_equal(edges, [0] * 5 + [kernels.FIRST_COLUMN, 0, 0,
                                                    kernels.LAST_ROW])


@pytest.mark.parametrize("n, m", [(1, 2), (3, 3), (4, 2), (0, 2), (3, 0), (2, 3)])
def test_states_kept_to_an_edge_match_enumeration(n, m):
    """Sweeps compute only the cells of a state on its grid edge: forward, Viterbi,
    and the posterior pass in every block layout, counts included."""
    args = _flanked_case(500 + n * 10 + m, n, m)
    ref = pair_reference(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), ref["loglik"], rtol=1e-12)
    _assert_every_block_matches(args, ref)
    with np.errstate(divide="ignore"):
        logs = tuple(np.log(a) for a in (args[4], args[5], args[6], args[7]))
    for block in (0, 2, 3):
        path, score = _viterbi(*args[:4], *logs, block)
        np.testing.assert_array_equal(path, ref["viterbi_path"])
        np.testing.assert_allclose(score, ref["viterbi_logprob"], rtol=1e-12)


def test_counts_without_every_forward_are_refused():
    args = _case(0, DURBIN, 2, 2)
    with pytest.raises(ValueError, match="block must be positive"):
        _posterior_pass(args, 0, counts=True)


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
@pytest.mark.parametrize("n, m", SIZES)
def test_viterbi_matches_enumeration(layout, n, m):
    """In one block and in blocks of two and three diagonals (a score pass, then
    pointers recomputed in each block's cone)."""
    if n + m > 6 and len(layout[0]) == 5:
        m = min(m, 2)
    x, y, dx, dy, emission, start, transmat, end = _case(100 + n * 10 + m, layout, n, m)
    ref = pair_reference(x, y, dx, dy, emission, start, transmat, end)
    with np.errstate(divide="ignore"):
        logs = (np.log(emission), np.log(start), np.log(transmat), np.log(end))
    for block in (0, 2, 3):
        path, score = _viterbi(x, y, dx, dy, *logs, block)
        np.testing.assert_array_equal(path, ref["viterbi_path"])
        np.testing.assert_allclose(score, ref["viterbi_logprob"], rtol=1e-12)


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS, WIDE], ids=["durbin", "probcons", "wide"])
def test_viterbi_in_blocks_equals_one_block_on_long_pairs(layout):
    """Blocks of any size give the one-block path and score exactly (both are maxima of
    the same sums); pairs this long run in blocks by default."""
    x, y, dx, dy, emission, start, transmat, end = _case(7, layout, 1200, 900, n_letters=4)
    with np.errstate(divide="ignore"):
        args = (x, y, dx, dy, np.log(emission), np.log(start), np.log(transmat), np.log(end))
    assert kernels.viterbi_blocks(1200, 900, dx.size) < 2100
    whole_path, whole_score = _viterbi(*args, 2100)
    for block in (0, 2, 3, 50):
        path, score = _viterbi(*args, block)
        assert score == whole_score
        np.testing.assert_array_equal(path, whole_path)


@pytest.mark.parametrize("n, m", [(1, 1), (2, 2), (3, 1), (0, 3)])
def test_many_state_model_matches_enumeration(n, m):
    args = _case(200 + n * 10 + m, WIDE, n, m)
    ref = pair_reference(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), ref["loglik"], rtol=1e-12)
    for block in (2, 100):
        found = _posterior_pass(args, block)
        for key in ("transitions", "starts", "ends", "emissions", "match_posterior"):
            np.testing.assert_allclose(found[key], ref[key], atol=1e-12, err_msg=key)
    x, y, dx, dy, emission, start, transmat, end = args
    with np.errstate(divide="ignore"):
        path, score = _viterbi(x, y, dx, dy, np.log(emission), np.log(start),
                               np.log(transmat), np.log(end))
    np.testing.assert_array_equal(path, ref["viterbi_path"])
    np.testing.assert_allclose(score, ref["viterbi_logprob"], rtol=1e-12)


def test_sparse_lists_hold_at_most_what_the_posteriors_allow():
    assert kernels.kept_capacity(40, 30, 0.05) == 601 + 2 * 30 + 16  # 600, and a margin
    assert kernels.kept_capacity(40, 30, 1e-300) == 40 * 30 + 2 * 30 + 16


@pytest.mark.parametrize("shape", [(40, 30), (90, 200), (300, 7)])
@pytest.mark.parametrize("threshold", [0.05, 1e-300])
def test_sparse_posteriors_are_the_dense_ones_at_least_the_threshold(threshold, shape):
    """Also at a threshold every cell reaches: the lists, allocated once at
    ``kept_capacity``, hold the whole matrix, and equal the dense posteriors (written
    through their transposing buffer, ``DENSE_BLOCK`` diagonals at a time) bit for bit;
    x shorter and longer than y, and much longer (its buffer spans min(n, m) + 64
    rows, not n)."""
    n, m = shape
    args = _case(7, PROBCONS, n, m, n_letters=4)
    for block in (0, 5):
        found = _posterior_pass(args, block, counts=False, threshold=threshold)
        rows, columns, values = found["sparse"]
        dense = found["match_posterior"]
        expected = np.argwhere(dense >= threshold)
        assert 0 < len(expected) <= dense.size
        assert (len(expected) == dense.size) == (threshold < 1e-100)
        np.testing.assert_array_equal(np.sort(rows * m + columns),
                                      expected[:, 0] * m + expected[:, 1])
        np.testing.assert_array_equal(values, dense[rows, columns])


def test_long_pairs_equal_the_full_log_space_matrices_with_any_block():
    """2,000 x 1,500: scaled diagonals against full log-space tables, to 1e-9; counts
    of a checkpointed pass equal those of one block bit for bit (a recomputed block
    writes the same numbers, and counts are added in the same order)."""
    args = _case(11, PROBCONS, 2000, 1500, n_letters=4)
    loglik, posterior = pair_posterior_log(*args)
    one_block = _posterior_pass(args, 3500, moves=False)
    for block in (0, 64, 3500):
        found = one_block if block == 3500 else _posterior_pass(args, block, counts=block > 0,
                                                                 moves=False)
        np.testing.assert_allclose(found["loglik"], loglik, rtol=1e-12)
        np.testing.assert_allclose(found["match_posterior"], posterior, atol=1e-9)
        np.testing.assert_allclose(found["mea_score"], one_block["mea_score"], rtol=1e-12)
        if block:
            for key in ("transitions", "starts", "ends", "emissions"):
                np.testing.assert_array_equal(found[key], one_block[key], err_msg=key)


def test_batches_equal_single_pairs():
    pairs = [_case(s, DURBIN, n, m) for s, (n, m) in enumerate([(3, 4), (2, 2), (5, 1)])]
    model = pairs[0][2:]
    xs = np.concatenate([p[0] for p in pairs])
    ys = np.concatenate([p[1] for p in pairs])
    x_offsets = np.cumsum([0] + [len(p[0]) for p in pairs])
    y_offsets = np.cumsum([0] + [len(p[1]) for p in pairs])
    singles = [_posterior_pass((p[0], p[1], *model), 3) for p in pairs]
    loglik = kernels.batch_forward_score(xs, x_offsets, ys, y_offsets, *model)
    np.testing.assert_allclose(loglik, [s["loglik"] for s in singles], rtol=1e-12)
    blocks = np.array([3, 100, 2])
    no_rows = np.empty((0, 0))  # every chunk allocates its own workspace
    for workspaces in (no_rows, np.full((1, 10_000), np.nan), np.full((2, 10), np.nan)):
        batch = kernels.batch_expectations(xs, x_offsets, ys, y_offsets, np.array([0, 2, 3]),
                                           blocks, kernels.BAND_MIN_CELLS, workspaces, *model)
        np.testing.assert_allclose(batch[0], [s["loglik"] for s in singles], rtol=1e-12)
        for position, key in enumerate(("transitions", "starts", "ends", "emissions"),
                                       start=1):
            np.testing.assert_allclose(batch[position], sum(s[key] for s in singles),
                                       atol=1e-12)
    for tables in (np.empty((0, 0), np.uint8), np.full((1, 100), 255, np.uint8)):
        score, loglik, moves, lengths = kernels.batch_mea(
            xs, x_offsets, ys, y_offsets, np.array([0, 1, 3]), np.zeros(3, dtype=np.int64),
            kernels.BAND_MIN_CELLS, np.full((1, 10_000), np.nan), tables, *model)
        np.testing.assert_allclose(score, [s["mea_score"] for s in singles], rtol=1e-12)
        np.testing.assert_allclose(loglik, [s["loglik"] for s in singles], rtol=1e-12)
        kept = [moves[x_offsets[p] + y_offsets[p]:][:lengths[p]] for p in range(3)]
        expected = [s["moves"] for s in singles] if tables.shape[1] else [[]] * 3
        for found, single in zip(kept, expected):
            np.testing.assert_array_equal(found, single)


#: ``band_cells`` that never bands.
NEVER_BANDED = np.iinfo(np.int64).max


def _related_case(seed, layout, n, insertion=0):
    """A model that favours identical letters and rare gaps, x of ``n`` random letters,
    and y a copy with 15 % of its letters changed, a letter inserted or deleted every
    60 or so, and inserted in the middle, a copy of x's next ``insertion`` letters with
    40 % of them changed (a decoy the forward follows first)."""
    rng = np.random.RandomState(seed)
    dx, dy = layout
    n_states, n_letters = len(dx), 4
    start = np.where(dx * dy == 1, 0.9, 0.1 / (n_states - 1))
    transmat = np.where(dx * dy == 1, 0.3, 0.0)[None, :] * np.ones((n_states, 1))
    transmat[0] = np.where(dx * dy == 1, 0.9, 0.08 / (n_states - 1))
    for k in range(1, n_states):
        transmat[k, k] = 0.68
    end = np.full(n_states, 0.02)
    emission = np.zeros((n_states, n_letters + 1, n_letters + 1))
    emission[0, :n_letters, :n_letters] = 0.2 / (n_letters * (n_letters - 1))
    emission[0, np.arange(n_letters), np.arange(n_letters)] = 0.2
    emission[dx == 0, n_letters, :n_letters] = 1.0 / n_letters
    emission[dy == 0, :n_letters, n_letters] = 1.0 / n_letters
    x = rng.randint(n_letters, size=n)
    y = []
    for position, letter in enumerate(x):
        if position == n // 2:
            decoy = x[position:position + insertion].copy()
            changed = rng.rand(decoy.size) < 0.4
            decoy[changed] = rng.randint(n_letters, size=changed.sum())
            y.extend(decoy)
        draw = rng.rand()
        if draw < 1 / 120:
            continue
        y.append(rng.randint(n_letters) if draw < 0.15 else letter)
        if draw > 1 - 1 / 120:
            y.append(rng.randint(n_letters))
    return x, np.array(y), dx, dy, emission, start, transmat, end


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
@pytest.mark.parametrize("block", [0, 40, 5000])
def test_a_banded_pass_equals_the_whole_grid(layout, block):
    """A related pair runs in a narrow band (block 0, checkpointed and one block): its
    likelihood is the whole grid's, and its posteriors, MEA alignment and counts are
    within the band's slack of the whole grid's; the sparse lists of both are their
    dense posteriors at least the threshold (diagonals of many runs of
    ``KEEP_RUN`` cells, most without one)."""
    args = _related_case(7, layout, 700)
    options = {"counts": block > 0, "threshold": 0.01}
    whole = _posterior_pass(args, block, band_cells=NEVER_BANDED, **options)
    banded = _posterior_pass(args, block, band_cells=0, **options)
    assert banded["banded"] and not whole["banded"]
    assert banded["loglik"] == whole["loglik"]
    np.testing.assert_allclose(banded["match_posterior"], whole["match_posterior"], atol=1e-9)
    np.testing.assert_allclose(banded["mea_score"], whole["mea_score"], rtol=1e-12)
    np.testing.assert_array_equal(banded["moves"], whole["moves"])
    for key in ("transitions", "starts", "ends", "emissions") if block else ():
        np.testing.assert_allclose(banded[key], whole[key], rtol=1e-9, atol=1e-9, err_msg=key)
    for found in (banded, whole):
        rows, columns, values = found["sparse"]
        expected = np.nonzero(found["match_posterior"] >= 0.01)
        assert sorted(zip(rows, columns)) == sorted(zip(*expected))
        np.testing.assert_array_equal(values[np.lexsort((columns, rows))],
                                      found["match_posterior"][expected])


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
def test_dense_posteriors_of_a_banded_pass_are_written_in_the_band_only(layout):
    """A banded pass writes its band's cells of the dense posteriors and leaves the
    rest as it was (zero in a fresh result): none of those holds more than the band's
    slack of the whole grid's posteriors. A pass on the whole grid writes every cell."""
    args = _related_case(7, layout, 700)
    options = {"counts": False, "moves": False}
    whole = _posterior_pass(args, 0, band_cells=NEVER_BANDED, dense_fill=np.nan, **options)
    zeroed = _posterior_pass(args, 0, band_cells=0, **options)
    marked = _posterior_pass(args, 0, band_cells=0, dense_fill=np.nan, **options)
    assert not np.isnan(whole["match_posterior"]).any()
    unwritten = np.isnan(marked["match_posterior"])
    assert 0.5 < unwritten.mean() < 1.0
    np.testing.assert_array_equal(marked["match_posterior"][~unwritten],
                                  zeroed["match_posterior"][~unwritten])
    assert not zeroed["match_posterior"][unwritten].any()
    assert whole["match_posterior"][unwritten].max() < 1e-9


@pytest.mark.parametrize("layout", [DURBIN, PROBCONS], ids=["durbin", "probcons"])
def test_a_band_that_misses_the_path_falls_back_to_the_whole_grid(layout):
    """A 200-letter decoy inserted in y: the forward's envelope follows the decoy and
    misses the long gap before the true copy, so the banded forward holds too little of
    P(x, y) and the pass runs on the whole grid, with the whole grid's results."""
    args = _related_case(8, layout, 700, insertion=200)
    whole = _posterior_pass(args, 40, band_cells=NEVER_BANDED)
    found = _posterior_pass(args, 40, band_cells=0)
    assert not found["banded"]
    for key in ("loglik", "match_posterior", "mea_score", "moves", "transitions",
                "emissions"):
        np.testing.assert_array_equal(found[key], whole[key], err_msg=key)


def test_an_impossible_pair_adds_nothing():
    x, y, dx, dy, emission, start, transmat, end = _case(3, DURBIN, 2, 2)
    emission[0] = 0.0  # the match state emits nothing: x and y cannot align
    emission[1] = 0.0  # nor can x be inserted
    found = _posterior_pass((x, y, dx, dy, emission, start, transmat, end), 2, moves=False)
    assert found["loglik"] == -np.inf and np.isnan(found["mea_score"])
    assert not found["transitions"].any() and not found["emissions"].any()


def test_models_of_very_unlikely_letters_rescale_often_enough():
    """Every letter's emission 1e-60 (a match 1e-120): eight diagonals between
    rescalings would fall past the smallest double, so the forward rescales more often
    and still equals log space."""
    rng = np.random.RandomState(5)
    dx, dy = DURBIN
    start, transmat, end, _ = random_pair_model(rng, dx, dy, 3)
    tiny, gap = 1e-120, 3  # the sequences use letters 0 and 1; letter 2 takes the rest
    emission = np.zeros((3, 4, 4))
    emission[0, :3, :3] = (1.0 - 4 * tiny) / 5
    emission[0, :2, :2] = tiny
    emission[1, :3, gap] = emission[2, gap, :3] = [1e-60, 1e-60, 1.0 - 2e-60]
    args = (rng.randint(2, size=40), rng.randint(2, size=35), dx, dy, emission, start,
            transmat, end)
    assert kernels.rescale_period(emission, transmat) < kernels.RESCALE_EVERY
    loglik, posterior = pair_posterior_log(*args)
    assert loglik < -1e4
    np.testing.assert_allclose(kernels.forward_score(*args), loglik, rtol=1e-12)
    found = _posterior_pass(args, 0, counts=False, moves=False)
    np.testing.assert_allclose(found["loglik"], loglik, rtol=1e-12)
    np.testing.assert_allclose(found["match_posterior"], posterior, atol=1e-9)


def _steep_model(rng, gap_open, extend, n_letters=4):
    """A Durbin-layout model whose gap opens (and gap starts) have probability
    ``gap_open`` and gap extensions ``extend``, random emissions."""
    dx, dy = DURBIN
    _, _, _, emission = random_pair_model(rng, dx, dy, n_letters)
    stay, end = 1.0 - 2 * gap_open - 0.01, 0.01
    start = np.array([1.0 - 2 * gap_open, gap_open, gap_open])
    transmat = np.array([[stay, gap_open, gap_open],
                         [1.0 - extend - end, extend, 0.0],
                         [1.0 - extend - end, 0.0, extend]])
    return dx, dy, emission, start, transmat, np.full(3, end)


@pytest.mark.parametrize("n, m", SIZES)
def test_steep_models_match_enumeration(n, m):
    """A gap open of 1e-150: the diagonals' sums swing by 1e150 both ways, so each
    diagonal is divided in place (folded into a transition, the sum would underflow)."""
    rng = np.random.RandomState(n * 10 + m)
    dx, dy, emission, start, transmat, end = _steep_model(rng, 1e-150, 0.5)
    assert kernels.rescale_period(emission, transmat) == 1
    args = (rng.randint(4, size=n), rng.randint(4, size=m), dx, dy, emission, start,
            transmat, end)
    ref = pair_reference(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), ref["loglik"], rtol=1e-12)
    _assert_every_block_matches(args, ref)


@pytest.mark.parametrize("gap_open, extend, n, m", [
    (1e-200, 0.5, 120, 100), (1e-200, 0.5, 40, 10), (1e-300, 0.5, 120, 100),
    (1e-300, 0.5, 40, 10), (0.02, 1e-300, 120, 100)])
def test_steep_models_equal_log_space_on_longer_pairs(gap_open, extend, n, m):
    """Gaps of 1e-200 or 1e-300 (40 x 10 needs 30 gap steps): forward and posteriors of
    every block layout against log space, counts against one block's (the enumeration
    test checks counts against the truth). Before diagonals were divided in place these
    lost up to 17 nats or gave NaN. (Not 40 x 10 with extensions of 1e-300: cells of
    one diagonal then lie further apart than doubles reach.)"""
    rng = np.random.RandomState(7)
    args = (rng.randint(4, size=n), rng.randint(4, size=m), *_steep_model(rng, gap_open,
                                                                         extend))
    loglik, posterior = pair_posterior_log(*args)
    np.testing.assert_allclose(kernels.forward_score(*args), loglik, rtol=1e-12)
    one_block = _posterior_pass(args, n + m + 1, moves=False)
    for block in (0, 16, n + m + 1):
        found = one_block if block == n + m + 1 else _posterior_pass(
            args, block, counts=block > 0, moves=False)
        np.testing.assert_allclose(found["loglik"], loglik, rtol=1e-12)
        np.testing.assert_allclose(found["match_posterior"], posterior, atol=1e-9)
        if block:
            for key in ("transitions", "starts", "ends", "emissions"):
                np.testing.assert_allclose(found[key], one_block[key], rtol=1e-9,
                                           atol=1e-9, err_msg=key)


@njit
def _gathered(table, base, rows, row_at, columns, column_at, out, at):
    gather_sums(out, np.uint64(at), table, np.uint64(base), rows, np.uint64(row_at), columns,
                np.uint64(column_at))


def test_the_vector_gather_stores_what_the_scalar_loop_does():
    """Offsets that are not multiples of the width, a 2-D index array read flat, and
    nothing written outside the eight items."""
    rng = np.random.RandomState(3)
    table = rng.rand(3 * 22 * 22)
    rows = (rng.randint(22, size=(2, 30)) * 22).astype(np.int64)
    columns = rng.randint(22, size=40).astype(np.int64)
    out = np.full(20, np.nan)
    _gathered(table, 484, rows, 30 + 5, columns, 11, out, 3)
    expected = table[484 + rows[1, 5:5 + GATHER_WIDTH] + columns[11:11 + GATHER_WIDTH]]
    np.testing.assert_array_equal(out[3:3 + GATHER_WIDTH], expected)
    assert np.isnan(out[:3]).all() and np.isnan(out[3 + GATHER_WIDTH:]).all()
