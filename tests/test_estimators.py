"""hmmlearn-style estimators: untied EM equals hmmlearn; tied EM keeps its ties."""

import numpy as np
import pytest
from hmmlearn import hmm as hmmlearn_hmm

import tiedhmm as th
from tests.naive import random_hmm

N_ITER = 10


def _categorical_data(seed=0, n_states=3, n_symbols=4, lengths=(60, 40, 80)):
    rng = np.random.RandomState(seed)
    startprob, transmat, emissionprob = random_hmm(rng, n_states, n_symbols)
    truth = hmmlearn_hmm.CategoricalHMM(n_states, n_features=n_symbols, random_state=seed)
    truth.startprob_, truth.transmat_, truth.emissionprob_ = startprob, transmat, emissionprob
    X = np.concatenate([truth.sample(n, random_state=rng)[0] for n in lengths])
    return X, list(lengths), random_hmm(rng, n_states, n_symbols)


def _set_params(model, startprob, transmat, **emission):
    model.startprob_, model.transmat_ = startprob.copy(), transmat.copy()
    for name, value in emission.items():
        setattr(model, name, value.copy())
    return model


def test_untied_categorical_em_equals_hmmlearn():
    X, lengths, (startprob, transmat, emissionprob) = _categorical_data()
    kwargs = dict(n_iter=N_ITER, tol=-np.inf, init_params="")
    ours = _set_params(th.CategoricalHMM(3, n_features=4, **kwargs),
                       startprob, transmat, emissionprob_=emissionprob)
    theirs = _set_params(hmmlearn_hmm.CategoricalHMM(3, n_features=4, **kwargs),
                         startprob, transmat, emissionprob_=emissionprob)
    ours.fit(X, lengths)
    theirs.fit(X, lengths)
    for name in ("startprob_", "transmat_", "emissionprob_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-6)
    assert ours.monitor_.iter == theirs.monitor_.iter == N_ITER
    np.testing.assert_allclose(ours.monitor_.history[-1], theirs.monitor_.history[-1],
                               rtol=1e-9)
    np.testing.assert_allclose(ours.score(X, lengths), theirs.score(X, lengths), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X, lengths),
                               theirs.predict_proba(X, lengths), atol=1e-9)


def test_categorical_decode_equals_hmmlearn():
    """Decoding from the same random parameters (fitted ones can hold exact path ties)."""
    X, lengths, (startprob, transmat, emissionprob) = _categorical_data(seed=3)
    ours = _set_params(th.CategoricalHMM(3, n_features=4), startprob, transmat,
                       emissionprob_=emissionprob)
    theirs = _set_params(hmmlearn_hmm.CategoricalHMM(3, n_features=4), startprob, transmat,
                         emissionprob_=emissionprob)
    for algorithm in ("viterbi", "map"):
        ours_logprob, ours_path = ours.decode(X, lengths, algorithm=algorithm)
        theirs_logprob, theirs_path = theirs.decode(X, lengths, algorithm=algorithm)
        np.testing.assert_allclose(ours_logprob, theirs_logprob, rtol=1e-9)
        np.testing.assert_array_equal(ours_path, theirs_path)
    np.testing.assert_array_equal(ours.predict(X, lengths), theirs.predict(X, lengths))


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_untied_gaussian_em_equals_hmmlearn(covariance_type):
    rng = np.random.RandomState(1)
    n_states, n_features, lengths = 3, 2, [70, 50, 90]
    truth = hmmlearn_hmm.GaussianHMM(n_states, covariance_type="diag")
    truth.startprob_, truth.transmat_, _ = random_hmm(rng, n_states, 2)
    truth.means_ = rng.normal(scale=3.0, size=(n_states, n_features))
    truth.covars_ = rng.uniform(0.5, 2.0, size=(n_states, n_features))
    X = np.concatenate([truth.sample(n, random_state=rng)[0] for n in lengths])
    startprob, transmat, _ = random_hmm(rng, n_states, 2)
    means = truth.means_ + rng.normal(scale=0.5, size=truth.means_.shape)
    covars = (rng.uniform(0.5, 2.0, size=(n_states, n_features)) if covariance_type == "diag"
              else np.stack([np.eye(n_features) + 0.3 * np.ones((n_features, n_features))
                             for _ in range(n_states)]))
    kwargs = dict(covariance_type=covariance_type, n_iter=N_ITER, tol=-np.inf,
                  init_params="")
    ours = _set_params(th.GaussianHMM(n_states, **kwargs), startprob, transmat,
                       means_=means, covars_=covars)
    theirs = _set_params(hmmlearn_hmm.GaussianHMM(n_states, covars_prior=0.0, **kwargs),
                         startprob, transmat, means_=means, covars_=covars)
    ours.fit(X, lengths)
    theirs.fit(X, lengths)
    for name in ("startprob_", "transmat_", "means_", "covars_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-6)
    np.testing.assert_allclose(ours.monitor_.history[-1], theirs.monitor_.history[-1],
                               rtol=1e-9)
    np.testing.assert_allclose(ours.score(X, lengths), theirs.score(X, lengths), rtol=1e-9)
