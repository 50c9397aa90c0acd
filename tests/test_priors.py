"""MAP re-estimation: priors pooled over tied groups against a numpy reference, against
hmmlearn for untied models, and the M-step as the maximum of data plus log prior."""

import numpy as np
import pytest
from hmmlearn import hmm as hmmlearn_hmm
from scipy.stats import multivariate_normal

import tiedhmm as th
from tests.naive import hmm_reference

COVARIANCE_TYPES = ("spherical", "diag", "full", "tied")


def _gaussian_start(rng, covariance_type, n_states=3, n_features=2):
    startprob = rng.dirichlet(np.ones(n_states))
    transmat = rng.dirichlet(np.ones(n_states), size=n_states)
    transmat[2] = transmat[1]  # states 1 and 2 share a row and an emission group
    means = rng.normal(scale=2.0, size=(n_states, n_features))
    means[2] = means[1]
    if covariance_type == "spherical":
        covars = rng.uniform(0.5, 2.0, size=n_states)
    elif covariance_type == "diag":
        covars = rng.uniform(0.5, 2.0, size=(n_states, n_features))
    else:
        covars = np.stack([np.eye(n_features) + 0.3 * np.ones((n_features, n_features))
                           for _ in range(n_states)])
        if covariance_type == "tied":
            covars = covars[0]
    if covariance_type in ("spherical", "diag", "full"):
        covars[2] = covars[1]
    return startprob, transmat, means, covars


def _priors(rng, covariance_type, n_states=3, n_features=2):
    """Different priors for every state, so that pooling over the tied pair matters."""
    D = n_features
    scale = {"spherical": rng.uniform(0.1, 1.0, size=(n_states, D)),
             "diag": rng.uniform(0.1, 1.0, size=(n_states, D)),
             "full": np.stack([np.diag(rng.uniform(0.1, 1.0, D)) for _ in range(n_states)]),
             "tied": np.diag(rng.uniform(0.1, 1.0, D))}[covariance_type]
    weight = 5.0 if covariance_type == "tied" else rng.uniform(1.0, 6.0, size=n_states)
    return dict(startprob_prior=rng.uniform(1.0, 3.0, n_states),
                transmat_prior=rng.uniform(1.0, 3.0, (n_states, n_states)),
                means_prior=rng.normal(size=(n_states, D)),
                means_weight=rng.uniform(0.5, 3.0, n_states),
                covars_prior=scale, covars_weight=weight)


def _reference_map_step(X, lengths, start, priors, covariance_type):
    """One MAP EM step of the tied model in numpy: posteriors by path enumeration, then
    hmmlearn's updates with each tied group's statistics *and* priors summed over its
    states (the product of the states' priors)."""
    startprob, transmat, means, covars = start
    n_states, D = means.shape
    full = {"spherical": lambda c: np.eye(D) * c, "diag": np.diag,
            "full": lambda c: c}.get(covariance_type)
    dense = [covars if covariance_type == "tied" else full(covars[i]) for i in range(n_states)]
    gamma, xi, first, offset = [], np.zeros((n_states, n_states)), np.zeros(n_states), 0
    for n in lengths:
        x = X[offset:offset + n]
        emission = np.stack([multivariate_normal(means[i], dense[i]).pdf(x)
                             for i in range(n_states)], axis=1).reshape(n, n_states)
        found = hmm_reference(startprob, transmat, emission)
        gamma.append(found["posterior"])
        xi += found["transitions"]
        first += found["starts"]
        offset += n
    gamma = np.concatenate(gamma)
    groups = [[0], [1, 2]]
    new_start = np.maximum(first + priors["startprob_prior"] - 1, 0)
    new_start /= new_start.sum()
    new_transmat = np.empty_like(transmat)
    for rows in groups:
        counts = np.maximum(sum(xi[r] + priors["transmat_prior"][r] - 1 for r in rows), 0)
        new_transmat[rows] = counts / counts.sum()
    mp, mw = priors["means_prior"], priors["means_weight"]
    cp, cw = priors["covars_prior"], priors["covars_weight"]
    new_means = np.empty_like(means)
    scatters = []
    for rows in groups:
        weight = gamma[:, rows].sum()
        total = (gamma[:, rows].sum(axis=1)[:, None] * X).sum(axis=0)
        mean = (total + sum(mw[r] * mp[r] for r in rows)) / (weight + sum(mw[r] for r in rows))
        new_means[rows] = mean
        diff = X - mean
        scatter = (gamma[:, rows].sum(axis=1)[:, None, None]
                   * diff[:, :, None] * diff[:, None, :]).sum(axis=0)
        scatter += sum(mw[r] * np.outer(mean - mp[r], mean - mp[r]) for r in rows)
        scatters.append((rows, weight, scatter))
    if covariance_type == "tied":
        total_scatter = sum(scatter for _, _, scatter in scatters)
        return new_start, new_transmat, new_means, (cp + total_scatter) / (
            max(cw - D, 0) + gamma.sum())
    new_covars = np.empty_like(covars)
    for rows, weight, scatter in scatters:
        if covariance_type == "full":
            covar = (sum(cp[r] for r in rows) + scatter) / (
                sum(max(cw[r] - D, 0) for r in rows) + weight)
        else:
            variances = (sum(cp[r] for r in rows) + np.diag(scatter)) / (
                sum(max(cw[r] - 1, 0) for r in rows) + weight)
            covar = variances.mean() if covariance_type == "spherical" else variances
        new_covars[rows] = covar
    return new_start, new_transmat, new_means, new_covars


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_tied_map_step_equals_numpy_reference(covariance_type):
    rng = np.random.RandomState(7)
    start = _gaussian_start(rng, covariance_type)
    priors = _priors(rng, covariance_type)
    lengths = [5, 4, 6]
    X = rng.normal(scale=2.0, size=(sum(lengths), 2))
    model = th.GaussianHMM(3, covariance_type, n_iter=1, init_params="",
                           emission_groups=[0, 1, 1], transition_groups=[0, 1, 1], **priors)
    model.startprob_, model.transmat_, model.means_, model.covars_ = (
        np.copy(value) for value in start)
    model.fit(X, lengths)
    expected = _reference_map_step(X, lengths, start, priors, covariance_type)
    for name, value in zip(("startprob_", "transmat_", "means_", "_covars_"), expected):
        np.testing.assert_allclose(getattr(model, name), value, rtol=1e-9, err_msg=name)
    hmm = model.to_hmm()
    assert hmm.emissions[1] is hmm.emissions[2]  # the tie survives the prior
    assert hmm.transitions[(1, 0)][0] is hmm.transitions[(2, 0)][0]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_untied_priors_equal_hmmlearn(covariance_type):
    rng = np.random.RandomState(1)
    X = np.concatenate([rng.randn(80, 2) + np.array([3, 0]), rng.randn(80, 2) * 0.5,
                        rng.randn(80, 2) * 2 - 2])
    start = hmmlearn_hmm.GaussianHMM(3, covariance_type, random_state=0)
    start._init(X)
    priors = dict(means_prior=0.5, means_weight=2.0, covars_prior=0.3, covars_weight=4.0,
                  startprob_prior=2.0, transmat_prior=3.0)
    fitted = []
    for cls in (th.GaussianHMM, hmmlearn_hmm.GaussianHMM):
        model = cls(3, covariance_type, n_iter=8, tol=-np.inf, init_params="", **priors)
        model.startprob_, model.transmat_ = start.startprob_.copy(), start.transmat_.copy()
        model.means_, model.covars_ = start.means_.copy(), start._covars_.copy()
        fitted.append(model.fit(X))
    ours, theirs = fitted
    for name in ("startprob_", "transmat_", "means_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-9)
    np.testing.assert_allclose(np.reshape(ours._covars_, -1)[:9],
                               np.reshape(theirs._covars_, -1)[::2][:9]
                               if covariance_type == "spherical"
                               else np.reshape(theirs._covars_, -1)[:9], atol=1e-9)
    np.testing.assert_allclose(ours.monitor_.history, theirs.monitor_.history, rtol=1e-9)


def _objective(group, X, weights, responsibility=None):
    """What the M-step maximises: the weighted data log-likelihood (for a mixture, the
    expected complete-data one under fixed ``responsibility``) plus the log prior."""
    if responsibility is None:
        data = float(weights @ type(group).log_likelihood_table([group], X)[:, 0])
        return data + group.log_prior()
    covars = group.component_covars()
    if group.covariance == "diag":
        covars = [np.diag(c) for c in covars]
    complete = np.stack([np.log(group.weights[k])
                         + multivariate_normal(group.means[k], covars[k]).logpdf(X)
                         for k in range(group.n_mix)], axis=1)
    return float(weights @ (responsibility * complete).sum(axis=1)) + group.log_prior()


def _responsibility(group, X):
    """Each component's posterior given the mixture (``None`` for other families)."""
    if not isinstance(group, th.GMMEmission):
        return None
    covars = group.component_covars()
    if group.covariance == "diag":
        covars = [np.diag(c) for c in covars]
    joint = np.stack([group.weights[k] * multivariate_normal(group.means[k], covars[k]).pdf(X)
                      for k in range(group.n_mix)], axis=1)
    return joint / joint.sum(axis=1, keepdims=True)


def _perturbations(group, rng):
    """Copies of ``group`` with its parameters nudged (variances kept positive)."""
    for _ in range(20):
        twin = group.copy()
        for name in ("mean", "means", "lambdas", "probs", "weights"):
            value = getattr(twin, name, None)
            if value is None:
                continue
            if name in ("probs", "weights"):
                value = value * np.exp(0.05 * rng.normal(size=value.shape))
                value = value / value.sum()
            elif name == "lambdas":
                value = value * np.exp(0.05 * rng.normal(size=value.shape))
            else:
                value = value + 0.05 * rng.normal(size=value.shape)
            setattr(twin, name, value)
        covar = getattr(twin, "covar", getattr(twin, "covars", None))
        if covar is not None:
            scaled = covar * np.exp(0.05 * rng.normal())
            if hasattr(twin, "covars"):
                twin.covars = scaled
            else:
                twin.covar = scaled
        yield twin


@pytest.mark.parametrize("make", [
    lambda D: th.GaussianEmission(np.zeros(D), np.ones(D), covariance="diag", covar_floor=0,
                                  prior=th.NormalPrior(np.ones(D), 2.0, 0.5 * np.ones(D), 3.0)),
    lambda D: th.GaussianEmission(np.zeros(D), np.array(1.0), covariance="spherical",
                                  covar_floor=0,
                                  prior=th.NormalPrior(np.ones(D), 2.0, 0.5 * np.ones(D), 5.0)),
    lambda D: th.GaussianEmission(np.zeros(D), np.eye(D), covariance="full", covar_floor=0,
                                  prior=th.NormalPrior(np.ones(D), 2.0, 0.5 * np.eye(D), 3.0)),
    lambda D: th.GMMEmission(np.array([0.5, 0.5]), np.array([np.zeros(D), np.ones(D)]),
                             np.ones((2, D)), covar_floor=0,
                             weights_prior=th.DirichletPrior([3.0, 1.5]),
                             prior=th.NormalPrior(np.zeros((2, D)), np.array([1.0, 2.0]),
                                                  0.3 * np.ones((2, D)), np.ones((2, D)))),
    lambda D: th.GMMEmission(np.array([0.5, 0.5]), np.array([np.zeros(D), np.ones(D)]),
                             np.eye(D), covariance="tied", covar_floor=0,
                             prior=th.NormalPrior(np.zeros((2, D)), np.array([1.0, 2.0]),
                                                  0.3 * np.eye(D), 2.0)),
    lambda D: th.PoissonEmission(np.ones(D), prior=th.GammaPrior(2.0 * np.ones(D), 0.5)),
    lambda D: th.CategoricalEmission(np.full(4, 0.25), prior=th.DirichletPrior([2, 1, 3, 1.5])),
])
def test_map_m_step_maximises_data_plus_log_prior(make):
    """The M-step must be the maximum of weighted log-likelihood plus ``log_prior``, or EM
    on the posterior would not be monotone (and EM's own check would be wrong)."""
    rng = np.random.RandomState(0)
    group = make(2)
    if isinstance(group, th.CategoricalEmission):
        X = rng.randint(4, size=40)
    elif isinstance(group, th.PoissonEmission):
        X = rng.poisson(3.0, size=(40, 2)).astype(float)
    else:
        X = rng.normal(size=(40, 2)) * [1.0, 2.0]
    weights = rng.uniform(0.1, 1.0, size=40)
    X = group.prepare(X)
    responsibility = _responsibility(group, X)
    stats = type(group).statistics([group], X, weights[:, None])[0]
    parts = group.part_statistics(stats)
    group.m_step(stats, group.param_letters)
    for part, part_stats in parts:
        part.m_step(part_stats, part.param_letters)
    best = _objective(group, X, weights, responsibility)
    for twin in _perturbations(group, rng):
        assert _objective(twin, X, weights, responsibility) < best


def test_map_em_never_lowers_likelihood_plus_log_prior():
    rng = np.random.RandomState(2)
    X = np.concatenate([rng.normal(m, 0.4, size=(60, 1)) for m in (-2, 0, 2, 0)])
    model = th.GaussianHMM(3, emission_groups=[0, 1, 1], random_state=0, n_iter=30,
                           tol=-np.inf, means_prior=[[-2.0], [1.0], [3.0]], means_weight=20.0,
                           covars_prior=2.0, covars_weight=10.0, transmat_prior=5.0)
    objectives = []

    def record(iteration, loglik):
        topology, _ = model._model()
        objectives.append(loglik + sum(g.log_prior() for g in topology.parameter_groups))

    model.fit(X, callback=record)
    assert np.all(np.diff(objectives) > -1e-9 * np.abs(objectives[1:]))
    unregularised = th.GaussianHMM(3, emission_groups=[0, 1, 1], random_state=0, n_iter=30,
                                   tol=-np.inf, covars_prior=0, covars_weight=0).fit(X)
    assert not np.allclose(model.means_, unregularised.means_, atol=1e-3)


def test_min_covar_starts_em_and_covar_floor_floors_it():
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.normal(0, 0.01, size=(200, 1)), rng.normal(1, 0.01, (200, 1))])
    model = th.GaussianHMM(2, n_iter=0, random_state=0, min_covar=0.5).fit(X)
    np.testing.assert_allclose(model._covars_, np.var(X, ddof=1) + 0.5)
    fitted = th.GaussianHMM(2, n_iter=20, random_state=0, covars_prior=0).fit(X)
    assert np.all(fitted._covars_ < 1e-3)  # hmmlearn's min_covar is no floor
    floored = th.GaussianHMM(2, n_iter=20, random_state=0, covars_prior=0,
                             covar_floor=0.01).fit(X)
    np.testing.assert_allclose(floored._covars_, 0.01)
    with pytest.raises(th.InvalidDataError, match="covar_floor must be a number"):
        th.GaussianHMM(2, covar_floor=-1).fit(X)


def test_priors_survive_save_and_load(tmp_path):
    rng = np.random.RandomState(3)
    X = rng.normal(size=(120, 2))
    model = th.GMMHMM(2, 2, random_state=0, n_iter=3, weights_prior=2.0, means_weight=1.5,
                      emission_groups=[0, 0], transmat_prior=2.0)
    model.fit(X)
    hmm = model.to_hmm()
    hmm.save(tmp_path / "map.json")
    loaded = th.HMM.load(tmp_path / "map.json")
    assert loaded.emissions[0] is loaded.emissions[1]
    np.testing.assert_array_equal(loaded.emissions[0].prior.mean_weight,
                                  hmm.emissions[0].prior.mean_weight)
    hmm.n_iter = loaded.n_iter = 2
    hmm.fit(X)
    loaded.fit(X)
    assert loaded.score(X) == hmm.score(X)


def test_bad_priors_are_named():
    X = np.random.RandomState(0).normal(size=(50, 2))
    with pytest.raises(th.InvalidDataError, match=r"means_prior must be a number or broadcast "
                                                  r"to shape \(3, 2\)"):
        th.GaussianHMM(3, means_prior=np.zeros(5), random_state=0).fit(X)
    with pytest.raises(th.InvalidDataError, match="means_weight must be >= 0"):
        th.GaussianHMM(3, means_weight=-1.0, random_state=0).fit(X)
    with pytest.raises(th.InvalidDataError, match="transmat_prior must be a number"):
        th.CategoricalHMM(2, transmat_prior=np.ones(3), random_state=0).fit([[0], [1]])
