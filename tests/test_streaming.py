"""Streamed training: statistics of chunks add up, and ``update`` with their sum is one
EM iteration of ``fit`` over all the data (1e-10)."""

from __future__ import annotations

import numpy as np
import pytest

import tiedhmm as th


def _gaussian_data(seed=0, n=12):
    rng = np.random.RandomState(seed)
    truth = th.GaussianHMM(3, covariance_type="diag", init_params="", random_state=seed)
    truth.startprob_ = np.array([0.6, 0.3, 0.1])
    truth.transmat_ = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]])
    truth.means_ = np.array([[-3.0, 0.0], [0.0, 3.0], [3.0, -1.0]])
    truth.covars_ = np.array([[1.0, 0.5], [0.7, 1.2], [0.4, 0.9]])
    lengths = rng.randint(40, 90, n)
    X = np.concatenate([truth.sample(int(k), random_state=rng)[0] for k in lengths])
    return X, lengths


def _chunks(X, lengths, per_chunk):
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    for k in range(0, len(lengths), per_chunk):
        part = lengths[k:k + per_chunk]
        yield X[offsets[k]:offsets[k] + part.sum()], part


def _parameters(model):
    return [model.startprob_, model.transmat_, model.means_, model.covars_]


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied"])
def test_streamed_iterations_equal_fit(covariance_type):
    X, lengths = _gaussian_data()
    fitted = th.GaussianHMM(3, covariance_type=covariance_type, n_iter=3, tol=-np.inf,
                            random_state=1)
    streamed = th.GaussianHMM(3, covariance_type=covariance_type, random_state=1)
    streamed.initialize(X, lengths)
    fitted.fit(X, lengths)
    history = []
    for _ in range(3):
        total = sum(streamed.statistics(*chunk) for chunk in _chunks(X, lengths, 5))
        history.append(total.loglik)
        streamed.update(total)
    for ours, theirs in zip(_parameters(streamed), _parameters(fitted), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(history, fitted.monitor_.history, rtol=1e-12)
    assert total.n_sequences == len(lengths)


def test_tied_groups_and_soft_ties_stream_like_fit():
    X, lengths = _gaussian_data(seed=3)
    X = np.clip(np.round(X + 4), 0, 7).astype(int)[:, :1]

    def model():
        shared = th.CategoricalEmission(np.full(8, 1 / 8) + np.arange(8) / 100 - 0.035)
        own = [th.CategoricalEmission(np.roll(shared.probs, k)) for k in (2, 5)]
        loop = th.TransitionGroup(["stay", "move"], [0.8, 0.2])
        exit_row = th.TransitionGroup(["to 0", "to 2"], [0.5, 0.5])
        hmm = th.HMM([shared, shared, *own], {0: 0.5, 2: 0.5},
                     {(0, 0): (loop, "stay"), (0, 1): (loop, "move"),
                      (1, 1): (loop, "stay"), (1, 2): (loop, "move"),
                      (2, 2): (exit_row, "to 2"), (2, 3): (exit_row, "to 0"),
                      (3, 3): 0.9, (3, 0): 0.1},
                     soft_ties=[th.SoftTie(own, 5.0)], n_iter=2, tol=-np.inf)
        return hmm

    fitted, streamed = model(), model()
    fitted.fit(X, lengths)
    for _ in range(2):
        streamed.update(sum(streamed.statistics(*chunk) for chunk in _chunks(X, lengths, 4)))
    for ours, theirs in zip(streamed.emissions, fitted.emissions, strict=True):
        np.testing.assert_allclose(ours.probs, theirs.probs, rtol=1e-10)
    assert streamed.emissions[0] is streamed.emissions[1]
    np.testing.assert_allclose(streamed.topology.start_and_transmat()[1],
                               fitted.topology.start_and_transmat()[1], rtol=1e-10)


def test_streamed_with_state_labels():
    X, lengths = _gaussian_data(seed=5, n=6)
    labels = np.where(np.arange(len(X)) % 7 == 0, np.arange(len(X)) % 3, -1)
    fitted = th.GaussianHMM(3, n_iter=1, random_state=2)
    streamed = th.GaussianHMM(3, random_state=2).initialize(X, lengths)
    fitted.fit(X, lengths, state_labels=labels)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    parts = [streamed.statistics(X[offsets[k]:offsets[k + 1]],
                                 state_labels=labels[offsets[k]:offsets[k + 1]])
             for k in range(len(lengths))]
    streamed.update(sum(parts))
    for ours, theirs in zip(_parameters(streamed), _parameters(fitted), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_statistics_before_initialise_is_an_error():
    with pytest.raises(th.InvalidDataError, match="call initialize"):
        th.HMM([th.GaussianEmission(n_features=1), th.GaussianEmission(n_features=1)], {0: 1.0},
               {(0, 0): 0.5, (0, 1): 0.5, (1, 1): 1.0}).statistics(np.zeros((5, 1)))


def test_statistics_of_another_model_are_refused():
    X, lengths = _gaussian_data(n=3)
    gaussian = th.GaussianHMM(3, random_state=0).initialize(X, lengths)
    symbols = np.zeros((4, 1), int)
    categorical = th.CategoricalHMM(2, random_state=0).initialize(symbols)
    with pytest.raises(th.InvalidDataError, match="another model"):
        categorical.statistics(symbols) + gaussian.statistics(X, lengths)
    with pytest.raises(th.InvalidDataError, match="another model"):
        th.CategoricalHMM(1, random_state=0).initialize(symbols).update(
            categorical.statistics(symbols))
