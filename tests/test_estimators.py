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
    theirs = _set_params(hmmlearn_hmm.GaussianHMM(n_states, **kwargs),
                         startprob, transmat, means_=means, covars_=covars)
    ours.fit(X, lengths)
    theirs.fit(X, lengths)
    for name in ("startprob_", "transmat_", "means_", "covars_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-6)
    np.testing.assert_allclose(ours.monitor_.history[-1], theirs.monitor_.history[-1],
                               rtol=1e-9)
    np.testing.assert_allclose(ours.score(X, lengths), theirs.score(X, lengths), rtol=1e-9)


def _gaussian_data(seed=0):
    rng = np.random.RandomState(seed)
    states = np.tile(np.repeat([0, 1, 2, 1], 20), 2)  # each half holds every regime
    X = rng.normal(np.array([-3.0, 0.0, 3.0])[states], 0.5)[:, None]
    return X, [80, 80]


def test_get_params_set_params_clone_and_grid_search():
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    model = th.GaussianHMM(2, emission_groups=[0, 1], n_iter=5, random_state=0)
    params = model.get_params()
    assert params["n_components"] == 2 and params["emission_groups"] == [0, 1]
    assert model.set_params(n_components=3, emission_groups=[0, 1, 1]) is model
    with pytest.raises(th.InvalidDataError, match="no parameter 'n_states'"):
        model.set_params(n_states=3)
    X, _ = _gaussian_data()
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    assert not hasattr(copy.fit(X), "startprob_") or not hasattr(model, "startprob_")
    search = GridSearchCV(th.GaussianHMM(n_iter=10, random_state=3),
                          {"n_components": [1, 3]}, cv=2).fit(X)
    assert search.best_params_ == {"n_components": 3}


def test_clone_of_a_general_hmm_keeps_its_ties_among_arguments():
    from sklearn.base import clone
    loop = th.TransitionGroup(["stay", "next"], [0.5, 0.5])
    shared = th.GaussianEmission([0.0], [1.0])
    model = th.HMM([shared, shared], {0: (loop, "next"), 1: (loop, "stay")},
                   {(0, 0): (loop, "stay"), (0, 1): (loop, "next"), (1, 1): 1.0})
    copy = clone(model)
    assert copy.emissions[0] is copy.emissions[1] and copy.emissions[0] is not shared
    assert copy.start[0][0] is copy.transitions[(0, 0)][0] is not loop


def test_estimators_join_concatenate_model_sets_and_files(tmp_path):
    X, lengths = _gaussian_data()
    fitted = th.GaussianHMM(3, emission_groups=[0, 1, 1], n_iter=3, random_state=0)
    fitted.fit(X, lengths)
    joined = th.concatenate([fitted])
    assert isinstance(joined, th.HMM)
    assert joined.score(X, lengths) == pytest.approx(fitted.score(X, lengths), rel=1e-12)
    with pytest.raises(th.InvalidDataError, match="n_features is unknown"):
        th.concatenate([th.GaussianHMM(n_components=3)])
    models = th.ModelSet({"a": fitted, "b": th.GaussianHMM(2, n_iter=2, random_state=1)})
    models.fit(X, lengths, ["a", "b"])
    assert fitted.means_.shape == (3, 1)  # the estimator got its fitted arrays back
    models.save(tmp_path / "set.json")
    loaded = th.ModelSet.load(tmp_path / "set.json")
    np.testing.assert_array_equal(loaded.score_matrix(X, lengths),
                                  models.score_matrix(X, lengths))


def test_compiled_groups_are_kept_until_an_argument_or_array_changes():
    X, lengths = _gaussian_data()
    model = th.GaussianHMM(3, n_iter=2, random_state=0).fit(X, lengths)
    first, _ = model._model()
    assert model._model()[0] is first  # scoring twice compiles once
    before = model.score(X, lengths)
    model.means_ = model.means_ + 1.0
    assert model._model()[0] is not first and model.score(X, lengths) < before
    model.set_params(tol=0.5)
    assert model._model()[0] is not first


def _wikipedia(model_class, **kwargs):
    h = model_class(2, **kwargs)
    h.startprob_ = np.array([0.6, 0.4])
    h.transmat_ = np.array([[0.7, 0.3], [0.4, 0.6]])
    h.emissionprob_ = np.array([[0.1, 0.4, 0.5], [0.6, 0.3, 0.1]])
    return h


@pytest.mark.parametrize("implementation", ["log", "scaling"])
def test_hand_built_categorical_model_with_either_implementation_equals_hmmlearn(
        implementation):
    ours = _wikipedia(th.CategoricalHMM, implementation=implementation)
    theirs = _wikipedia(hmmlearn_hmm.CategoricalHMM, implementation=implementation)
    X = np.array([[0], [1], [2]])
    logprob, states = ours.decode(X)
    assert round(np.exp(logprob), 5) == 0.01344 and list(states) == [1, 0, 0]
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-12)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-12)
    sample, _ = ours.sample(50, random_state=0)
    assert sample.shape == (50, 1) and sample.max() <= 2
    with pytest.raises(th.InvalidDataError, match="implementation must be one of"):
        _wikipedia(th.CategoricalHMM, implementation="fast").score(X)


def test_zero_iterations_fit_nothing_and_the_monitor_exists_before_fit():
    X, lengths, (startprob, transmat, emissionprob) = _categorical_data()
    model = _set_params(th.CategoricalHMM(3, n_features=4, n_iter=0, init_params=""),
                        startprob, transmat, emissionprob_=emissionprob)
    assert model.monitor_.history == [] and model.monitor_.n_iter == 0
    model.fit(X, lengths)
    assert np.array_equal(model.transmat_, transmat) and model.monitor_.history == []
    given = th.ConvergenceMonitor(tol=-np.inf, n_iter=3, verbose=False)
    model.set_params(n_iter=3).monitor_ = given
    model.fit(X, lengths)
    assert model.monitor_ is given and given.iter == 3
    with pytest.raises(th.InvalidDataError, match="n_iter must be an integer >= 0"):
        model.set_params(n_iter=-1).fit(X, lengths)


def test_aic_and_bic_count_each_tied_group_once_and_equal_hmmlearn_untied():
    X, lengths = _gaussian_data()
    for covariance in ("diag", "full"):
        ours = th.GaussianHMM(3, covariance, n_iter=3, random_state=0).fit(X, lengths)
        theirs = hmmlearn_hmm.GaussianHMM(3, covariance, init_params="", n_iter=0)
        for name in ("startprob_", "transmat_", "means_", "covars_"):
            setattr(theirs, name, getattr(ours, name).copy() if name != "covars_" else
                    ours._covars_.copy())
        theirs.n_features = 1
        assert ours.aic(X, lengths) == pytest.approx(theirs.aic(X, lengths), rel=1e-9)
        assert ours.bic(X, lengths) == pytest.approx(theirs.bic(X, lengths), rel=1e-9)
    tied = th.GaussianHMM(3, emission_groups=[0, 1, 1], transition_groups=[0, 1, 1],
                          n_iter=3, random_state=0).fit(X, lengths)
    assert tied.n_free_parameters() == 2 + 2 * 2 + 2 * 2  # start, two rows, two Gaussians


def test_array_attributes_with_too_few_rows_and_hmmlearn_positional_order():
    model = th.GaussianHMM(3)
    model.means_ = np.zeros((2, 1))
    with pytest.raises(th.InvalidDataError, match=r"means_ has shape \(2, 1\); it needs one "
                                                  r"row per state \(3\)"):
        model.score(np.zeros((5, 1)))
    assert th.GMMHMM(3, 2, 1e-2).min_covar == 1e-2  # hmmlearn: n_components, n_mix, min_covar
    with pytest.raises(th.InvalidDataError, match="min_covar must be a number"):
        th.GMMHMM(3, 2, "full").fit(np.zeros((20, 1)))


def _em_from_one_start(covariance_type, X):
    """tiedhmm's and hmmlearn's GaussianHMM (hmmlearn's default priors), 10 EM iterations
    each from one tiedhmm start."""
    start = th.GaussianHMM(3, covariance_type, n_iter=1, random_state=0).fit(X)
    kwargs = dict(init_params="", n_iter=10, tol=-np.inf)
    ours = th.GaussianHMM(3, covariance_type, **kwargs)
    theirs = hmmlearn_hmm.GaussianHMM(3, covariance_type, **kwargs)
    for model in (ours, theirs):
        model.n_features = X.shape[1]
        model.startprob_, model.transmat_ = start.startprob_.copy(), start.transmat_.copy()
        model.means_, model.covars_ = start.means_.copy(), start._covars_.copy()
        model.fit(X)
    return ours, theirs


def test_spherical_gaussian_em_equals_hmmlearn_and_tied_states_stay_identical():
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.normal(m, s, size=(100, 2)) for m, s in ((0, 1), (4, 0.5),
                                                                       (-3, 2))])
    ours, theirs = _em_from_one_start("spherical", X)
    np.testing.assert_allclose(ours._covars_, theirs._covars_[:, 0], rtol=1e-9)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-9)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-12)
    tied = th.GaussianHMM(3, "spherical", emission_groups=[0, 1, 1], n_iter=5,
                          random_state=0).fit(X)
    assert tied._covars_[1] == tied._covars_[2] and tied._covars_.shape == (3,)
    assert tied.n_free_parameters() == 2 + 6 + 2 * (2 + 1)


def test_spherical_mixture_density_equals_scipy():
    from scipy.stats import multivariate_normal
    group = th.GMMEmission(np.array([0.3, 0.7]), np.array([[0.0, 1.0], [2.0, -1.0]]),
                           np.array([0.5, 2.0]), covariance="spherical")
    X = np.random.RandomState(1).normal(size=(7, 2))
    expected = np.log(0.3 * multivariate_normal([0.0, 1.0], 0.5 * np.eye(2)).pdf(X)
                      + 0.7 * multivariate_normal([2.0, -1.0], 2.0 * np.eye(2)).pdf(X))
    np.testing.assert_allclose(th.GMMEmission.log_likelihood_table([group], X)[:, 0],
                               expected, rtol=1e-12)
    assert group.sample(np.random.RandomState(0), 5).shape == (5, 2)
    assert th.GMMEmission.from_record(group.to_record(), name=None,
                                      trainable=True).covars.tolist() == [0.5, 2.0]


def test_hmmlearn_warnings_are_logged(caplog):
    X, lengths = _gaussian_data()
    model = th.GaussianHMM(3, n_iter=1, random_state=0)
    model.startprob_ = np.full(3, 1 / 3)
    with caplog.at_level("WARNING", logger="tiedhmm"):
        model.fit(X, lengths)
    assert any("'startprob_' attribute is set, it will be overwritten" in record.getMessage()
               for record in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="tiedhmm"):
        th.GaussianHMM(3, "full", n_iter=1, random_state=0).fit(X[:5])
    assert any("degenerate solution" in record.getMessage() for record in caplog.records)


def test_spherical_covariances_set_in_any_nesting_read_as_full_matrices():
    model = th.GaussianHMM(2, "spherical", init_params="")
    model.startprob_ = np.array([0.6, 0.4])
    model.transmat_ = np.array([[0.4, 0.6], [0.9, 0.1]])
    model.means_ = np.array([[3.0], [5.0]])
    model.covars_ = np.array([[[[4.0]]], [[[3.0]]]])
    assert model._covars_.shape == (2,)
    np.testing.assert_array_equal(model.covars_, [[[4.0]], [[3.0]]])
    X, _ = model.sample(200, random_state=0)
    assert X.shape == (200, 1) and np.isfinite(model.score(X))


def test_kmeans_restarts_make_a_mixture_fit_independent_of_sequence_order():
    rng = np.random.RandomState(3)
    sequences = [np.concatenate([rng.normal(m, 0.3, size=(30, 2)) for m in (0.0, 2.0, -2.0)])
                 for _ in range(4)]
    scores = []
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        X = np.concatenate([sequences[k] for k in order])
        model = th.GMMHMM(3, 2, n_iter=20, random_state=0, covar_floor=1e-3,
                          init_params="mcw")
        model.startprob_, model.transmat_ = np.full(3, 1 / 3), np.full((3, 3), 1 / 3)
        model.fit(X, [90] * 4)
        scores.append(model.score(X, [90] * 4))
    np.testing.assert_allclose(scores, np.mean(scores), rtol=2e-4)  # one k-means run: 9e-4


def test_tied_covariance_em_equals_hmmlearn_and_is_one_shared_group(tmp_path):
    rng = np.random.RandomState(0)
    covar = np.array([[1.0, 0.5], [0.5, 1.0]])
    X = np.concatenate([rng.multivariate_normal(m, covar, 80)
                        for m in ([0, 0], [4, 4], [-3, 2], [4, 4])])
    ours, theirs = _em_from_one_start("tied", X)
    assert ours._covars_.shape == (2, 2) and ours.covars_.shape == (3, 2, 2)
    np.testing.assert_allclose(ours._covars_, theirs._covars_, rtol=1e-9)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-9)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-12)
    assert ours.n_free_parameters() == 2 + 6 + 6 + 3  # one covariance for all states
    hmm = ours.to_hmm()
    shared = hmm.emissions[0].shared
    assert all(group.shared is shared for group in hmm.emissions)
    hmm.save(tmp_path / "tied.json")
    loaded = th.HMM.load(tmp_path / "tied.json")
    assert loaded.emissions[0].shared is loaded.emissions[2].shared
    assert loaded.score(X) == hmm.score(X)
    twin = hmm.emissions[0].copy()
    assert twin.shared is not shared and np.array_equal(twin.covar, shared.covar)
    bad = th.GaussianHMM(3, "tied", init_params="")
    bad.means_, bad.covars_ = ours.means_, np.ones((3, 2, 2))
    with pytest.raises(th.InvalidDataError, match="tied covars_ must have shape"):
        bad.score(X)


def test_poisson_hmm_equals_hmmlearn_and_ties_rates(tmp_path):
    params = dict(startprob_=np.array([0.5, 0.5]), transmat_=np.array([[0.6, 0.4],
                                                                        [0.3, 0.7]]),
                  lambdas_=np.array([[2.0, 2.0, 2.0], [3.0, 1.0, 1.0]]))
    truth = th.PoissonHMM(2, init_params="")
    truth.startprob_, truth.transmat_ = np.array([0.6, 0.4]), np.array([[0.7, 0.3],
                                                                         [0.4, 0.6]])
    truth.lambdas_ = np.array([[3.1, 1.4, 4.5], [1.6, 5.3, 0.1]])
    X, _ = truth.sample(300, random_state=0)
    models = [th.PoissonHMM(2, init_params="", n_iter=10, tol=-np.inf),
              hmmlearn_hmm.PoissonHMM(2, init_params="", n_iter=10, tol=-np.inf)]
    for model in models:
        for name, value in params.items():
            setattr(model, name, value.copy())
        model.fit(X)
    for name in params:
        np.testing.assert_allclose(getattr(models[0], name), getattr(models[1], name),
                                   atol=1e-10)
    assert models[0].score(X) == pytest.approx(models[1].score(X), rel=1e-12)
    tied = th.PoissonHMM(3, emission_groups=[0, 1, 1], random_state=0, n_iter=5).fit(X)
    np.testing.assert_array_equal(tied.lambdas_[1], tied.lambdas_[2])
    tied.save(tmp_path / "poisson.json")
    assert th.HMM.load(tmp_path / "poisson.json").score(X) == pytest.approx(tied.score(X))
    with pytest.raises(th.InvalidDataError, match="not a vector of counts"):
        tied.score(np.array([[1.0, 2.5, 0.0]]))


def test_multinomial_em_equals_hmmlearn_and_scipy_and_ties_hold():
    from scipy.stats import multinomial
    rng = np.random.RandomState(5)
    probs = np.array([[0.5, 0.3, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4], [0.25, 0.25, 0.25, 0.25]])
    states = rng.randint(3, size=120)
    totals = rng.randint(3, 8, size=120)
    X = np.stack([rng.multinomial(n, probs[s]) for n, s in zip(totals, states)])
    start = dict(startprob_=np.full(3, 1 / 3), transmat_=rng.dirichlet(np.ones(3), 3),
                 emissionprob_=rng.dirichlet(np.ones(4), 3))
    models = [cls(3, n_iter=6, tol=-np.inf, init_params="")
              for cls in (th.MultinomialHMM, hmmlearn_hmm.MultinomialHMM)]
    for model in models:
        for name, value in start.items():
            setattr(model, name, value.copy())
        model.fit(X, [60, 60])
    ours, theirs = models
    np.testing.assert_allclose(ours.emissionprob_, theirs.emissionprob_, atol=1e-9)
    np.testing.assert_allclose(ours.monitor_.history, theirs.monitor_.history, rtol=1e-9)
    table = th.MultinomialEmission.log_likelihood_table(
        [th.MultinomialEmission(p) for p in probs], X.astype(float))
    np.testing.assert_allclose(table, np.stack([multinomial.logpmf(X, totals, p)
                                                for p in probs], axis=1), rtol=1e-12)
    tied = th.MultinomialHMM(3, emission_groups=[0, 1, 1], random_state=0, n_iter=5).fit(X)
    assert np.array_equal(tied.emissionprob_[1], tied.emissionprob_[2])
    with pytest.raises(th.InvalidDataError, match="a single n_trials"):
        tied.sample(10)
    tied.n_trials = 6
    sample, _ = tied.sample(50, random_state=0)
    assert np.all(sample.sum(axis=1) == 6)
    with pytest.raises(th.InvalidDataError, match="row 1 holds 5 counts"):
        th.MultinomialHMM(2, n_trials=4).fit([[1, 3], [2, 3]])


def test_init_draws_one_start_per_tied_group_and_check_names_problems():
    X = np.random.RandomState(0).normal(size=(90, 2))
    model = th.GaussianHMM(4, emission_groups=[0, 1, 1, 2], transition_groups=[0, 1, 1, 0],
                           random_state=0)
    model._init(X)
    assert np.array_equal(model.transmat_[1], model.transmat_[2])
    assert np.array_equal(model.transmat_[0], model.transmat_[3])
    assert not np.array_equal(model.transmat_[0], model.transmat_[1])
    assert np.array_equal(model.means_[1], model.means_[2])
    assert len({tuple(row) for row in model.means_}) == 3
    model._check()
    model.startprob_ = np.array([0.5, 0.5, 0.5, 0.5])
    with pytest.raises(th.TyingError, match="outgoing probabilities sum to 2"):
        model._check()
    model.covariance_type = "badcovariance_type"
    with pytest.raises(th.InvalidDataError, match="covariance_type must be one of"):
        model._check()


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical", "tied"])
def test_sampling_draws_hmmlearns_sample_from_one_seed(covariance_type):
    """One seed, one sample: states and observations are drawn in hmmlearn's order
    (a state, then its emission; Gaussians through the full matrix)."""
    rng = np.random.RandomState(2)
    theirs = hmmlearn_hmm.GaussianHMM(3, covariance_type=covariance_type, init_params="")
    theirs.startprob_ = rng.dirichlet(np.ones(3))
    theirs.transmat_ = rng.dirichlet(np.ones(3), size=3)
    theirs.means_ = rng.normal(size=(3, 2))
    theirs.covars_ = {"diag": rng.uniform(0.5, 2, (3, 2)), "spherical": rng.uniform(0.5, 2, 3),
                      "full": np.stack([np.eye(2) + 0.3] * 3), "tied": np.eye(2) + 0.3
                      }[covariance_type]
    ours = th.GaussianHMM(3, covariance_type=covariance_type, init_params="")
    ours.startprob_, ours.transmat_, ours.means_ = (theirs.startprob_, theirs.transmat_,
                                                    theirs.means_)
    ours.covars_ = theirs._covars_
    for currstate in (None, 2):
        X, states = ours.sample(60, random_state=5, currstate=currstate)
        X_ref, states_ref = theirs.sample(60, random_state=5, currstate=currstate)
        np.testing.assert_array_equal(states, states_ref)
        np.testing.assert_allclose(X, X_ref, rtol=1e-12)


def test_scaling_keeps_hmmlearns_underflow_limit_and_log_carries_on():
    X = np.concatenate([np.random.RandomState(0).normal(size=40), [1e4]])[:, None]
    for implementation in ("log", "scaling"):
        model = th.GaussianHMM(2, implementation=implementation, init_params="")
        model.startprob_, model.transmat_ = [0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]]
        model.means_, model.covars_ = [[0.0], [5.0]], [[1.0], [1.0]]
        if implementation == "log":
            assert np.isfinite(model.score(X))
        else:
            with pytest.raises(ValueError, match=r"underflow.*frame 40"):
                model.score(X)
