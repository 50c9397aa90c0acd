"""The general HMM and the inference API: scoring, decoding, sampling, bad input."""

import numpy as np
import pytest
from hmmlearn import hmm as hmmlearn_hmm

import tiedhmm as th


def _word_models():
    """Two left-to-right word models sharing one silence group and one loop group."""
    rng = np.random.RandomState(0)
    silence = th.GaussianEmission([0.0, 0.0], [0.5, 0.5], name="sil")
    loop = th.TransitionGroup(["stay", "next"], [0.7, 0.3], name="loop")
    models = []
    for offset in (3.0, -3.0):
        body = th.GaussianEmission([offset, offset], [1.0, 1.0])
        models.append(th.HMM([silence, body, silence], {0: 1.0},
                             {(0, 0): (loop, "stay"), (0, 1): (loop, "next"),
                              (1, 1): (loop, "stay"), (1, 2): (loop, "next"), (2, 2): 1.0},
                             n_iter=5))
    return models, silence, loop, rng


def test_models_sharing_a_group_see_each_others_fits():
    (first, second), silence, loop, rng = _word_models()
    X = np.concatenate([rng.normal(0, 0.5, (20, 2)), rng.normal(3, 1, (30, 2)),
                        rng.normal(0, 0.5, (20, 2))])
    before = second.score(X)
    first.fit(X)
    assert first.topology.emission_groups[0] is second.topology.emission_groups[0] is silence
    assert not np.allclose(silence.mean, [0.0, 0.0]) or not np.allclose(silence.covar, 0.5)
    assert second.score(X) != before  # the shared groups changed under the second model
    np.testing.assert_allclose(second.topology.start_and_transmat()[1][0, :2], loop.probs)


def test_sample_then_decode_recovers_states():
    rng = np.random.RandomState(1)
    model = th.GaussianHMM(3, init_params="")
    model.startprob_ = np.array([1.0, 0.0, 0.0])
    model.transmat_ = np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]])
    model.means_ = np.array([[-5.0], [0.0], [5.0]])
    model.covars_ = np.array([[0.1], [0.1], [0.1]])
    X, states = model.sample(500, random_state=rng)
    assert X.shape == (500, 1) and states.shape == (500,)
    assert states[0] == 0
    np.testing.assert_array_equal(model.predict(X), states)
    X2, states2 = model.sample(500, random_state=np.random.RandomState(1))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(states, states2)


def test_million_symbol_sequence_scores_finite_and_equals_hmmlearn():
    rng = np.random.RandomState(2)
    model = th.CategoricalHMM(3, n_features=4)
    model.startprob_ = np.array([0.5, 0.3, 0.2])
    model.transmat_ = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    model.emissionprob_ = rng.dirichlet(np.ones(4), size=3)
    X = rng.randint(4, size=(1_000_000, 1))
    score = model.score(X)
    assert np.isfinite(score) and score < -1e6
    reference = hmmlearn_hmm.CategoricalHMM(3, n_features=4)
    reference.startprob_, reference.transmat_ = model.startprob_, model.transmat_
    reference.emissionprob_ = model.emissionprob_
    np.testing.assert_allclose(score, reference.score(X), rtol=1e-10)


def test_impossible_sequences():
    model = th.CategoricalHMM(2, n_features=3)
    model.startprob_ = np.array([1.0, 0.0])
    model.transmat_ = np.array([[1.0, 0.0], [0.0, 1.0]])
    model.emissionprob_ = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    X = np.array([[0], [1], [0], [2]])
    assert model.score(X, [2, 2]) == -np.inf
    assert np.isfinite(model.score(X[:2]))
    with pytest.raises(ValueError, match="sequence 1 has probability 0"):
        model.predict_proba(X, [2, 2])
    with pytest.raises(ValueError, match="sequence 1 has probability 0"):
        model.decode(X, [2, 2])
    model.init_params = ""
    with pytest.raises(ValueError, match=r"sequence 1 has probability 0.*EM cannot fit"):
        model.fit(X, [2, 2])


@pytest.mark.parametrize("X, lengths, message", [
    ([[0], [5]], None, r"symbol 5 at position 1 is outside 0..3 \(n_features=4; -1 marks"),
    ([[0], [-2]], None, "symbol -2 at position 1 is outside"),
    ([[0.5], [1]], None, "must be integers; position 0 holds 0.5"),
    ([[0], [1], [2]], [2, 2], "lengths sum to 4 but X has 3 samples"),
    ([[0], [1]], [2, 0], "sequence 1 has length 0"),
    ([[0, 1], [1, 2]], None, r"shape \(n_samples, 1\)"),
])
def test_bad_categorical_input(X, lengths, message):
    model = th.CategoricalHMM(2, n_features=4, random_state=0)
    with pytest.raises(ValueError, match=message):
        model.fit(np.array(X), lengths)


@pytest.mark.parametrize("X, message", [
    ([[0.0, 1.0], [np.inf, 0.0]], "observation 1 holds inf"),  # NaN is a missing value
    ([[0.0, 1.0, 2.0]], r"shape \(n_samples, 2\)"),
])
def test_bad_gaussian_input(X, message):
    model = th.GaussianHMM(1, init_params="")
    model.startprob_, model.transmat_ = np.array([1.0]), np.array([[1.0]])
    model.means_, model.covars_ = np.zeros((1, 2)), np.ones((1, 2))
    with pytest.raises(ValueError, match=message):
        model.score(np.array(X))


@pytest.mark.parametrize("kwargs, message", [
    (dict(emission_groups=[0, 1]), r"one label per state \(3\)"),
    (dict(emission_groups=[0, 2, 2]), r"no gaps; missing \[1\]"),
    (dict(emission_groups=[0, -1, 1]), "non-negative integer labels"),
    (dict(transition_groups="zigzag"), "'left-right'"),
    (dict(tie_strength=-1.0), "tie_strength must be >= 0"),
])
def test_bad_tying_arguments(kwargs, message):
    model = th.CategoricalHMM(3, n_features=2, random_state=0, **kwargs)
    with pytest.raises(ValueError, match=message):
        model.fit(np.array([[0], [1], [1]]))


def test_attributes_that_break_the_ties_are_named():
    model = th.CategoricalHMM(2, n_features=2, emission_groups=[0, 0], init_params="st")
    model.emissionprob_ = np.array([[0.5, 0.5], [0.4, 0.6]])
    with pytest.raises(ValueError, match=r"emissionprob_\[1, 0\] = 0.4 breaks the tying"):
        model.fit(np.array([[0], [1]]))


def test_init_params_and_params_follow_hmmlearn():
    rng = np.random.RandomState(3)
    X = rng.randint(3, size=(300, 1))
    model = th.CategoricalHMM(2, n_features=3, init_params="se", params="se", random_state=0)
    transmat = np.array([[0.9, 0.1], [0.2, 0.8]])
    model.transmat_ = transmat.copy()
    model.fit(X)
    np.testing.assert_array_equal(model.transmat_, transmat)  # kept and not trained
    assert not np.allclose(model.startprob_, 0.5)
    again = th.CategoricalHMM(2, n_features=3, random_state=0).fit(X)
    same = th.CategoricalHMM(2, n_features=3, random_state=0).fit(X)
    np.testing.assert_array_equal(again.emissionprob_, same.emissionprob_)


def test_left_right_helper_shares_stay_and_next():
    rng = np.random.RandomState(4)
    X = np.concatenate([rng.normal(m, 0.3, (40, 1)) for m in (-2.0, 0.0, 2.0)])
    model = th.GaussianHMM(3, transition_groups="left-right", init_params="c",
                           random_state=0, n_iter=20)
    model.startprob_ = np.array([1.0, 0.0, 0.0])
    model.means_ = np.array([[-1.0], [0.5], [1.0]])
    model.fit(X, [60, 60])
    stay, advance = model.transmat_[0, 0], model.transmat_[0, 1]
    np.testing.assert_allclose(model.transmat_, [[stay, advance, 0], [0, stay, advance],
                                                 [0, 0, 1]])
    np.testing.assert_allclose(model.means_[:, 0], [-2.0, 0.0, 2.0], atol=0.2)


def test_verbose_reports_each_iteration(capsys):
    X = np.random.RandomState(0).randint(2, size=(50, 1))
    th.CategoricalHMM(2, n_iter=3, tol=-np.inf, verbose=True, random_state=0).fit(X)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and lines[0].split()[0] == "1"


def test_mixed_observation_kinds_are_rejected():
    model = th.HMM([th.CategoricalEmission([1.0]), th.GaussianEmission([0.0], [1.0])],
                   {0: 1.0}, {(0, 0): 1.0, (1, 1): 1.0})
    with pytest.raises(ValueError, match="same observations"):
        model.score(np.zeros((3, 1)))
