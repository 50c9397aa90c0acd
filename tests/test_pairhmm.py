"""Pair HMM models: presets against enumeration, symmetry, numerics, EM, decoding, input."""


import numpy as np
import pytest
from Bio import Align
from Bio.Seq import Seq
from Bio.SeqRecord import SeqRecord
from hypothesis import given, settings
from hypothesis import strategies as st

import tiedhmm as th
from tests.naive import pair_forward_log, pair_paths, pair_reference
from tests.shared_data import shared_folder
from tiedhmm.pair.inference import compile_pair

PRESETS = {"durbin": th.PairHMM.durbin, "probcons": th.PairHMM.probcons}


def _arrays(model):
    compiled = model.compiled()
    return (compiled.dx, compiled.dy, compiled.emission, compiled.start, compiled.transmat,
            compiled.end)


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("x, y", [("ACG", "AG"), ("T", "GCA"), ("ACNT", "AR"), ("GG", "")])
def test_presets_match_enumeration(preset, symmetric, x, y):
    model = PRESETS[preset]("dna", symmetric=symmetric)
    codes = [model.alphabet.encode(s) for s in (x, y)]
    ref = pair_reference(*codes, *_arrays(model))
    np.testing.assert_allclose(model.loglik(x, y), ref["loglik"], rtol=1e-12)
    np.testing.assert_allclose(model.posterior(x, y), ref["match_posterior"], atol=1e-12)
    alignment = model.align(x, y)
    np.testing.assert_allclose(alignment.score, ref["viterbi_logprob"], rtol=1e-12)


def test_ambiguity_letters_marginalise_over_their_letters():
    model = th.PairHMM.load("dna")
    expected = np.logaddexp.reduce([model.loglik(f"AC{b}T", "ACGT") for b in "ACGT"])
    np.testing.assert_allclose(model.loglik("ACNT", "ACGT"), expected, rtol=1e-12)
    np.testing.assert_allclose(model.loglik("acnt", "acgt"), expected, rtol=1e-12)
    protein = th.PairHMM.load("protein")
    expected = np.logaddexp(protein.loglik("MKN", "MKV"), protein.loglik("MKD", "MKV"))
    np.testing.assert_allclose(protein.loglik("MKB", "MKV"), expected, rtol=1e-12)


letters = st.text(alphabet="ACGT", min_size=1, max_size=4)  # paths are enumerated below


@settings(max_examples=30, deadline=None)
@given(x=letters, y=letters, preset=st.sampled_from(sorted(PRESETS)))
def test_symmetric_models_are_symmetric(x, y, preset):
    model = PRESETS[preset]("dna", symmetric=True)
    np.testing.assert_allclose(model.loglik(x, y), model.loglik(y, x), rtol=1e-12)
    np.testing.assert_allclose(model.posterior(x, y), model.posterior(y, x).T, atol=1e-12)
    forward, backward = model.align(x, y), model.align(y, x)
    np.testing.assert_allclose(forward.score, backward.score, rtol=1e-12)
    mirrored = th.alignment.to_alignment(y, x, _mirror_steps(forward), (0, 0), 0.0)
    np.testing.assert_allclose(_path_logprob(model, y, x, mirrored), backward.score, rtol=1e-12)


def _mirror_steps(alignment):
    coordinates = alignment.coordinates
    steps = []
    for column in range(1, coordinates.shape[1]):
        di, dj = coordinates[:, column] - coordinates[:, column - 1]
        move = (int(di > 0), int(dj > 0))
        steps += [move[::-1]] * max(di, dj)
    return np.array(steps)


def _path_logprob(model, x, y, alignment):
    """Best log-probability among state paths with this alignment's columns."""
    codes = [model.alphabet.encode(s) for s in (x, y)]
    target = alignment.coordinates.tolist()
    best = -np.inf
    dx, dy, emission, start, transmat, end = _arrays(model)
    for path in pair_paths(len(x), len(y), dx, dy):
        steps = np.array([(dx[k], dy[k]) for k in path])
        if th.alignment.steps_to_coordinates(steps).tolist() != target:
            continue
        i = j = 0
        logp = 0.0
        for t, k in enumerate(path):
            i, j = i + dx[k], j + dy[k]
            a = codes[0][i - 1] if dx[k] else emission.shape[1] - 1
            b = codes[1][j - 1] if dy[k] else emission.shape[1] - 1
            with np.errstate(divide="ignore"):
                logp += np.log(start[k] if t == 0 else transmat[path[t - 1], k])
                logp += np.log(emission[k, a, b])
        best = max(best, logp + np.log(end[path[-1]]))
    return best


def test_durbin_viterbi_equals_affine_gap_alignment():
    """Durbin et al. §4.1: Viterbi is a global affine alignment under log-odds scores."""
    delta, epsilon, tau = 0.02, 0.6, 0.01
    model = th.PairHMM.durbin("protein", delta=delta, epsilon=epsilon, tau=tau)
    match = model.states[0].emission.table
    q = model.states[1].emission.probs
    scores = np.log(match / np.outer(q, q)) + np.log(1 - 2 * delta - tau)
    letters = model.alphabet.letters
    aligner = Align.PairwiseAligner(mode="global")
    aligner.substitution_matrix = Align.substitution_matrices.Array(letters, 2, scores)
    aligner.open_gap_score = np.log(delta * (1 - epsilon - tau) / (1 - 2 * delta - tau))
    aligner.extend_gap_score = np.log(epsilon)
    aligner.open_right_insertion_score = aligner.open_right_deletion_score = np.log(delta)
    rng = np.random.RandomState(0)
    for _ in range(5):
        x = "".join(rng.choice(list(letters), rng.randint(20, 60)))
        y = "".join(rng.choice(list(letters), rng.randint(20, 60)))
        constant = np.log(q)[[letters.index(a) for a in x + y]].sum() + np.log(tau)
        np.testing.assert_allclose(model.align(x, y).score, aligner.score(x, y) + constant,
                                   rtol=1e-10)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_long_pairs_match_log_space_forward(preset):
    model = PRESETS[preset]("protein")
    rng = np.random.RandomState(1)
    letters = list(model.alphabet.letters)
    x = "".join(rng.choice(letters, 3000))
    unrelated = "".join(rng.choice(letters, 3000))
    for y in (unrelated, x):
        codes = [model.alphabet.encode(s) for s in (x, y)]
        expected = pair_forward_log(*codes, *_arrays(model))
        assert np.isfinite(expected)
        np.testing.assert_allclose(model.loglik(x, y), expected, rtol=1e-9)
        np.testing.assert_allclose(model.loglik_many([(x, y)])[0], expected, rtol=1e-9)


def test_ten_thousand_square_pair_scores_finite():
    model = th.PairHMM.load("protein")
    rng = np.random.RandomState(2)
    x, y = ("".join(rng.choice(list(model.alphabet.letters), 10_000)) for _ in range(2))
    assert np.isfinite(model.loglik(x, y))


def test_em_recovers_gap_and_match_parameters():
    """2,000 sampled pairs (~44 letters each): about 4,000 gap opens, so δ has a
    standard error near 0.05 * sqrt(1 / 4000) ≈ 8e-4; 5 % relative tolerances are
    several standard errors wide for δ, ε, τ, and 10 % for each match-table cell."""
    truth = th.PairHMM.durbin("dna", delta=0.05, epsilon=0.5, tau=0.02)
    pairs = truth.sample(2000, random_state=0)
    model = th.PairHMM.durbin("dna", delta=0.02, epsilon=0.3, tau=0.02, n_iter=40, tol=1e-3,
                              match=np.full((4, 4), 1 / 16))
    model.fit(pairs)
    history = np.array(model.monitor_.history)
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
    match_row, gap_row = model.topology.transition_groups
    np.testing.assert_allclose(match_row.probs, truth.topology.transition_groups[0].probs,
                               rtol=0.05)
    np.testing.assert_allclose(gap_row.probs, truth.topology.transition_groups[1].probs,
                               rtol=0.05)
    np.testing.assert_allclose(model.states[0].emission.table,
                               truth.states[0].emission.table, rtol=0.1)


def test_em_on_swapped_pairs_gives_the_same_parameters():
    truth = th.PairHMM.durbin("dna", delta=0.05, epsilon=0.5, tau=0.05)
    pairs = truth.sample(200, random_state=3)

    def fitted(data):
        return th.PairHMM.durbin("dna", delta=0.03, epsilon=0.4, tau=0.05, n_iter=5,
                                 tol=-np.inf).fit(data)

    forward, backward = fitted(pairs), fitted([(y, x) for x, y in pairs])
    for a, b in zip(forward.topology.transition_groups, backward.topology.transition_groups):
        np.testing.assert_allclose(a.probs, b.probs, rtol=1e-10)
    np.testing.assert_allclose(forward.states[0].emission.table,
                               backward.states[0].emission.table, rtol=1e-10)
    np.testing.assert_allclose(forward.states[1].emission.probs,
                               backward.states[1].emission.probs, rtol=1e-10)


def test_frozen_match_table_stays_and_gaps_learn():
    truth = th.PairHMM.durbin("dna", delta=0.05, epsilon=0.5, tau=0.05)
    pairs = truth.sample(200, random_state=4)
    model = th.PairHMM.durbin("dna", delta=0.02, epsilon=0.3, tau=0.05, n_iter=3)
    model.states[0].emission.trainable = False
    before = model.states[0].emission.table.copy()
    model.fit(pairs)
    assert model.states[0].emission.table.tobytes() == before.tobytes()
    assert model.topology.transition_groups[1].probs[0] > 0.35


def test_protein_default_holds_probcons_published_tables():
    """The bundled protein model is ProbCons' own (``probcons/Defaults.h``): its match
    table keeps the published entries' ratios, symmetric, summing to 1."""
    model = th.PairHMM.load("protein")
    table = model.states[0].emission.table
    index = th.PROTEIN.letters.index
    assert table[index("A"), index("A")] / table[index("W"), index("W")] == pytest.approx(
        0.02373072 / 0.00563625, rel=1e-6)
    assert table[index("R"), index("A")] / table[index("A"), index("A")] == pytest.approx(
        0.00244502 / 0.02373072, rel=1e-6)
    np.testing.assert_allclose(table, table.T)
    assert table.sum() == pytest.approx(1.0)


def test_protein_default_is_close_to_blosum62_target_frequencies():
    """ProbCons' table is within 0.05 nats (KL) of BLOSUM62's q_ij."""
    table = th.PairHMM.load("protein").states[0].emission.table
    path = shared_folder("blosum62") / "blosum62.qij"
    rows = [line.split() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    values = [list(map(float, row)) for row in rows if _is_number(row[0])]
    size = len(values)
    qij = np.zeros((size, size))
    for i, row in enumerate(values):
        qij[i, :len(row)] = row
        qij[:len(row), i] = row
    qij /= qij.sum()
    kl = float(np.sum(qij * np.log(qij / table)))
    assert 0 < kl < 0.05


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_alignments_are_biopython_objects():
    model = th.PairHMM.load("protein")
    record = SeqRecord(Seq("MKTAYIAKQRQISFVKSHFSRQ"), id="query")
    alignment = model.align(record, Seq("MKTAYIAKQISFVKSHF"))
    assert isinstance(alignment, Align.Alignment)
    assert alignment.sequences[0].id == "query" and alignment.sequences[1].id == "y"
    assert alignment.coordinates[:, -1].tolist() == [22, 17]
    parsed = Align.read(__import__("io").StringIO(format(alignment, "fasta")), "fasta")
    assert [str(s.seq).replace("-", "") for s in parsed.sequences] == [
        "MKTAYIAKQRQISFVKSHFSRQ", "MKTAYIAKQISFVKSHF"]
    assert [line for line in format(alignment, "fasta").splitlines()
            if line.startswith(">")][1] == ">y"
    mea = model.align("MKTAYIAKQRQ", "MKTAYIKQRQ", method="mea")
    assert 0 < mea.score <= 10
    assert 0 < model.expected_accuracy("MKTAYIAKQRQ", "MKTAYIKQRQ") <= 1


def test_batch_apis_equal_single_calls():
    model = th.PairHMM.load("protein")
    pairs = [("MKTAYIAKQR", "MKTAYAKQR"), ("WWW", "W"), ("ACDEFGH", "ACDFGHI")]
    np.testing.assert_allclose(model.loglik_many(pairs),
                               [model.loglik(x, y) for x, y in pairs], rtol=1e-12)
    for batch, (x, y) in zip(model.align_many(pairs), pairs):
        single = model.align(x, y)
        assert batch.coordinates.tolist() == single.coordinates.tolist()
        assert batch.score == pytest.approx(single.score, rel=1e-12)
    np.testing.assert_allclose(model.expected_accuracy_many(pairs),
                               [model.expected_accuracy(x, y) for x, y in pairs], rtol=1e-12)
    only_a = th.PairHMM.durbin("dna", insert=np.array([1.0, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="pair 1 has probability 0"):
        only_a.expected_accuracy_many([("AC", "AC"), ("C", "")])  # C cannot be inserted


def test_save_and_load_keep_ties_and_numbers(tmp_path):
    model = th.PairHMM.probcons("dna", symmetric=True)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = th.PairHMM.load(path)
    assert loaded.states[1].emission is loaded.states[2].emission  # X1 and Y1 stay tied
    assert loaded.loglik("ACGTTA", "ACTTA") == model.loglik("ACGTTA", "ACTTA")
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


@pytest.mark.parametrize("text, message", [
    ('{"format": "tiedhmm.PairHMM", "version": 1, "groups": [', "not valid JSON"),
    ('{"format": "something else"}', "not a tiedhmm.PairHMM file"),
    ('{"format": "tiedhmm.PairHMM", "version": 99}', "version 99 is not supported"),
    ('{"format": "tiedhmm.PairHMM", "version": 1, "groups": []}', "malformed model file"),
])
def test_bad_model_files(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        th.PairHMM.load(path)


def test_bad_sequences_and_parameters():
    model = th.PairHMM.load("dna")
    with pytest.raises(ValueError, match=r"x: letter 'E' at position 3 is not in the dna"):
        model.loglik("ACEG", "ACG")
    with pytest.raises(ValueError, match=r"y: letter 'É' at position 2 is not in the dna"):
        model.loglik("ACG", "aéc")  # (not ASCII: each letter still one position)
    assert model.loglik("acgt", "ACGT") == model.loglik("ACGT", "acgt")
    with pytest.raises(ValueError, match="both sequences are empty"):
        model.loglik("", "")
    with pytest.raises(ValueError, match=r"pair 1: y: letter 'Q'"):
        model.loglik_many([("AC", "AC"), ("AC", "QQ")])
    alignment = model.align("", "ACG")
    assert alignment.coordinates.tolist() == [[0, 0], [0, 3]]
    with pytest.raises(ValueError, match="must sum to 1"):
        th.MatchEmission(np.full((4, 4), 0.1))
    with pytest.raises(ValueError, match="symmetric=True needs"):
        th.MatchEmission(np.array([[0.5, 0.3], [0.1, 0.1]]), symmetric=True)
    with pytest.raises(ValueError, match="match state needs a 4 x 4 MatchEmission"):
        th.PairHMM.durbin("dna", match=np.full((20, 20), 1 / 400))
    with pytest.raises(ValueError, match=r"epsilon \+ tau <= 1; got delta=0.02, epsilon=0.99"):
        th.PairHMM.durbin("dna", delta=0.02, epsilon=0.99, tau=0.05)
    with pytest.raises(ValueError, match="unknown alphabet 'rna'"):
        th.PairHMM.durbin("rna")
    with pytest.raises(ValueError, match="method must be one of"):
        model.align("A", "A", method="best")


def test_compiled_arrays_follow_in_place_parameter_changes():
    model = th.PairHMM.durbin("dna")
    before = model.loglik("ACGT", "ACGT")
    table = model.states[0].emission.table
    table[:] = np.full((4, 4), 1 / 16)  # in place: the cached kernel arrays must notice
    assert model.loglik("ACGT", "ACGT") != before
    np.testing.assert_allclose(model.loglik("ACGT", "ACGT"),
                               th.PairHMM.durbin("dna", match=np.full((4, 4), 1 / 16))
                               .loglik("ACGT", "ACGT"), rtol=1e-12)
    transitions = model.topology.transition_groups[0]  # and a transition group's
    uniform = model.loglik("ACGT", "ACGT")
    transitions.probs[:] = transitions.probs[::-1].copy()
    assert model.loglik("ACGT", "ACGT") != uniform
    codes = [model.alphabet.encode("ACGT")] * 2
    rebuilt = compile_pair(model.states, model.topology, model.alphabet)  # not the cache
    np.testing.assert_allclose(model.loglik("ACGT", "ACGT"),
                               pair_reference(*codes, *rebuilt.probabilities)["loglik"],
                               rtol=1e-12)


def test_fit_reports_every_iteration_to_a_callback():
    pairs = th.PairHMM.durbin("dna", epsilon=0.5, tau=0.05).sample(30, random_state=0)
    seen = []
    model = th.PairHMM.durbin("dna", n_iter=4, tol=-np.inf)
    model.fit(pairs, callback=lambda iteration, loglik: seen.append((iteration, loglik)))
    assert [i for i, _ in seen] == [1, 2, 3, 4]
    assert [loglik for _, loglik in seen] == list(model.monitor_.history)


def test_pair_hmm_parameters_and_clone_keep_the_symmetric_ties():
    from sklearn.base import clone
    model = th.PairHMM.durbin("dna", n_iter=3)
    assert model.get_params()["n_iter"] == 3 and model.get_params()["states"] is model.states
    copy = clone(model)
    assert copy.states[1].emission is copy.states[2].emission
    assert copy.states[1].emission is not model.states[1].emission
    assert copy.loglik("ACGTTA", "ACTTA") == model.loglik("ACGTTA", "ACTTA")
    copy.fit([("ACGTTAC", "ACTTAC"), ("GGCATT", "GGCTT")])
    assert copy.loglik("ACGTTA", "ACTTA") != model.loglik("ACGTTA", "ACTTA")
    assert model.set_params(tol=0.5).tol == 0.5


def _parameters(model):
    """Every group's parameter arrays, in the topology's order."""
    groups = [*model.topology.emission_groups, *model.topology.transition_groups]
    return [array.copy() for group in groups for array in group.parameter_arrays()]


def test_an_anchored_fit_mixes_each_em_step_with_the_start():
    pairs = th.PairHMM.durbin("dna", delta=0.1, epsilon=0.6).sample(40, random_state=1)
    start = _parameters(th.PairHMM.durbin("dna"))
    plain = th.PairHMM.durbin("dna", n_iter=1).fit(pairs)
    anchored = th.PairHMM.durbin("dna", n_iter=1).fit(pairs, anchor=0.3)
    for em_step, begun, mixed in zip(_parameters(plain), start, _parameters(anchored)):
        np.testing.assert_allclose(mixed, 0.7 * em_step + 0.3 * begun, rtol=0, atol=1e-15)
    assert any(not np.allclose(a, b) for a, b in zip(_parameters(plain), start))
    # a symmetric model stays symmetric, its insert states still one group
    match = anchored.states[0].emission.table
    np.testing.assert_array_equal(match, match.T)
    assert anchored.states[1].emission is anchored.states[2].emission


def test_anchor_zero_is_plain_em_and_more_anchor_stays_nearer_the_start():
    pairs = th.PairHMM.durbin("dna", delta=0.1, epsilon=0.6).sample(40, random_state=2)
    start = _parameters(th.PairHMM.durbin("dna"))
    fits = {anchor: _parameters(th.PairHMM.durbin("dna", n_iter=3, tol=-np.inf)
                                .fit(pairs, anchor=anchor)) for anchor in (0.0, 0.5, 0.9)}
    plain = _parameters(th.PairHMM.durbin("dna", n_iter=3, tol=-np.inf).fit(pairs))
    for a, b in zip(fits[0.0], plain):
        np.testing.assert_array_equal(a, b)
    distance = {anchor: sum(np.abs(a - b).sum() for a, b in zip(fitted, start))
                for anchor, fitted in fits.items()}
    assert distance[0.0] > distance[0.5] > distance[0.9] > 0


@pytest.mark.parametrize("anchor", [-0.1, 1.0, float("nan"), "0.5", True])
def test_an_anchor_outside_zero_to_one_is_refused(anchor):
    model = th.PairHMM.durbin("dna", n_iter=1)
    before = _parameters(model)
    with pytest.raises(th.InvalidDataError, match=r"anchor must be a number in \[0, 1\)"):
        model.fit([("ACGT", "ACT")], anchor=anchor)
    for a, b in zip(before, _parameters(model)):
        np.testing.assert_array_equal(a, b)


def test_a_group_that_cannot_be_pulled_back_is_named_before_anything_is_fitted():
    from tiedhmm import em
    rates = th.PoissonEmission(np.array([2.0, 3.0]))
    loop = th.CategoricalEmission([0.5, 0.5])

    def source():
        rate_stats = {"weight": np.array(2.0), "sum": np.array([8.0, 2.0])}
        loop_stats = {"weight": np.array(2.0), "counts": np.array([1.0, 1.0])}
        return np.array([-1.0]), [(rates, rate_stats), (loop, loop_stats)], "sequence"

    with pytest.raises(th.InvalidDataError, match=r"PoissonEmission.*cannot be anchored"):
        em.fit([source], em.ConvergenceMonitor(0.0, 2, False), anchor=0.5)
    np.testing.assert_array_equal(rates.lambdas, [2.0, 3.0])
    np.testing.assert_array_equal(loop.probs, [0.5, 0.5])
