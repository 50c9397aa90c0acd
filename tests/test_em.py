"""Pooled tied EM: closed forms, frozen groups, soft tying, monotonicity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tiedhmm as th
from tests.naive import random_hmm


def _one_hot(symbol, n_symbols=3, trainable=True):
    probs = np.zeros(n_symbols)
    probs[symbol] = 1.0
    return th.CategoricalEmission(probs, trainable=trainable)


def test_tied_transition_update_matches_closed_form_with_multiplicity_two():
    """State 0 stays or opens to 1 or 2 (both 'open'); each state emits its own symbol.

    The path is visible in the data: from state 0 it stays 4 times and opens 3 times,
    so theta_stay = 4 / 7 and theta_open = 3 / (2 * 7).
    """
    gap = th.TransitionGroup(["stay", "open"], [0.2, 0.4])
    model = th.HMM([_one_hot(0), _one_hot(1), _one_hot(2)], {0: 1.0},
                   {(0, 0): (gap, "stay"), (0, 1): (gap, "open"), (0, 2): (gap, "open"),
                    (1, 0): 1.0, (2, 0): 1.0}, n_iter=1)
    X = np.array([0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0])[:, None]
    model.fit(X)
    np.testing.assert_allclose(gap.probs, [4 / 7, 3 / 14], rtol=1e-12)
    np.testing.assert_allclose(model.topology.start_and_transmat()[1][0],
                               [4 / 7, 3 / 14, 3 / 14], rtol=1e-12)


def test_frozen_groups_stay_bit_identical():
    rng = np.random.RandomState(0)
    frozen_emission = th.CategoricalEmission(rng.dirichlet(np.ones(3)), trainable=False)
    free_emission = th.CategoricalEmission(rng.dirichlet(np.ones(3)))
    frozen_row = th.TransitionGroup(["0", "1"], [0.3, 0.7], trainable=False)
    free_row = th.TransitionGroup(["0", "1"], [0.6, 0.4])
    before = (frozen_emission.probs.copy(), frozen_row.probs.copy(),
              free_emission.probs.copy(), free_row.probs.copy())
    model = th.HMM([frozen_emission, free_emission], {0: 0.5, 1: 0.5},
                   {(0, 0): (frozen_row, "0"), (0, 1): (frozen_row, "1"),
                    (1, 0): (free_row, "0"), (1, 1): (free_row, "1")}, n_iter=5)
    model.fit(rng.randint(3, size=(200, 1)), [100, 100])
    assert frozen_emission.probs.tobytes() == before[0].tobytes()
    assert frozen_row.probs.tobytes() == before[1].tobytes()
    assert not np.allclose(free_emission.probs, before[2])
    assert not np.allclose(free_row.probs, before[3])


def _pulling_data():
    """Data from a model whose states 1 and 2 emit very differently."""
    rng = np.random.RandomState(5)
    truth = th.CategoricalHMM(3, n_features=3)
    truth.startprob_ = np.array([1.0, 0.0, 0.0])
    truth.transmat_ = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.1, 0.6]])
    truth.emissionprob_ = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    X, _ = truth.sample(3000, random_state=rng)
    return X, [1000, 1000, 1000]


def _start(model):
    """Equal emission rows for states 1 and 2, but different transition rows."""
    model.startprob_ = np.array([0.5, 0.3, 0.2])
    model.transmat_ = np.array([[0.5, 0.3, 0.2], [0.3, 0.5, 0.2], [0.25, 0.25, 0.5]])
    model.emissionprob_ = np.array([[0.5, 0.25, 0.25], [0.3, 0.35, 0.35], [0.3, 0.35, 0.35]])
    return model


def test_tied_states_stay_identical_and_equal_untied_states_diverge():
    X, lengths = _pulling_data()
    untied = _start(th.CategoricalHMM(3, n_features=3, init_params="", n_iter=20)).fit(X, lengths)
    tied = _start(th.CategoricalHMM(3, n_features=3, emission_groups=[0, 1, 1],
                                    init_params="", n_iter=20)).fit(X, lengths)
    assert np.abs(untied.emissionprob_[1] - untied.emissionprob_[2]).max() > 0.2
    np.testing.assert_array_equal(tied.emissionprob_[1], tied.emissionprob_[2])
    assert not np.allclose(tied.emissionprob_[1], [0.3, 0.35, 0.35])


def test_shared_rows_stay_identical():
    X, lengths = _pulling_data()
    model = th.CategoricalHMM(3, n_features=3, transition_groups=[0, 1, 1], random_state=0,
                              n_iter=10).fit(X, lengths)
    np.testing.assert_array_equal(model.transmat_[1], model.transmat_[2])
    assert model.monitor_.iter >= 2


@pytest.mark.parametrize("groups", [dict(emission_groups=[0, 1, 1]),
                                    dict(transition_groups=[0, 1, 1]),
                                    dict(emission_groups=[0, 1, 1], transition_groups=[0, 1, 1])])
def test_soft_tying_limits_are_untied_and_hard(groups):
    X, lengths = _pulling_data()

    def fitted(**kwargs):
        model = th.CategoricalHMM(3, n_features=3, init_params="", n_iter=8, tol=-np.inf,
                                  **kwargs)
        model = _start(model)
        model.transmat_ = np.array([[0.5, 0.3, 0.2], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2]])
        return model.fit(X, lengths)

    untied, hard = fitted(), fitted(**groups)
    zero, huge = fitted(tie_strength=0.0, **groups), fitted(tie_strength=1e12, **groups)
    for name in ("startprob_", "transmat_", "emissionprob_"):
        np.testing.assert_allclose(getattr(zero, name), getattr(untied, name), atol=1e-12)
        np.testing.assert_allclose(getattr(huge, name), getattr(hard, name), atol=1e-6)
    middle = fitted(tie_strength=50.0, **groups)
    assert not np.allclose(middle.emissionprob_, hard.emissionprob_, atol=1e-4) or \
        not np.allclose(middle.transmat_, hard.transmat_, atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_states=st.integers(1, 4), n_symbols=st.integers(2, 5),
       tie_emissions=st.booleans(), tie_rows=st.booleans())
def test_em_log_likelihood_never_decreases(seed, n_states, n_symbols, tie_emissions, tie_rows):
    rng = np.random.RandomState(seed)
    startprob, transmat, emissionprob = random_hmm(rng, n_states, n_symbols, 0.3)
    truth = th.CategoricalHMM(n_states, n_features=n_symbols)
    truth.startprob_, truth.transmat_, truth.emissionprob_ = startprob, transmat, emissionprob
    X = truth.sample(120, random_state=rng)[0]
    labels = np.minimum(np.arange(n_states), max(n_states - 2, 0))
    model = th.CategoricalHMM(n_states, n_features=n_symbols, random_state=seed, n_iter=8,
                              tol=-np.inf,
                              emission_groups=labels if tie_emissions else None,
                              transition_groups=labels if tie_rows else None)
    model.fit(X, [40, 80])  # EMDecreaseError would fail the test on any fall
    history = np.array(model.monitor_.history)
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
    assert len(history) == 8
