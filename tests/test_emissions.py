"""Emission families: log-likelihood tables, pooled statistics, M-steps, initialisation."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

import tiedhmm as th
from tiedhmm._kernels.emissions import logsumexp_components, scaled_emissions
from tiedhmm.emissions import emission_statistics, initialize_groups, log_likelihood_table
from tiedhmm.emissions.base import emission_probabilities


def _gaussians(covariance, rng, n_groups=3, n_features=3):
    groups = []
    for _ in range(n_groups):
        root = rng.normal(size=(n_features, n_features))
        full = root @ root.T + n_features * np.eye(n_features)
        covar = np.diag(full).copy() if covariance == "diag" else full
        groups.append(th.GaussianEmission(rng.normal(size=n_features), covar,
                                          covariance=covariance))
    return groups


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_gaussian_table_equals_scipy(covariance):
    rng = np.random.RandomState(0)
    groups = _gaussians(covariance, rng)
    X = rng.normal(size=(50, 3)) * 3
    table = log_likelihood_table(groups, X)
    for k, group in enumerate(groups):
        cov = np.diag(group.covar) if covariance == "diag" else group.covar
        np.testing.assert_allclose(table[:, k], multivariate_normal(group.mean, cov).logpdf(X),
                                   rtol=1e-12)


def test_mixed_families_fill_their_own_columns_and_scale_rows():
    rng = np.random.RandomState(1)
    diag, full = _gaussians("diag", rng, 1)[0], _gaussians("full", rng, 1)[0]
    X = rng.normal(size=(20, 3))
    table = log_likelihood_table([diag, full, diag], X)
    np.testing.assert_array_equal(table[:, 0], table[:, 2])
    np.testing.assert_allclose(table[:, 1], log_likelihood_table([full], X)[:, 0])
    emission, log_shift = emission_probabilities([diag, full], X)
    np.testing.assert_allclose(np.log(emission) + log_shift[:, None], table[:, :2], rtol=1e-12)
    assert np.all(emission.max(axis=1) == 1.0)


def test_categorical_probabilities_need_no_logs():
    groups = [th.CategoricalEmission([0.2, 0.8]), th.CategoricalEmission([1.0, 0.0])]
    emission, log_shift = emission_probabilities(groups, np.array([0, 1, 1]))
    np.testing.assert_allclose(emission, [[0.2, 1.0], [0.8, 0.0], [0.8, 0.0]])
    np.testing.assert_array_equal(log_shift, 0.0)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_weighted_m_step_is_the_weighted_mle(covariance):
    rng = np.random.RandomState(2)
    group = _gaussians(covariance, rng, 1)[0]
    X = rng.normal(size=(400, 3)) @ np.array([[2, 0, 0], [0.5, 1, 0], [0, 0, 0.5]]) + 1
    w = rng.uniform(size=400)
    halves = [emission_statistics([group], X[part], w[part, None])[0]
              for part in (slice(0, 150), slice(150, 400))]
    pooled = {key: halves[0][key] + halves[1][key] for key in halves[0]}
    group.m_step(pooled, "mc")
    mean = np.average(X, axis=0, weights=w)
    cov = np.cov(X.T, aweights=w, bias=True)
    np.testing.assert_allclose(group.mean, mean, rtol=1e-10)
    np.testing.assert_allclose(group.covar, np.diag(cov) if covariance == "diag" else cov,
                               rtol=1e-9)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_covar_floor_floors_degenerate_groups(covariance):
    group = th.GaussianEmission([0.0, 0.0], None, n_features=2, covariance=covariance,
                                covar_floor=0.01)
    X = np.array([[1.0, 2.0]] * 10)
    stats = emission_statistics([group], X, np.ones((10, 1)))[0]
    group.m_step(stats, "mc")
    values = group.covar if covariance == "diag" else np.linalg.eigvalsh(group.covar)
    np.testing.assert_allclose(values, 0.01)
    np.testing.assert_allclose(group.mean, [1.0, 2.0])


def test_initialisation_is_seeded_and_fills_only_unset_parameters():
    rng = np.random.RandomState(3)
    X = np.concatenate([rng.normal(-5, 1, (50, 2)), rng.normal(5, 1, (50, 2))])
    fixed = th.GaussianEmission([9.0, 9.0], None, n_features=2)

    def initialised(seed):
        groups = [th.GaussianEmission(n_features=2), th.GaussianEmission(n_features=2), fixed]
        initialize_groups(groups, X, np.random.RandomState(seed))
        return groups

    first, second = initialised(0), initialised(0)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(fixed.mean, [9.0, 9.0])
    assert sorted(round(g.mean[0]) for g in first[:2]) == [-5, 5]
    np.testing.assert_allclose(first[0].covar, np.var(X, axis=0, ddof=1) + 1e-3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(probs=[0.5, 0.6]), "must sum to 1"),
    (dict(probs=[-0.5, 1.5]), "non-negative"),
    (dict(probs=[0.5, 0.5], n_features=3), "n_features=3"),
    (dict(), "positive n_features"),
])
def test_bad_categorical_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        th.CategoricalEmission(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mean=[0.0], covar=[-1.0]), "positive definite"),
    (dict(mean=[0.0, 0.0], covar=[[1.0, 2.0], [2.0, 1.0]], covariance="full"),
     "positive definite"),
    (dict(mean=[0.0], covariance="banded"), "covariance must be one of"),
    (dict(mean=[np.nan]), "finite"),
])
def test_bad_gaussian_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        th.GaussianEmission(**kwargs)


def test_mixture_logsumexp_equals_scipy():
    table = np.random.RandomState(0).normal(scale=300.0, size=(7, 3, 4))
    table[2, 1] = -np.inf
    table[3, 0, :2] = -np.inf
    np.testing.assert_allclose(logsumexp_components(table), logsumexp(table, axis=2),
                               rtol=1e-13)


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_diagonal_densities_scaled_in_one_pass_equal_the_log_table_scaled(covariance):
    """The fused pass gives the scaled table of scipy's densities; a NaN sends the
    frame through the marginal of its observed entries. 150 frames: blocks of 64 and a
    part block."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(150, 3))
    groups = [th.GaussianEmission(rng.normal(size=3), rng.uniform(0.5, 2, 3)
                                  if covariance == "diag" else rng.uniform(0.5, 2),
                                  covariance=covariance) for _ in range(4)]
    expected = np.stack([multivariate_normal(g.mean, np.diag(np.broadcast_to(g.covar, 3)))
                         .logpdf(X) for g in groups], axis=1)
    emission, log_shift = emission_probabilities(groups, X)
    reference, reference_shift = scaled_emissions(expected)
    np.testing.assert_allclose(emission, reference, rtol=1e-12)
    np.testing.assert_allclose(log_shift, reference_shift, rtol=1e-12)
    X[107, 1] = np.nan
    emission, log_shift = emission_probabilities(groups, X)
    np.testing.assert_allclose(np.log(emission[107]) + log_shift[107],
                               [multivariate_normal(g.mean[[0, 2]], np.diag(np.broadcast_to(
                                   g.covar, 3))[np.ix_([0, 2], [0, 2])]).logpdf(X[107, [0, 2]])
                                for g in groups], rtol=1e-10)
