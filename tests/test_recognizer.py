"""Connected speech: network kernels against path enumeration, embedded training against
EM of the explicit composite HMMs, decoding against brute force over word sequences,
forced alignment on synthetic data, mixture splitting, files and errors."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

import tiedhmm as th
from tests.naive import hmm_reference
from tiedhmm import em
from tiedhmm._kernels import network as kernels
from tiedhmm.speech import Grammar, Recognizer, split_mixtures, tie_states
from tiedhmm.speech.clustering import cluster_groups
from tiedhmm.speech.network import NetworkBatch

MEANS = {"a": [0.0, 3.0], "b": [-3.0, 6.0], "sil": [10.0]}


def _units(skip_pause=True, spread=1.0):
    """Units a and b (two states), one-state silence and a tee pause sharing its group."""
    units = {}
    for name, means in MEANS.items():
        groups = [th.GaussianEmission([m], [spread]) for m in means]
        units[name] = th.left_right(groups, transitions="untied", name=name)
    silence_group = units["sil"].emissions[0]
    if skip_pause:
        units["sp"] = th.left_right([silence_group], skippable=True, name="sp")
    return units


def _utterance(rng, words, frames_per_state=2, noise=0.3, pause=()):
    """Frames of ``sil words sil`` (pauses after the words listed in ``pause``) and the
    first frame of each word."""
    parts, starts, frame = [], [], 0

    def add(mean, n):
        nonlocal frame
        parts.append(mean + noise * rng.randn(n, 1))
        frame += n

    add(MEANS["sil"][0], 2)
    for k, word in enumerate(words):
        starts.append(frame)
        for mean in MEANS[word]:
            add(mean, frames_per_state)
        if k in pause:
            add(MEANS["sil"][0], 2)
    add(MEANS["sil"][0], 2)
    return np.concatenate(parts), starts


def _dense(network, log_parameters):
    """Dense start, transition and end probabilities of a network (parallel edges summed)."""
    n = network.n_states
    batch = NetworkBatch([network], [0])
    start, end, edge = batch.probabilities(log_parameters)
    transmat = np.zeros((n, n))
    np.add.at(transmat, (network.internal.src, network.internal.dst), edge)
    return start, transmat, end, batch


def test_network_kernels_equal_path_enumeration():
    model = Recognizer(_units(spread=4.0), silence="sil", pause="sp")
    for group in model.inventory.transition_groups:
        group.probs = np.random.RandomState(len(group.outcomes)).dirichlet(
            np.ones(len(group.outcomes))) / group.multiplicity
    network = model.network(Grammar.sequence(["a"]))
    assert network.n_states == 5  # sil, a (2), sp, sil
    log_parameters = model.inventory.log_parameters()
    start, transmat, end, batch = _dense(network, log_parameters)
    X = np.random.RandomState(1).normal(4.0, 3.0, size=(6, 1))
    table = th.emissions.log_likelihood_table(model.inventory.emission_groups, X)
    emission = np.exp(table[:, network.state_group])
    expected = hmm_reference(start, transmat, emission, end)
    offsets, one = np.array([0, 6]), np.zeros(1, dtype=np.int64)
    loglik, occupancy, edge_counts, start_counts, end_counts = kernels.expected_counts(
        table, offsets, one, batch.state_ptr, batch.state_group, start, end, batch.edge_ptr,
        batch.internal.src, batch.internal.dst, batch.probabilities(log_parameters)[2],
        np.array([0, 1]))
    assert loglik[0] == pytest.approx(expected["loglik"], rel=1e-12)
    groups = np.zeros((6, len(model.inventory.emission_groups)))
    np.add.at(groups, (slice(None), network.state_group), expected["posterior"])
    np.testing.assert_allclose(occupancy, groups, atol=1e-12)
    pair_counts = np.zeros_like(transmat)
    np.add.at(pair_counts, (network.internal.src, network.internal.dst), edge_counts)
    np.testing.assert_allclose(pair_counts, expected["transitions"], atol=1e-12)
    np.testing.assert_allclose(start_counts, expected["starts"], atol=1e-12)
    np.testing.assert_allclose(end_counts, expected["ends"], atol=1e-12)
    (log_start, _), (log_end, _), log_edge = batch.log_weights(log_parameters)
    path, _, score = kernels.viterbi(table, offsets, one, batch.state_ptr, batch.state_group,
                                     log_start, log_end, batch.edge_ptr, batch.internal.src,
                                     batch.internal.dst, log_edge, np.array([0, 1]))
    assert score[0] == pytest.approx(expected["viterbi_logprob"], rel=1e-12)
    np.testing.assert_array_equal(path, expected["viterbi_path"])


def test_forward_survives_a_far_unit():
    """A unit the utterance never visits, with a collapsed variance, must not underflow
    the states the utterance does visit (scaling is over the reachable states)."""
    units = _units()
    units["far"] = th.left_right([th.GaussianEmission([4.0], [1e-6])], name="far")
    model = Recognizer(units, silence="sil", pause="sp")
    X = np.concatenate([np.full((2, 1), 10.0), np.full((4, 1), 4.0), np.full((2, 1), 10.0)])
    assert np.isfinite(model.score(X, [8], [["a"]])[0])


def _explicit_composite(units, words, silence="sil"):
    return th.concatenate([units[silence], *(units[w] for w in words), units[silence]])


def _fitted_groups(units):
    return [(group.mean.copy(), group.covar.copy())
            for group in {id(g): g for u in units.values() for g in u.emissions}.values()]


def test_embedded_training_equals_em_of_the_explicit_composites():
    rng = np.random.RandomState(0)
    transcripts = [["a", "b"], ["b"], ["a", "a", "b"], ["b", "a"]]
    data = [_utterance(rng, words, frames_per_state=3)[0] for words in transcripts]
    X, lengths = np.concatenate(data), [len(x) for x in data]
    embedded_units, explicit_units = _units(skip_pause=False), _units(skip_pause=False)
    embedded = Recognizer(embedded_units, silence="sil", n_iter=4, tol=-np.inf)
    embedded.fit(X, lengths, [" ".join(t) for t in transcripts])
    composites = {f"u{k}": _explicit_composite(explicit_units, words)
                  for k, words in enumerate(transcripts)}
    th.ModelSet(composites, n_iter=4, tol=-np.inf).fit(X, lengths, list(composites))
    for (mean, covar), (mean_ref, covar_ref) in zip(_fitted_groups(embedded_units),
                                                    _fitted_groups(explicit_units)):
        np.testing.assert_allclose(mean, mean_ref, rtol=1e-9)
        np.testing.assert_allclose(covar, covar_ref, rtol=1e-9)
    for name in embedded_units:
        for i, row in enumerate(embedded_units[name].topology.transition_groups):
            np.testing.assert_allclose(
                row.probs, explicit_units[name].topology.transition_groups[i].probs,
                rtol=1e-9)
    scores = embedded.score(X, lengths, transcripts)
    offsets = np.cumsum([0, *lengths])
    for k in range(len(transcripts)):
        assert scores[k] == pytest.approx(
            composites[f"u{k}"].score(X[offsets[k]:offsets[k + 1]]), rel=1e-10)


def test_optional_pause_sums_over_pause_patterns():
    units = _units()
    tee = units["sp"].topology.transition_groups[0]
    tee.probs = np.array([0.3, 0.7])
    plain_pause = th.left_right(units["sp"].emissions,
                                transitions=units["sp"].topology.transition_groups[1])
    model = Recognizer(units, silence="sil", pause="sp")
    rng = np.random.RandomState(2)
    words = ["a", "b"]
    X, _ = _utterance(rng, words, pause=(0,))
    terms = []
    for pattern in itertools.product([False, True], repeat=len(words)):
        chain = [units["sil"]]
        for word, paused in zip(words, pattern):
            chain += [units[word]] + ([plain_pause] if paused else [])
        chain.append(units["sil"])
        log_tee = sum(np.log(0.3 if paused else 0.7) for paused in pattern)
        terms.append(log_tee + th.concatenate(chain).score(X))
    assert model.score(X, [len(X)], [words])[0] == pytest.approx(logsumexp(terms), rel=1e-10)


def _brute_force_decode(units, X, sequences, lm_scale, word_penalty, log_p):
    best = (-np.inf, None)
    for words in sequences:
        try:
            score = _explicit_composite(units, words).decode(X)[0]
        except th.ImpossibleSequenceError:
            continue
        score += len(words) * (lm_scale * log_p + word_penalty)
        best = max(best, (score, list(words)), key=lambda item: item[0])
    return best


@pytest.mark.parametrize("lm_scale, word_penalty", [(1.0, 0.0), (2.0, -1.5), (0.5, 4.0)])
def test_decoding_a_loop_equals_brute_force_over_word_sequences(lm_scale, word_penalty):
    units = _units(skip_pause=False, spread=6.0)
    model = Recognizer(units, silence="sil")
    X = np.random.RandomState(3).normal(3.0, 4.0, size=(9, 1))
    sequences = [words for n in range(1, 4) for words in itertools.product("ab", repeat=n)]
    score, words = _brute_force_decode(units, X, sequences, lm_scale, word_penalty, np.log(0.5))
    found = model.decode(X, [9], lm_scale=lm_scale, word_penalty=word_penalty)[0]
    assert found.score == pytest.approx(score, rel=1e-10)
    assert found.transcript == words
    assert found.words[0].start >= 1 and found.words[-1].end <= 8
    lengths_two = model.decode(X, [9], Grammar.strings(["a", "b"], [2]), lm_scale=lm_scale,
                               word_penalty=word_penalty)[0]
    two = _brute_force_decode(units, X, [w for w in sequences if len(w) == 2], lm_scale,
                              word_penalty, np.log(0.5))
    assert lengths_two.score == pytest.approx(two[0], rel=1e-10)
    assert lengths_two.transcript == two[1]


def test_bigram_grammar_scores_its_arcs():
    units = _units(skip_pause=False, spread=6.0)
    model = Recognizer(units, silence="sil")
    X = np.random.RandomState(4).normal(3.0, 4.0, size=(9, 1))
    bigram = {("<s>", "a"): 0.9, ("<s>", "b"): 0.1, ("a", "b"): 1.0, ("b", "a"): 0.5,
              ("b", "</s>"): 0.5}
    found = model.decode(X, [9], Grammar.bigram(["a", "b"], bigram))[0]
    best = (-np.inf, None)
    for n in range(1, 4):
        for words in itertools.product("ab", repeat=n):
            chain = ["<s>", *words, "</s>"]
            arcs = list(itertools.pairwise(chain))
            if any(arc not in bigram for arc in arcs):
                continue
            try:
                score = _explicit_composite(units, words).decode(X)[0]
            except th.ImpossibleSequenceError:
                continue
            score += sum(np.log(bigram[arc]) for arc in arcs)
            best = max(best, (score, list(words)), key=lambda item: item[0])
    assert found.score == pytest.approx(best[0], rel=1e-10)
    assert found.transcript == best[1]


def test_forced_alignment_recovers_synthetic_boundaries():
    rng = np.random.RandomState(5)
    model = Recognizer(_units(), silence="sil", pause="sp")
    transcripts = [["a", "b", "a"], ["b", "b"], ["a"]]
    pauses = [(0,), (), (0,)]
    data = [_utterance(rng, words, frames_per_state=3, noise=0.05, pause=pause)
            for words, pause in zip(transcripts, pauses)]
    X = np.concatenate([x for x, _ in data])
    found = model.align(X, [len(x) for x, _ in data], transcripts)
    for result, words, (_, starts) in zip(found, transcripts, data):
        assert result.transcript == words
        assert [w.start for w in result.words] == starts
        assert [w.end for w in result.words] == [s + 6 for s in starts]
        states = [(s.label, s.end - s.start) for s in result.states if s.label[0] in "ab"]
        assert all(length == 3 for _, length in states)
        first = result.states[0]
        assert (first.label, first.start, first.end) == ("sil[0]", 0, 2)
    decoded = model.decode(X, [len(x) for x, _ in data])
    assert [d.transcript for d in decoded] == transcripts


def test_mixture_splitting_never_lowers_the_training_likelihood():
    rng = np.random.RandomState(6)
    units = {name: th.left_right([th.GMMEmission(n_mix=1, n_features=2) for _ in range(2)],
                                 name=name) for name in ("a", "b")}
    units["sil"] = th.left_right([th.GMMEmission(n_mix=1, n_features=2)], name="sil")
    model = Recognizer(units, silence="sil", n_iter=5, tol=-np.inf, random_state=0)
    transcripts, parts = [], []
    centres = {"a": [(-4, 0), (4, 0)], "b": [(0, -4), (0, 4)], "sil": [(8, 8), (-8, 8)]}
    for _ in range(30):
        words = list(rng.choice(["a", "b"], size=rng.randint(1, 4)))
        transcripts.append(words)
        for name in ["sil", *words, "sil"]:
            for _ in range(2 if name != "sil" else 1):
                picks = rng.randint(2, size=6)
                parts.append(np.array(centres[name])[picks] + 0.5 * rng.randn(6, 2))
    X = np.concatenate(parts)
    lengths = [sum(6 * (2 if n != "sil" else 1) for n in ["sil", *w, "sil"])
               for w in transcripts]
    history = []
    for n_mix in (1, 2, 3, 4):
        split_mixtures(model.inventory.emission_groups, n_mix)
        model.fit(X, lengths, transcripts)
        history.append(model.monitor_.history[-1])
    assert all(later >= earlier for earlier, later in itertools.pairwise(history))
    assert history[1] > history[0] + 100  # two centres per state: the split pays
    assert all(group.n_mix == 4 for group in model.inventory.emission_groups)


def test_save_and_load_keep_sharing_and_scores(tmp_path):
    model = Recognizer(_units(), silence="sil", pause="sp")
    X, _ = _utterance(np.random.RandomState(7), ["a", "b"], pause=(0,))
    path = tmp_path / "recognizer.json"
    model.save(path)
    loaded = Recognizer.load(path)
    assert loaded.units["sp"].emissions[0] is loaded.units["sil"].emissions[0]
    assert loaded.score(X, [len(X)], ["a b"])[0] == pytest.approx(
        model.score(X, [len(X)], ["a b"])[0], rel=1e-12)
    assert loaded.decode(X, [len(X)])[0].transcript == ["a", "b"]


def test_lexicon_spells_words_with_shared_units():
    units = _units()
    model = Recognizer(units, {"ab": ["a", "b"], "ba": ["b", "a"]}, silence="sil",
                       pause="sp")
    X, _ = _utterance(np.random.RandomState(8), ["a", "b", "b", "a"], noise=0.05)
    found = model.decode(X, [len(X)])[0]
    assert found.transcript == ["ab", "ba"]
    assert [w.start for w in found.words] == [2, 10]


def test_bad_input_is_named():
    units = _units()
    with pytest.raises(th.InvalidDataError, match="silence unit 'quiet'"):
        Recognizer(units, silence="quiet")
    with pytest.raises(th.InvalidDataError, match="unknown units"):
        Recognizer(units, {"word": ["a", "c"]})
    model = Recognizer(units, silence="sil", pause="sp")
    X = np.zeros((10, 1))
    with pytest.raises(th.InvalidDataError, match="utterance 0: words \\['c'\\]"):
        model.fit(X, [10], ["a c"])
    with pytest.raises(th.InvalidDataError, match="2 transcripts for 1 utterances"):
        model.align(X, [10], ["a", "b"])
    with pytest.raises(th.InvalidDataError, match="not in the lexicon"):
        model.decode(X, [10], Grammar.loop(["a", "zz"]))
    with pytest.raises(th.TyingError, match="no exit"):
        _ = Recognizer({"a": th.left_right([th.GaussianEmission([0.0], [1.0])],
                                           exit=False)}).inventory
    with pytest.raises(th.ImpossibleSequenceError, match="utterance 0"):
        model.align(X[:3], [3], ["a b"])


def test_clustering_merges_identical_states_and_keeps_distinct_ones_apart(tmp_path):
    rng = np.random.RandomState(9)
    means = {"a": [0.0, 3.0], "b": [3.0, 6.0], "sil": [10.0]}
    units = {name: th.left_right([th.GaussianEmission([m + 0.5], [2.0]) for m in centres],
                                 name=name) for name, centres in means.items()}
    model = Recognizer(units, silence="sil", n_iter=3, tol=-np.inf)
    transcripts, parts = [], []
    for _ in range(40):
        words = list(rng.choice(["a", "b"], size=rng.randint(1, 4)))
        transcripts.append(words)
        for name in ["sil", *words, "sil"]:
            parts += [m + 0.3 * rng.randn(4, 1) for m in means[name]]
    X = np.concatenate(parts)
    lengths = [4 * sum(len(means[n]) for n in ["sil", *w, "sil"]) for w in transcripts]
    model.fit(X, lengths, transcripts)
    created = tie_states(model, X, lengths, transcripts, threshold=50.0)
    assert len(created) == 1
    assert model.units["a"].emissions[1] is model.units["b"].emissions[0] is created[0]
    assert created[0].mean[0] == pytest.approx(3.0, abs=0.05)
    groups = {id(g) for u in model.units.values() for g in u.emissions}
    assert len(groups) == 4
    before = model.score(X, lengths, transcripts).sum()
    model.fit(X, lengths, transcripts)
    assert model.score(X, lengths, transcripts).sum() >= before - 1e-6
    assert model.align(X, lengths, transcripts)[0].transcript == transcripts[0]
    path = tmp_path / "tied.json"
    model.save(path)
    loaded = Recognizer.load(path)
    assert loaded.units["a"].emissions[1] is loaded.units["b"].emissions[0]
    np.testing.assert_allclose(loaded.score(X, lengths, transcripts),
                               model.score(X, lengths, transcripts), rtol=1e-12)
    # Without a threshold, merging goes on down to the target count, cheapest first.
    _, statistics = em.pooled_statistics([loaded.statistics_source(X, lengths, transcripts)])
    gaussians = loaded.inventory.emission_groups
    assert len(cluster_groups(statistics, gaussians, n_groups=2)) == 2
    assert len(cluster_groups(statistics, gaussians, threshold=50.0)) == 4


def test_a_skippable_silence_is_optional():
    units = _units()
    units["sil"] = th.left_right(units["sil"].emissions, skippable=True, name="sil")
    model = Recognizer(units, silence="sil", pause="sp")
    X = np.concatenate([np.full((2, 1), 0.0), np.full((2, 1), 3.0)])
    found = model.align(X, [4], ["a"])[0]
    assert [(w.label, w.start, w.end) for w in found.words] == [("a", 0, 4)]
    assert model.decode(X, [4])[0].transcript == ["a"]


def test_units_must_be_general_hmms():
    with pytest.raises(TypeError, match="unit 'a' must be a tiedhmm HMM"):
        Recognizer({"a": th.GaussianHMM(2)})
