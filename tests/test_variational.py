"""Variational Bayes HMMs: untied models give hmmlearn's numbers, a tied update equals a
brute-force one over every state path, and the lower bound behaves as a bound."""

import numpy as np
import pytest
from hmmlearn import vhmm
from scipy.special import digamma, gammaln

import tiedhmm as th

from .naive import hmm_reference

POSTERIORS = {
    "categorical": ("startprob_prior_", "startprob_posterior_", "transmat_prior_",
                    "transmat_posterior_", "emissionprob_prior_", "emissionprob_posterior_"),
    "gaussian": ("startprob_prior_", "startprob_posterior_", "transmat_prior_",
                 "transmat_posterior_", "means_prior_", "means_posterior_", "beta_prior_",
                 "beta_posterior_", "dof_prior_", "dof_posterior_", "scale_prior_",
                 "scale_posterior_"),
}


def _copy_posteriors(source, target, names):
    for name in names:
        value = getattr(source, name)
        setattr(target, name, np.array(value, dtype=float) if np.ndim(value) else value)


def _symbols(seed=0, n=240):
    rng = np.random.RandomState(seed)
    states = np.cumsum(rng.rand(n) < 0.2) % 3
    return np.where(rng.rand(n) < 0.8, states, rng.randint(3, size=n))[:, None]


def _vectors(seed=0, n=300, d=2):
    rng = np.random.RandomState(seed)
    states = np.cumsum(rng.rand(n) < 0.1) % 3
    return rng.normal(size=(n, d)) * 0.7 + np.array([[0, 0], [3, 1], [-2, 3]])[states, :d]


def test_untied_categorical_equals_hmmlearn():
    X, lengths = _symbols(), [100, 140]
    start = vhmm.VariationalCategoricalHMM(3, n_iter=0, random_state=5).fit(X, lengths)
    theirs = vhmm.VariationalCategoricalHMM(3, n_iter=12, tol=-np.inf, init_params="")
    ours = th.VariationalCategoricalHMM(3, n_iter=12, tol=-np.inf, init_params="")
    for model in (theirs, ours):
        _copy_posteriors(start, model, POSTERIORS["categorical"])
        model.fit(X, lengths)
    np.testing.assert_allclose(ours.monitor_.history, theirs.monitor_.history, rtol=1e-9)
    for name in POSTERIORS["categorical"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-8)
    assert ours.score(X, lengths) == pytest.approx(theirs.score(X, lengths), rel=1e-9)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_untied_gaussian_equals_hmmlearn(covariance_type):
    X, lengths = _vectors(), [150, 150]
    start = vhmm.VariationalGaussianHMM(3, covariance_type=covariance_type, n_iter=0,
                                        random_state=3).fit(X, lengths)
    kwargs = dict(covariance_type=covariance_type, n_iter=10, tol=-np.inf, init_params="")
    theirs = vhmm.VariationalGaussianHMM(3, **kwargs)
    ours = th.VariationalGaussianHMM(3, **kwargs)
    for model in (theirs, ours):
        _copy_posteriors(start, model, POSTERIORS["gaussian"])
        model.fit(X, lengths)
    # hmmlearn leaves out the Gaussian's -D/2 log(2 pi) of every frame; the ELBO has it
    constant = X.size / 2 * np.log(2 * np.pi)
    np.testing.assert_allclose(np.array(ours.monitor_.history) + constant,
                               theirs.monitor_.history, rtol=1e-9)
    for name in POSTERIORS["gaussian"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-6,
                                   atol=1e-9)
    np.testing.assert_allclose(ours.covars_, theirs.covars_, rtol=1e-6)
    assert ours.score(X, lengths) == pytest.approx(theirs.score(X, lengths), rel=1e-9)


def _kl_dirichlet(q, p):
    """KL(Dir(q) || Dir(p)) from its definition: log B(p) - log B(q) + sum (q - p) E[log theta]."""
    def log_beta(a):
        return gammaln(a).sum() - gammaln(a.sum())
    return log_beta(p) - log_beta(q) + np.sum((q - p) * (digamma(q) - digamma(q.sum())))


def test_tied_update_and_bound_equal_brute_force():
    emission_labels, transition_labels = np.array([0, 1, 1]), np.array([0, 1, 1])
    X, lengths = np.array([[0], [1], [1], [0], [1], [0], [0]]), [4, 3]
    model = th.VariationalCategoricalHMM(3, n_features=2, n_iter=1, init_params="",
                                         emission_groups=emission_labels,
                                         transition_groups=transition_labels)
    model.startprob_prior_ = np.full(3, 0.5)
    model.startprob_posterior_ = np.array([1.5, 2.0, 0.7])
    model.transmat_prior_ = np.full((3, 3), 0.4)
    transitions = np.array([[2.0, 1.0, 0.5], [0.8, 3.0, 1.2]])  # one row per group
    model.transmat_posterior_ = transitions[transition_labels]
    model.emissionprob_prior_ = np.full((3, 2), 0.7)
    emissions = np.array([[3.0, 1.0], [1.5, 2.5]])
    model.emissionprob_posterior_ = emissions[emission_labels]

    def weights(alpha):
        return np.exp(digamma(alpha) - digamma(alpha.sum(axis=-1, keepdims=True)))
    start, rows = weights(model.startprob_posterior_), weights(transitions)[transition_labels]
    emission_weights = weights(emissions)[emission_labels]
    log_z, starts = 0.0, np.zeros(3)
    pooled_rows, pooled_symbols = np.zeros((2, 3)), np.zeros((2, 2))
    for first, last in ((0, 4), (4, 7)):
        found = hmm_reference(start, rows, emission_weights[:, X[first:last, 0]].T)
        log_z += found["loglik"]
        starts += found["starts"]
        np.add.at(pooled_rows, transition_labels, found["transitions"])
        for t, symbol in enumerate(X[first:last, 0]):
            np.add.at(pooled_symbols[:, symbol], emission_labels, found["posterior"][t])
    divergence = (_kl_dirichlet(model.startprob_posterior_, model.startprob_prior_)
                  + sum(_kl_dirichlet(transitions[g], np.full(3, 0.4)) for g in range(2))
                  + sum(_kl_dirichlet(emissions[g], np.full(2, 0.7)) for g in range(2)))
    model.fit(X, lengths)
    assert model.monitor_.history[0] == pytest.approx(log_z - divergence, rel=1e-12)
    np.testing.assert_allclose(model.startprob_posterior_, 0.5 + starts, rtol=1e-12)
    np.testing.assert_allclose(model.transmat_posterior_,
                               (0.4 + pooled_rows)[transition_labels], rtol=1e-12)
    np.testing.assert_allclose(model.emissionprob_posterior_,
                               (0.7 + pooled_symbols)[emission_labels], rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_tied_gaussian_states_share_one_posterior_and_the_bound_rises(covariance_type):
    X, lengths = _vectors(seed=2), [100, 200]
    model = th.VariationalGaussianHMM(4, covariance_type=covariance_type, n_iter=30,
                                      tol=-np.inf, random_state=0,
                                      emission_groups=[0, 1, 2, 2],
                                      transition_groups=[0, 1, 2, 2]).fit(X, lengths)
    for name in ("means_posterior_", "beta_posterior_", "transmat_posterior_"):
        value = getattr(model, name)
        np.testing.assert_array_equal(value[2], value[3])
    assert np.all(np.diff(model.monitor_.history) > -1e-9 * abs(model.monitor_.history[-1]))
    assert model.lower_bound(X, lengths) >= model.monitor_.history[-1]


def test_tied_bound_counts_each_shared_posterior_once():
    X = _symbols(seed=3)
    tied = th.VariationalCategoricalHMM(3, n_iter=5, random_state=0,
                                        emission_groups=[0, 1, 1]).fit(X)
    # the tied emission posterior, entered once, as a one-state-per-group model would
    posterior, prior = tied.emissionprob_posterior_, tied.emissionprob_prior_
    counted_once = sum(_kl_dirichlet(posterior[s], prior[s]) for s in (0, 1))
    counted_twice = counted_once + _kl_dirichlet(posterior[2], prior[2])
    untied_view = th.VariationalCategoricalHMM(3, n_iter=0, init_params="")
    _copy_posteriors(tied, untied_view, POSTERIORS["categorical"])
    difference = tied.lower_bound(X) - untied_view.lower_bound(X)
    assert difference == pytest.approx(counted_twice - counted_once, rel=1e-9)


def test_streamed_statistics_equal_one_fit_iteration():
    X, lengths = _vectors(seed=4), [100, 120, 80]
    model = th.VariationalGaussianHMM(3, random_state=1).initialize(X, lengths)
    fitted = th.VariationalGaussianHMM(3, n_iter=1, init_params="")
    _copy_posteriors(model, fitted, POSTERIORS["gaussian"])
    fitted.fit(X, lengths)
    total = model.statistics(X[:100], [100]) + model.statistics(X[100:], [120, 80])
    assert total.loglik == pytest.approx(model.statistics(X, lengths).loglik, rel=1e-12)
    assert model.lower_bound(X, lengths) == pytest.approx(fitted.monitor_.history[0],
                                                          rel=1e-12)
    model.update(total)
    for name in POSTERIORS["gaussian"]:
        np.testing.assert_allclose(getattr(model, name), getattr(fitted, name), rtol=1e-10)


def test_inference_uses_the_posterior_means():
    X = _symbols(seed=5)
    model = th.VariationalCategoricalHMM(3, n_iter=20, random_state=0).fit(X)
    plain = th.CategoricalHMM(3, init_params="")
    plain.startprob_, plain.transmat_ = model.startprob_, model.transmat_
    plain.emissionprob_ = model.emissionprob_
    np.testing.assert_allclose(model.emissionprob_, model.emissionprob_posterior_
                               / model.emissionprob_posterior_.sum(axis=1, keepdims=True))
    assert model.score(X) == pytest.approx(plain.score(X), rel=1e-12)
    np.testing.assert_array_equal(model.predict(X), plain.predict(X))
    np.testing.assert_array_equal(model.sample(50, random_state=1)[0],
                                  plain.sample(50, random_state=1)[0])


def test_bad_settings_raise_clear_errors():
    X = _symbols()
    with pytest.raises(th.InvalidDataError, match="non-negative"):
        th.VariationalCategoricalHMM(3).fit(np.where(X == 2, -1, X))
    with pytest.raises(th.InvalidDataError, match="NaN"):
        th.VariationalGaussianHMM(2).fit(np.array([[0.0], [np.nan], [1.0]]))
    with pytest.raises(th.InvalidDataError, match="transition_groups"):
        th.VariationalCategoricalHMM(3, transition_groups="left-right").fit(X)
    model = th.VariationalCategoricalHMM(3, init_params="", emission_groups=[0, 1, 1])
    model.emissionprob_prior_ = np.full((3, 3), 0.5)
    model.emissionprob_posterior_ = np.array([[1.0, 2, 3], [1, 1, 1], [2, 1, 1]])
    with pytest.raises(th.TyingError, match=r"emissionprob_posterior_\[2\]"):
        model.fit(X)
    with pytest.raises(th.InvalidDataError, match="ModelSet"):
        th.VariationalCategoricalHMM(2).em_plan(X, None, np.random.RandomState(0))
