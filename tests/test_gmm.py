"""Gaussian-mixture emissions: untied EM equals hmmlearn's GMMHMM; ties hold."""

import numpy as np
import pytest
from hmmlearn import hmm as hmmlearn_hmm
from scipy.stats import multivariate_normal

import tiedhmm as th
from tests.naive import random_hmm

N_ITER = 5


def _mixture_data(rng, n_states=3, n_mix=2, n_features=2, lengths=(80, 60, 100)):
    truth = hmmlearn_hmm.GMMHMM(n_states, n_mix=n_mix, covariance_type="diag")
    truth.startprob_, truth.transmat_, _ = random_hmm(rng, n_states, 2)
    truth.weights_ = rng.dirichlet(np.ones(n_mix) * 3, size=n_states)
    truth.means_ = rng.normal(scale=3.0, size=(n_states, n_mix, n_features))
    truth.covars_ = rng.uniform(0.3, 1.5, size=(n_states, n_mix, n_features))
    return np.concatenate([truth.sample(n, random_state=rng)[0] for n in lengths]), list(lengths)


def _start(rng, covariance_type, n_states=3, n_mix=2, n_features=2):
    startprob, transmat, _ = random_hmm(rng, n_states, 2)
    weights = rng.dirichlet(np.ones(n_mix) * 3, size=n_states)
    means = rng.normal(scale=3.0, size=(n_states, n_mix, n_features))
    if covariance_type == "diag":
        covars = rng.uniform(0.5, 2.0, size=(n_states, n_mix, n_features))
    else:
        one = np.eye(n_features) + 0.3 * np.ones((n_features, n_features))
        covars = np.broadcast_to(one, (n_states, n_mix, n_features, n_features)).copy()
    return dict(startprob_=startprob, transmat_=transmat, weights_=weights, means_=means,
                covars_=covars)


def _set(model, params):
    for name, value in params.items():
        setattr(model, name, value.copy())
    return model


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
@pytest.mark.parametrize("letters", ["stwm", "stwc", "stwmc"])
def test_untied_gmm_em_equals_hmmlearn(covariance_type, letters):
    """hmmlearn's diag defaults are maximum likelihood; for full, its inverse-Wishart
    weight -(D + 2) makes the update maximum likelihood too. By default the covariance
    update is centred at the previous means, as hmmlearn's is. Both are float64 with the
    same formulas up to summation order: 1e-6 absolute after 5 iterations."""
    rng = np.random.RandomState(4)
    X, lengths = _mixture_data(rng)
    params = _start(rng, covariance_type)
    kwargs = dict(n_mix=2, covariance_type=covariance_type, n_iter=N_ITER, tol=-np.inf,
                  init_params="", params=letters)
    ours = _set(th.GMMHMM(3, **kwargs), params).fit(X, lengths)
    theirs = _set(hmmlearn_hmm.GMMHMM(3, **kwargs), params).fit(X, lengths)
    for name in params:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-6,
                                   err_msg=name)
    np.testing.assert_allclose(ours.monitor_.history, theirs.monitor_.history, rtol=1e-9)
    np.testing.assert_allclose(ours.score(X, lengths), theirs.score(X, lengths), rtol=1e-9)


def test_covariances_centred_at_the_new_means_are_the_exact_m_step():
    """``covariance_centre="new"``: after one iteration each covariance is the
    posterior-weighted scatter about the new mean (numpy from the posteriors), and
    the likelihood never falls; hmmlearn's centring gives a different, wider matrix."""
    rng = np.random.RandomState(7)
    X, lengths = _mixture_data(rng)
    params = _start(rng, "full")
    kwargs = dict(n_mix=2, covariance_type="full", n_iter=1, init_params="", params="mc")
    exact = _set(th.GMMHMM(3, covariance_centre="new", **kwargs), params)
    start = _set(th.GMMHMM(3, **kwargs), params)
    posterior = start.predict_proba(X, lengths)
    exact.fit(X, lengths)
    previous = _set(th.GMMHMM(3, **kwargs), params).fit(X, lengths)
    for state in range(3):
        weights, means, covars = params["weights_"][state], params["means_"][state], \
            params["covars_"][state]
        density = np.stack([w * multivariate_normal(m, c).pdf(X)
                            for w, m, c in zip(weights, means, covars)], axis=1)
        share = posterior[:, [state]] * density / density.sum(axis=1, keepdims=True)
        for k in range(2):
            mean = share[:, k] @ X / share[:, k].sum()
            centred = X - mean
            scatter = (share[:, k, None] * centred).T @ centred / share[:, k].sum()
            np.testing.assert_allclose(exact.means_[state, k], mean, rtol=1e-9)
            np.testing.assert_allclose(exact.covars_[state, k], scatter, rtol=1e-8)
            assert np.all(np.linalg.eigvalsh(previous.covars_[state, k] - scatter) > -1e-12)
    longer = dict(kwargs, n_iter=15, tol=-np.inf)
    history = _set(th.GMMHMM(3, covariance_centre="new", **longer), params).fit(
        X, lengths).monitor_.history
    assert np.all(np.diff(history) > -1e-9 * abs(history[-1]))


def test_gmm_log_likelihood_equals_scipy_mixture_density():
    rng = np.random.RandomState(0)
    weights = np.array([0.2, 0.5, 0.3])
    means = rng.normal(size=(3, 2))
    covars = np.stack([np.array([[1.0, 0.3], [0.3, 0.5]]) * (k + 1) for k in range(3)])
    group = th.GMMEmission(weights, means, covars, covariance="full")
    X = rng.normal(size=(20, 2))
    expected = np.log(sum(w * multivariate_normal(m, c).pdf(X)
                          for w, m, c in zip(weights, means, covars)))
    np.testing.assert_allclose(th.GMMEmission.log_likelihood_table([group], X)[:, 0],
                               expected, rtol=1e-12)


def test_tied_gmm_states_stay_identical_and_differ_from_untied():
    rng = np.random.RandomState(2)
    X, lengths = _mixture_data(rng, n_states=4)
    kwargs = dict(n_mix=2, n_iter=8, random_state=0, tol=-np.inf)
    tied = th.GMMHMM(4, emission_groups=[0, 1, 1, 2], **kwargs).fit(X, lengths)
    for name in ("weights_", "means_", "covars_"):
        value = getattr(tied, name)
        np.testing.assert_array_equal(value[1], value[2])
    untied = th.GMMHMM(4, **kwargs).fit(X, lengths)
    assert not np.allclose(untied.means_[1], untied.means_[2])
    assert np.all(np.diff(tied.monitor_.history) >= -1e-9 * abs(tied.monitor_.history[-1]))


def test_gmm_sampling_recovers_weights_and_bad_parameters_are_named():
    group = th.GMMEmission([0.25, 0.75], [[0.0], [10.0]], [[1.0], [1.0]])
    draws = group.sample(np.random.RandomState(0), 20000)
    assert abs(np.mean(draws > 5.0) - 0.75) < 0.02
    with pytest.raises(ValueError, match="weights must be 2 non-negative numbers"):
        th.GMMEmission([0.5, 0.6], [[0.0], [1.0]], [[1.0], [1.0]])
    with pytest.raises(ValueError, match="covar must be positive definite"):
        th.GMMEmission([0.5, 0.5], [[0.0], [1.0]], [[1.0], [-1.0]])
    with pytest.raises(ValueError, match="gives n_mix=3 but n_mix=2"):
        th.GMMEmission([0.2, 0.3, 0.5], n_mix=2, n_features=1)


def test_tied_mixture_covariance_density_and_pooled_m_step_against_numpy():
    from scipy.stats import multivariate_normal
    covar = np.array([[1.0, 0.3], [0.3, 0.5]])
    group = th.GMMEmission(np.array([0.4, 0.6]), np.array([[0.0, 0.0], [2.0, 1.0]]), covar,
                           covariance="tied", covar_floor=1e-6)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 2)) + np.where(rng.rand(50, 1) < 0.5, 0.0, 2.0)
    expected = np.log(0.4 * multivariate_normal([0.0, 0.0], covar).pdf(X)
                      + 0.6 * multivariate_normal([2.0, 1.0], covar).pdf(X))
    np.testing.assert_allclose(th.GMMEmission.log_likelihood_table([group], X)[:, 0],
                               expected, rtol=1e-12)
    occupancy = rng.rand(50, 1)
    stats = th.GMMEmission.statistics([group], X, occupancy)[0]
    # By hand: responsibilities times occupancy, new means, one scatter pooled over both.
    joint = np.stack([0.4 * multivariate_normal([0.0, 0.0], covar).pdf(X),
                      0.6 * multivariate_normal([2.0, 1.0], covar).pdf(X)], axis=1)
    weights = joint / joint.sum(axis=1, keepdims=True) * occupancy
    means = (weights.T @ X) / weights.sum(axis=0)[:, None]
    scatter = sum((weights[:, [k]] * (X - means[k])).T @ (X - means[k]) for k in range(2))
    group.m_step(stats, "wmc")
    np.testing.assert_allclose(group.means, means, rtol=1e-10)
    np.testing.assert_allclose(group.covars, scatter / weights.sum(), rtol=1e-10)
    assert group.covars.shape == (2, 2) and group.free_parameters("wmc") == 1 + 4 + 3


def test_tied_mixture_hmm_scores_as_hmmlearn_and_ties_states():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(120, 2))
    ours = th.GMMHMM(3, 2, covariance_type="tied", emission_groups=[0, 1, 1], n_iter=3,
                     random_state=0).fit(X)
    assert ours.covars_.shape == (3, 2, 2)
    np.testing.assert_array_equal(ours.covars_[1], ours.covars_[2])
    theirs = hmmlearn_hmm.GMMHMM(3, 2, covariance_type="tied", init_params="", n_iter=0)
    for name in ("startprob_", "transmat_", "weights_", "means_", "covars_"):
        setattr(theirs, name, getattr(ours, name).copy())
    theirs.n_features = 2
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-10)


def test_an_e_step_computes_the_component_table_once(monkeypatch):
    from tiedhmm import em
    from tiedhmm.emissions.gmm import GMMEmission
    from tiedhmm.hmm import inference
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    model = th.GMMHMM(2, n_mix=3, random_state=0, n_iter=1).fit(X)
    topology, _ = model._model()
    batch = inference.Batch.from_data(topology, X, None)
    before, _ = em.pooled_statistics([inference.statistics_source(topology, batch)])
    computed = []
    original = GMMEmission._component_table.__func__

    def counted(cls, groups, data):
        computed.append(len(groups))
        return original(cls, groups, data)

    monkeypatch.setattr(GMMEmission, "_component_table", classmethod(counted))
    total, _ = em.pooled_statistics([inference.statistics_source(topology, batch)])
    assert computed == [2]  # once for the table and the statistics of both groups
    assert total == before
    inference.sequence_logliks(topology, batch)
    inference.sequence_logliks(topology, batch)
    assert computed == [2, 2, 2]  # outside an E-step nothing is kept
