"""Labelled and semi-supervised training: ``fit(X, lengths, state_labels=z)`` clamps
known frames to their state. Checked against EM over every state path that agrees with
the labels, and against counting on fully labelled data."""

from __future__ import annotations

import numpy as np
import pytest

import tiedhmm as th

from .naive import path_probabilities


def _categorical(startprob, transmat, emissionprob):
    model = th.CategoricalHMM(len(startprob), n_iter=1, init_params="", params="ste")
    model.startprob_ = np.array(startprob)
    model.transmat_ = np.array(transmat)
    model.emissionprob_ = np.array(emissionprob)
    return model


def _constrained_em(startprob, transmat, emissionprob, sequences, labels):
    """One EM update by enumerating every path that agrees with the labels."""
    startprob, transmat, emissionprob = map(np.asarray, (startprob, transmat, emissionprob))
    n_states, n_symbols = emissionprob.shape
    starts, moves = np.zeros(n_states), np.zeros((n_states, n_states))
    emits, loglik = np.zeros((n_states, n_symbols)), 0.0
    for x, z in zip(sequences, labels, strict=True):
        table = emissionprob[:, x].T
        paths = [(path, p) for path, p in path_probabilities(startprob, transmat, table)
                 if all(k < 0 or k == s for k, s in zip(z, path, strict=True))]
        total = sum(p for _, p in paths)
        loglik += np.log(total)
        for path, p in paths:
            w = p / total
            starts[path[0]] += w
            for t, s in enumerate(path):
                emits[s, x[t]] += w
                if t:
                    moves[path[t - 1], s] += w
    return (starts / starts.sum(), moves / moves.sum(axis=1, keepdims=True),
            emits / emits.sum(axis=1, keepdims=True), loglik)


def test_partial_labels_equal_em_over_the_paths_that_agree():
    rng = np.random.default_rng(0)
    startprob = rng.dirichlet(np.ones(3))
    transmat = rng.dirichlet(np.ones(3), 3)
    emissionprob = rng.dirichlet(np.ones(4), 3)
    sequences = [rng.integers(0, 4, 5), rng.integers(0, 4, 4)]
    labels = [np.array([-1, 2, -1, -1, 0]), np.array([1, -1, -1, 1])]
    model = _categorical(startprob, transmat, emissionprob)
    model.fit(np.concatenate(sequences)[:, None], [5, 4],
              state_labels=np.concatenate(labels))
    expected = _constrained_em(startprob, transmat, emissionprob, sequences, labels)
    np.testing.assert_allclose(model.startprob_, expected[0], atol=1e-12)
    np.testing.assert_allclose(model.transmat_, expected[1], atol=1e-12)
    np.testing.assert_allclose(model.emissionprob_, expected[2], atol=1e-12)
    assert model.monitor_.history[0] == pytest.approx(expected[3], abs=1e-10)


def test_no_labels_known_is_ordinary_em():
    rng = np.random.default_rng(1)
    args = (rng.dirichlet(np.ones(2)), rng.dirichlet(np.ones(2), 2),
            rng.dirichlet(np.ones(3), 2))
    X = rng.integers(0, 3, (40, 1))
    plain, unlabelled = _categorical(*args), _categorical(*args)
    plain.fit(X)
    unlabelled.fit(X, state_labels=np.full(40, -1))
    np.testing.assert_allclose(unlabelled.transmat_, plain.transmat_, atol=1e-13)
    np.testing.assert_allclose(unlabelled.emissionprob_, plain.emissionprob_, atol=1e-13)


def test_full_labels_give_the_counting_estimates_in_one_iteration():
    truth = _categorical([0.6, 0.3, 0.1], [[0.8, 0.15, 0.05], [0.1, 0.8, 0.1],
                                          [0.2, 0.2, 0.6]],
                         [[0.7, 0.2, 0.1, 0.0], [0.1, 0.6, 0.2, 0.1], [0.0, 0.1, 0.2, 0.7]])
    parts = [truth.sample(n, random_state=k) for k, n in enumerate((60, 45, 80))]
    X = np.concatenate([x for x, _ in parts])
    z = np.concatenate([s for _, s in parts])
    model = _categorical([1 / 3] * 3, np.full((3, 3), 1 / 3), np.full((3, 4), 0.25))
    model.fit(X, [60, 45, 80], state_labels=z)
    firsts = np.bincount([s[0] for _, s in parts], minlength=3)
    moves = np.zeros((3, 3))
    for _, s in parts:
        np.add.at(moves, (s[:-1], s[1:]), 1)
    emits = np.zeros((3, 4))
    np.add.at(emits, (z, X[:, 0]), 1)
    np.testing.assert_allclose(model.startprob_, firsts / 3, atol=1e-12)
    np.testing.assert_allclose(model.transmat_, moves / moves.sum(1, keepdims=True),
                               atol=1e-12)
    np.testing.assert_allclose(model.emissionprob_, emits / emits.sum(1, keepdims=True),
                               atol=1e-12)


def test_gaussian_means_from_full_labels():
    rng = np.random.default_rng(3)
    z = np.repeat([0, 1, 0, 2, 1], 30)
    X = np.array([[-4.0, 0.0], [0.0, 3.0], [5.0, 5.0]])[z] + rng.normal(size=(150, 2))
    model = th.GaussianHMM(3, n_iter=1, init_params="stc", params="m", random_state=0)
    model.means_ = np.zeros((3, 2))
    model.fit(X, state_labels=z)
    expected = np.array([X[z == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(model.means_, expected, atol=1e-10)


def test_labels_tell_tied_states_apart():
    # two states share an emission group: only the labels say which is which
    shared = th.CategoricalEmission([0.5, 0.5])
    start = th.TransitionGroup(["to 0", "to 1"], [0.5, 0.5])
    rows = [th.TransitionGroup(["to 0", "to 1"], [0.5, 0.5]) for _ in range(2)]
    model = th.HMM([shared, shared], {0: (start, "to 0"), 1: (start, "to 1")},
                   {(i, j): (rows[i], f"to {j}") for i in range(2) for j in range(2)},
                   n_iter=1)
    z = np.array([0, 0, 0, 1, 0, 0, 0, 1, 1, 1])
    X = np.array([0, 1, 0, 1, 1, 0, 0, 1, 1, 0])[:, None]
    model.fit(X, state_labels=z)
    startprob, transmat = model.topology.start_and_transmat()
    np.testing.assert_allclose(transmat, [[4 / 6, 2 / 6], [1 / 3, 2 / 3]], atol=1e-12)
    np.testing.assert_allclose(startprob, [1.0, 0.0], atol=1e-12)
    assert model.emissions[0] is model.emissions[1]
    np.testing.assert_allclose(model.emissions[0].probs, [0.5, 0.5], atol=1e-12)


def test_model_set_with_state_labels():
    models = {name: _categorical([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]],
                                 [[0.5, 0.5], [0.5, 0.5]]).to_hmm() for name in "ab"}
    for model in models.values():
        model.n_iter = 1
    X = np.array([0, 0, 1, 1, 1, 0, 1, 0])[:, None]
    z = np.array([0, 0, 1, 1, 1, 1, 0, 0])
    th.ModelSet(models, n_iter=1).fit(X, [3, 5], ["a", "b"], state_labels=z)
    _, transmat_a = models["a"].topology.start_and_transmat()
    _, transmat_b = models["b"].topology.start_and_transmat()
    np.testing.assert_allclose(transmat_a, [[0.5, 0.5], [0.5, 0.5]])  # 0->0, 0->1; none out of 1
    np.testing.assert_allclose(transmat_b, [[1.0, 0.0], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(models["a"].emissions[0].probs, [1.0, 0.0])


@pytest.mark.parametrize(("labels", "message"), [
    (np.zeros(5, int), "one whole number per sample \\(6\\)"),
    (np.array([0, 1, 2, 0, 1, 0]), "state_labels\\[2\\] is 2: not a state"),
    (np.array([0, 1, -2, 0, 1, 0]), "state_labels\\[2\\] is -2"),
    (np.array([0.0, 1, 0, 0, 1, 0]), "one whole number per sample"),
])
def test_bad_state_labels(labels, message):
    model = _categorical([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(th.InvalidDataError, match=message):
        model.fit(np.zeros((6, 1), int), state_labels=labels)


def test_labels_the_model_cannot_follow_are_named():
    model = _categorical([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(th.ImpossibleSequenceError, match="sequence 0"):
        model.fit(np.zeros((3, 1), int), state_labels=[0, 1, -1])
