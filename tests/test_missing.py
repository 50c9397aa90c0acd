"""Missing values: NaN entries of Gaussian, GMM and Poisson observations and the symbol
-1 of categorical ones are marginalised. Scores against a brute-force forward over the
observed entries; the M-step against EM written out row by row; EM never decreases;
and a fit on data with a fifth of its entries removed beats the complete-case fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.stats import multivariate_normal, poisson

import tiedhmm as th

from .naive import hmm_reference


def _observed_density(x, mean, covar):
    """N(x_O; mean_O, covar_OO) of the observed entries (1 when none is observed)."""
    seen = ~np.isnan(x)
    if not seen.any():
        return 1.0
    return multivariate_normal(mean[seen], covar[np.ix_(seen, seen)]).pdf(x[seen])


def _as_matrix(covar, covariance_type, n_features):
    if covariance_type == "full":
        return covar
    if covariance_type == "spherical":
        return covar * np.eye(n_features)
    return np.diag(covar)


def _with_gaps(rng, X, share):
    X = X.copy()
    X[rng.rand(*X.shape) < share] = np.nan
    X[2] = np.nan  # a frame with nothing observed
    return X


@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "full", "tied"])
def test_gaussian_scores_equal_a_forward_over_observed_entries(covariance_type):
    rng = np.random.RandomState(0)
    model = th.GaussianHMM(2, covariance_type=covariance_type, random_state=0, n_iter=3)
    X = rng.normal(size=(60, 3)) + np.repeat([[0, 0, 0], [3, 1, -2]], 30, axis=0)
    model.fit(X)
    test = _with_gaps(rng, rng.normal(size=(6, 3)) * 2, 0.4)
    covars = model.covars_  # (n_components, D, D) whatever the type, as hmmlearn's
    emission = np.array([[_observed_density(x, model.means_[k], covars[k])
                          for k in range(2)] for x in test])
    reference = hmm_reference(model.startprob_, model.transmat_, emission)
    assert model.score(test) == pytest.approx(reference["loglik"], abs=1e-10)
    np.testing.assert_allclose(model.predict_proba(test), reference["posterior"], atol=1e-10)
    logprob, path = model.decode(test)
    assert logprob == pytest.approx(reference["viterbi_logprob"], abs=1e-10)
    np.testing.assert_array_equal(path, reference["viterbi_path"])


def test_gmm_scores_equal_a_forward_over_observed_entries():
    rng = np.random.RandomState(1)
    model = th.GMMHMM(2, n_mix=2, covariance_type="full", random_state=0, n_iter=3)
    model.fit(rng.normal(size=(80, 2)) + np.repeat([[0, 0], [4, 4]], 40, axis=0))
    test = _with_gaps(rng, rng.normal(size=(5, 2)) * 2, 0.3)
    emission = np.array([[sum(model.weights_[k, m] * _observed_density(
        x, model.means_[k, m], model.covars_[k, m]) for m in range(2)) for k in range(2)]
        for x in test])
    assert model.score(test) == pytest.approx(
        hmm_reference(model.startprob_, model.transmat_, emission)["loglik"], abs=1e-10)


def _em_reference(X, mean, covar):
    """One EM update of a single Gaussian from rows with missing entries, row by row:
    each missing block imputed by its conditional mean, its conditional covariance
    added to the squares."""
    sums, squares = np.zeros_like(mean), np.zeros_like(covar)
    for x in X:
        seen, absent = ~np.isnan(x), np.isnan(x)
        filled, extra = x.copy(), np.zeros_like(covar)
        if absent.any():
            if seen.any():
                gain = covar[np.ix_(absent, seen)] @ np.linalg.inv(covar[np.ix_(seen, seen)])
                filled[absent] = mean[absent] + gain @ (x[seen] - mean[seen])
                extra[np.ix_(absent, absent)] = covar[np.ix_(absent, absent)] \
                    - gain @ covar[np.ix_(seen, absent)]
            else:
                filled[absent] = mean[absent]
                extra[np.ix_(absent, absent)] = covar[np.ix_(absent, absent)]
        sums += filled
        squares += np.outer(filled, filled) + extra
    new_mean = sums / len(X)
    return new_mean, squares / len(X) - np.outer(new_mean, new_mean)


def test_full_m_step_is_em_with_the_missing_entries_latent():
    rng = np.random.RandomState(2)
    X = _with_gaps(rng, rng.multivariate_normal([1, -1, 2], [[2, 0.8, 0.3], [0.8, 1, 0.2],
                                                             [0.3, 0.2, 1.5]], 200), 0.3)
    mean, full = np.array([0.5, 0.0, 1.0]), np.array([[1.5, 0.5, 0.0], [0.5, 1.2, 0.1],
                                                      [0.0, 0.1, 1.0]])
    emission = th.GaussianEmission(mean, full, covariance="full", covar_floor=0.0)
    th.HMM([emission], {0: 1.0}, {(0, 0): 1.0}, n_iter=1).fit(X)
    expected_mean, expected_covar = _em_reference(X, mean, full)
    np.testing.assert_allclose(emission.mean, expected_mean, atol=1e-12)
    np.testing.assert_allclose(emission.covar, expected_covar, atol=1e-12)


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_diagonal_m_step_counts_each_feature_where_it_is_observed(covariance):
    """A missing entry contributes nothing to its feature's statistics: each feature's
    mean and variance come from the frames that observe it (spherical: the variance
    pooled over every observed entry), weighted by the state posteriors."""
    rng = np.random.RandomState(3)
    X = _with_gaps(rng, rng.normal([1.0, -1.0, 2.0], [1.0, 2.0, 0.5], size=(150, 3)), 0.25)
    X[5:40, 2] = np.nan  # one feature missing far more often than the others
    start = (np.array([[0.0, 0.0, 0.0], [2.0, -2.0, 2.5]]),
             np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]))
    covars = start[1] if covariance == "diag" else start[1][:, 0]
    emissions = [th.GaussianEmission(m, c, covariance=covariance, covar_floor=0.0)
                 for m, c in zip(start[0], covars)]
    model = th.HMM(emissions, {0: 0.5, 1: 0.5}, {(0, 0): 0.7, (0, 1): 0.3, (1, 0): 0.4,
                                                (1, 1): 0.6}, n_iter=1)
    posterior = model.predict_proba(X)
    model.fit(X)
    seen = ~np.isnan(X)
    for k, emission in enumerate(emissions):
        weights = posterior[:, [k]] * seen
        mean = np.nansum(weights * np.nan_to_num(X), axis=0) / weights.sum(axis=0)
        scatter = np.sum(weights * np.where(seen, X - mean, 0.0) ** 2, axis=0)
        variance = scatter / weights.sum(axis=0) if covariance == "diag" else \
            scatter.sum() / weights.sum()
        np.testing.assert_allclose(emission.mean, mean, rtol=1e-10)
        np.testing.assert_allclose(emission.covar, variance, rtol=1e-10)


@pytest.mark.parametrize(("make", "shape"), [
    (lambda: th.GaussianHMM(3, covariance_type="diag", random_state=0, n_iter=15), "gaussian"),
    (lambda: th.GaussianHMM(3, covariance_type="full", random_state=0, n_iter=15), "gaussian"),
    (lambda: th.GaussianHMM(3, covariance_type="tied", random_state=0, n_iter=15), "gaussian"),
    (lambda: th.GaussianHMM(3, covariance_type="spherical", random_state=0, n_iter=15),
     "gaussian"),
    (lambda: th.GMMHMM(2, n_mix=2, covariance_type="diag", random_state=0, n_iter=15),
     "gaussian"),
    (lambda: th.GMMHMM(2, n_mix=2, covariance_type="full", random_state=0, n_iter=15),
     "gaussian"),
])
def test_em_never_decreases_with_missing_entries(make, shape):
    rng = np.random.RandomState(3)
    X = _with_gaps(rng, rng.normal(size=(400, 3)) + np.repeat(
        [[0, 0, 0], [3, 3, 0], [0, -3, 3], [3, 0, 3]], 100, axis=0), 0.2)
    model = make().fit(X, [200, 200])
    history = np.array(model.monitor_.history)
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
    assert np.isfinite(model.score(X))


def test_a_fifth_of_entries_removed_beats_complete_cases():
    rng = np.random.RandomState(4)
    truth = th.GaussianHMM(3, covariance_type="diag", init_params="", random_state=0)
    truth.startprob_ = np.array([0.4, 0.3, 0.3])
    truth.transmat_ = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])
    truth.means_ = np.array([[0, 0, 0, 0, 0], [3, 0, 3, 0, 3], [0, 3, 0, 3, -3.0]])
    truth.covars_ = np.full((3, 5), 1.5)
    X, _ = truth.sample(3000, random_state=rng)
    gappy = X.copy()
    gappy[rng.rand(*X.shape) < 0.2] = np.nan
    complete = gappy[~np.isnan(gappy).any(axis=1)]  # a third of the frames survive

    def error(model):
        cost = ((model.means_[:, None, :] - truth.means_[None]) ** 2).sum(axis=2)
        rows, cols = linear_sum_assignment(cost)
        variances = [m.covars_.diagonal(axis1=1, axis2=2) for m in (model, truth)]
        return cost[rows, cols].sum() + np.abs(variances[0][rows] - variances[1][cols]).sum()

    def fitted(data):  # both from one start near the truth: the data decide, not luck
        model = th.GaussianHMM(3, random_state=1, n_iter=50, tol=1e-4, init_params="stc")
        model.means_ = truth.means_ + 0.3 * np.random.RandomState(5).normal(size=(3, 5))
        return model.fit(data)

    assert error(fitted(gappy)) < error(fitted(complete))


def test_categorical_minus_one_is_missing():
    model = th.CategoricalHMM(2, init_params="", random_state=0)
    model.startprob_ = np.array([0.6, 0.4])
    model.transmat_ = np.array([[0.7, 0.3], [0.2, 0.8]])
    model.emissionprob_ = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    X = np.array([[0], [-1], [2], [-1], [1]])
    emission = np.array([np.ones(2) if x < 0 else model.emissionprob_[:, x] for x in X[:, 0]])
    assert model.score(X) == pytest.approx(
        hmm_reference(model.startprob_, model.transmat_, emission)["loglik"], abs=1e-12)
    model.n_iter = 5
    model.fit(np.array([[0], [-1], [2], [2], [-1], [1], [0]]))  # missing symbols count for none
    assert np.isfinite(model.score(X))
    with pytest.raises(th.InvalidDataError, match="-1 marks a missing one"):
        model.fit(np.array([[0], [-2], [1]]))


def test_poisson_nan_counts_are_missing():
    model = th.PoissonHMM(2, init_params="", random_state=0)
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.8, 0.2], [0.3, 0.7]])
    model.lambdas_ = np.array([[1.0, 4.0], [5.0, 2.0]])
    X = np.array([[1, 3], [np.nan, 2], [6, np.nan], [np.nan, np.nan]])
    emission = np.array([[np.prod([poisson.pmf(x[d], model.lambdas_[k, d])
                                   for d in range(2) if not np.isnan(x[d])])
                          for k in range(2)] for x in X])
    assert model.score(X) == pytest.approx(
        hmm_reference(model.startprob_, model.transmat_, emission)["loglik"], abs=1e-12)
    model.n_iter = 10
    model.fit(np.vstack([X] * 20))
    history = np.array(model.monitor_.history)
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))


def test_inf_is_still_an_error():
    model = th.GaussianHMM(2, random_state=0)
    with pytest.raises(th.InvalidDataError, match="holds inf"):
        model.fit(np.array([[0.0, 1.0], [np.inf, 1.0], [1.0, 0.0]]))
