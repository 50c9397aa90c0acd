"""Estimators of real vectors: ``GaussianHMM`` and ``GMMHMM`` (and what they share: the
covariance type, ``min_covar`` and ``covar_floor``)."""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..emissions import (
    GaussianEmission,
    GMMEmission,
    missing,
)
from ..emissions.gaussian import COVARIANCE_TYPES, SharedCovariance, prepare_features
from ..errors import InvalidDataError
from ..tying import Topology
from . import priors
from .base import ArrayHMM, documented, non_negative

#: With no ``covar_floor``, variances are held at this share of the data's mean variance.
COLLAPSE_GUARD = 1e-10


class GaussianFamily(ArrayHMM, ABC):
    """What GaussianHMM and GMMHMM share: ``min_covar`` (hmmlearn's: added to the data's
    covariance that starts EM), ``covar_floor`` (every M-step) and the covariance type.

    With ``covar_floor=0`` the updates are hmmlearn's, except that a variance that would
    collapse to 0 (a component on one point, a constant feature) is held at
    :data:`COLLAPSE_GUARD` times the data's mean variance, so the fit stays finite.
    """

    covariance_type: str
    min_covar: float
    covar_floor: float

    def _floor(self) -> float:
        """The M-step's variance floor: ``covar_floor``, or the collapse guard of the data
        last given to ``_init``."""
        floor = non_negative(self.covar_floor, "covar_floor")
        return max(floor, getattr(self, "_collapse_guard", 0.0))

    def _check_covariance_type(self) -> None:
        if self.covariance_type not in COVARIANCE_TYPES:
            raise InvalidDataError(f"covariance_type must be one of {COVARIANCE_TYPES}, "
                                   f"got {self.covariance_type!r}")

    def _data_scale(self, X: np.ndarray) -> np.ndarray:
        """The observations with NaN filled by their column's mean; sets the collapse
        guard (:data:`COLLAPSE_GUARD` times the data's mean variance) on the way."""
        self._check_covariance_type()
        X = np.asarray(X, dtype=float).reshape(len(X), -1)
        filled = missing.filled_with_column_means(prepare_features(X, X.shape[1]))
        n = len(filled)
        # each column's variance from its sums (one pass, no centred copy of the data)
        squares = np.einsum("ij,ij->j", filled, filled) - filled.sum(axis=0) ** 2 / n
        variance = max(float(squares.mean()) / (n - 1), 0.0) if n > 1 else 0.0
        self._collapse_guard = COLLAPSE_GUARD * max(variance, np.finfo(float).tiny)
        return filled

    def _starting_covariance(self, X: np.ndarray) -> np.ndarray:
        """hmmlearn's start: the data's covariance plus ``min_covar`` on the diagonal."""
        min_covar = non_negative(self.min_covar, "min_covar")
        filled = self._data_scale(X)
        return np.atleast_2d(np.cov(filled.T)) + min_covar * np.eye(filled.shape[1])

    def _check(self) -> None:
        self._check_covariance_type()
        super()._check()


@documented
class GaussianHMM(GaussianFamily):
    """hmmlearn's ``GaussianHMM`` with tying: a real vector per step.

    As in hmmlearn, ``covars_`` reads as full matrices ``(N, D, D)`` and is set in the
    native shape (``(N,)`` for spherical, ``(N, D)`` for diag, ``(D, D)`` for tied).
    Means are initialised by k-means over the data (one centre per emission group).

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    covariance_type : {"spherical", "diag", "full", "tied"}, default "diag"
        The covariance of each state ("tied": one matrix shared by every state).
    min_covar : float, default 1e-3
        Added to the data's covariance that starts EM (hmmlearn's meaning).
    means_prior, means_weight : float or array, default 0
        A normal prior's mean and strength for the means.
    covars_prior, covars_weight : float or array
        An inverse-Wishart (or inverse-gamma) prior's scale and strength.
    covar_floor : float, default 0.0
        A floor on every variance in every M-step (tiedhmm's; hmmlearn has none).
    {shared_parameters}

    Attributes
    ----------
    means_ : ndarray of shape (n_components, n_features)
        The mean of each state; tied states hold equal rows.
    covars_ : ndarray of shape (n_components, n_features, n_features)
        The covariance of each state, as full matrices.
    {shared_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> rng = np.random.RandomState(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2))])
    >>> model = th.GaussianHMM(2, random_state=0).fit(X)
    >>> sorted(round(float(mean)) for mean in model.means_[:, 0])
    [0, 5]
    >>> logprob, states = model.decode(X)
    >>> states.shape
    (200,)
    """

    _emission_attributes = (("m", "means_"), ("c", "_covars_"))

    def __init__(self, n_components: int = 1, covariance_type: str = "diag",
                 min_covar: float = 1e-3, startprob_prior: ArrayLike = 1.0,
                 transmat_prior: ArrayLike = 1.0, means_prior: ArrayLike = 0,
                 means_weight: ArrayLike = 0, covars_prior: ArrayLike = 1e-2,
                 covars_weight: ArrayLike = 1,
                 algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "stmc",
                 init_params: str = "stmc", implementation: str = "log", *,
                 covar_floor: float = 0.0, emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf) -> None:
        super().__init__(n_components, startprob_prior, transmat_prior,
                         emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.covariance_type = covariance_type
        self.min_covar = min_covar
        self.means_prior = means_prior
        self.means_weight = means_weight
        self.covars_prior = covars_prior
        self.covars_weight = covars_weight
        self.covar_floor = covar_floor

    @property
    def covars_(self) -> np.ndarray:
        covars = self._covars_
        if self.covariance_type == "full":
            return covars
        if self.covariance_type == "tied":
            return np.stack([covars] * self.n_components)
        n_features = self._known_n_features() or 1
        return np.stack([np.diag(np.broadcast_to(row, (n_features,))) for row in covars])

    @covars_.setter
    def covars_(self, covars: np.ndarray) -> None:
        covars = np.array(covars, dtype=float, copy=True)
        if self.covariance_type == "spherical" and covars.ndim:
            if covars.size == covars.shape[0]:
                covars = covars.reshape(covars.shape[0])  # one variance a state, any nesting
            elif covars.ndim == 2 and np.all(covars == covars[:, :1]):
                covars = covars[:, 0]  # hmmlearn's (N, D) rows of one variance
        self._covars_ = covars

    def _init_emission_arrays(self, X: np.ndarray) -> None:
        if hasattr(self, "_covars_"):
            self._data_scale(X)
            return
        cv = self._starting_covariance(X)
        shapes = {"spherical": np.full(self.n_components, np.diag(cv).mean()),
                  "diag": np.tile(np.diag(cv), (self.n_components, 1)),
                  "full": np.tile(cv, (self.n_components, 1, 1)), "tied": cv}
        self._covars_ = shapes[self.covariance_type]

    def _make_emission(self, states: np.ndarray,
                       shared: SharedCovariance | None = None) -> GaussianEmission:
        self._check_covariance_type()
        mean = self._attribute("means_", lambda m: m[states[0]])
        own = None if shared is not None else self._attribute("_covars_", lambda m: m[states[0]])
        n_features = self._known_n_features()
        if n_features is None and own is not None:
            n_features = int(np.shape(own)[-1])
        if n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set means_")
        covar = shared if shared is not None else own
        arrays = priors.gaussian_arrays(self, n_features)
        kind = "full" if self.covariance_type == "tied" else self.covariance_type
        return GaussianEmission(mean, covar, n_features=n_features,
                                covariance=self.covariance_type, covar_floor=self._floor(),
                                prior=priors.normal(*arrays, states, kind))

    def _known_n_features(self) -> int | None:
        """The width of ``means_`` when set (hmmlearn's rule: it decides), else the
        ``n_features`` attribute."""
        means = getattr(self, "means_", None)
        if means is not None and np.ndim(means) == 2:
            return int(np.shape(means)[-1])
        n_features: int | None = getattr(self, "n_features", None)
        return n_features

    def _emission_maker(self) -> Callable[[np.ndarray], GaussianEmission]:
        """With ``covariance_type="tied"`` every state's group reads one
        :class:`SharedCovariance` (hmmlearn's ``covars_`` of shape ``(D, D)``)."""
        if self.covariance_type != "tied":
            return self._make_emission
        n_features = self._known_n_features()
        covar = getattr(self, "_covars_", None)
        if n_features is None and covar is not None:
            n_features = np.shape(covar)[-1]
        if n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set means_")
        if covar is not None and np.shape(covar) != (n_features, n_features):
            raise InvalidDataError(f"tied covars_ must have shape ({n_features}, "
                                   f"{n_features}), got {np.shape(covar)}")
        shared = SharedCovariance(
            covar, n_features=n_features, covar_floor=self._floor(),
            name="tied covariance", trainable=True,
            prior=priors.gaussian_tied_covariance(self, n_features))
        return lambda states: self._make_emission(states, shared)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        arrays = {}
        if all(group.mean is not None for group in groups):
            arrays["means_"] = np.stack([group.mean for group in groups])
        if all(group.covar is not None for group in groups):
            arrays["_covars_"] = (groups[0].covar if self.covariance_type == "tied"
                                  else np.stack([group.covar for group in groups]))
        return arrays


@documented
class GMMHMM(GaussianFamily):
    """hmmlearn's ``GMMHMM`` with tying: a Gaussian mixture per state.

    ``weights_`` is ``(N, n_mix)``, ``means_`` ``(N, n_mix, D)`` and ``covars_``
    ``(N, n_mix)`` (spherical), ``(N, n_mix, D)`` (diag), ``(N, n_mix, D, D)`` (full) or
    ``(N, D, D)`` (tied: one matrix per state, shared by its components). Priors,
    their defaults and the updates are hmmlearn's: covariances are centred at the means
    the E-step used, as hmmlearn does (``covariance_centre="new"`` centres them at the
    new means, the exact M-step).

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    n_mix : int, default 1
        Components per mixture.
    min_covar : float, default 1e-3
        Added to the data's covariance that starts EM.
    weights_prior : float or array, default 1.0
        Dirichlet concentration of the mixture weights.
    means_prior, means_weight, covars_prior, covars_weight : float or array
        Normal and inverse-Wishart priors, as in hmmlearn.
    covariance_type : {"spherical", "diag", "full", "tied"}, default "diag"
        The covariance of each component.
    covar_floor : float, default 0.0
        A floor on every variance in every M-step.
    covariance_centre : {"previous", "new"}, default "previous"
        The means the covariance update centres at: the E-step's (hmmlearn's) or the
        new ones (the exact M-step, which never lowers the likelihood).
    {shared_parameters}

    Attributes
    ----------
    weights_ : ndarray of shape (n_components, n_mix)
        Mixture weights per state.
    means_ : ndarray of shape (n_components, n_mix, n_features)
        Component means per state.
    covars_ : ndarray
        Component covariances, in the shape ``covariance_type`` gives.
    {shared_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> X = np.random.RandomState(0).normal(size=(300, 2))
    >>> model = th.GMMHMM(2, n_mix=2, emission_groups=[0, 0], random_state=0).fit(X)
    >>> bool(np.array_equal(model.means_[0], model.means_[1]))
    True
    """

    _emission_attributes = (("w", "weights_"), ("m", "means_"), ("c", "covars_"))

    def __init__(self, n_components: int = 1, n_mix: int = 1, min_covar: float = 1e-3,
                 startprob_prior: ArrayLike = 1.0, transmat_prior: ArrayLike = 1.0,
                 weights_prior: ArrayLike = 1.0, means_prior: ArrayLike = 0.0,
                 means_weight: ArrayLike = 0.0, covars_prior: ArrayLike | None = None,
                 covars_weight: ArrayLike | None = None,
                 algorithm: str = "viterbi", covariance_type: str = "diag",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "stmcw",
                 init_params: str = "stmcw", implementation: str = "log", *,
                 covar_floor: float = 0.0, covariance_centre: str = "previous",
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf) -> None:
        super().__init__(n_components, startprob_prior, transmat_prior,
                         emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.covariance_centre = covariance_centre
        self.n_mix = n_mix
        self.covariance_type = covariance_type
        self.min_covar = min_covar
        self.weights_prior = weights_prior
        self.means_prior = means_prior
        self.means_weight = means_weight
        self.covars_prior = covars_prior
        self.covars_weight = covars_weight
        self.covar_floor = covar_floor

    def _init_emission_arrays(self, X: np.ndarray) -> None:
        if hasattr(self, "covars_"):
            self._data_scale(X)
            return
        cv = self._starting_covariance(X)
        N, M = self.n_components, self.n_mix
        shapes = {"spherical": np.full((N, M), np.diag(cv).mean()),
                  "diag": np.tile(np.diag(cv), (N, M, 1)),
                  "full": np.tile(cv, (N, M, 1, 1)), "tied": np.tile(cv, (N, 1, 1))}
        self.covars_ = shapes[self.covariance_type]

    def _make_emission(self, states: np.ndarray) -> GMMEmission:
        def pick(m: np.ndarray) -> np.ndarray:
            row: np.ndarray = m[states[0]]
            return row
        weights, means, covars = (self._attribute(name, pick)
                                  for name in ("weights_", "means_", "covars_"))
        n_features = getattr(self, "n_features", None)
        if n_features is None:
            n_features = next((np.shape(value)[-1] for value in (means, covars)
                               if value is not None and np.ndim(value) >= 2), None)
        if n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set means_")
        alpha = priors.broadcast(self.weights_prior, (self.n_components, self.n_mix),
                                 "weights_prior")
        arrays = priors.gmm_arrays(self, n_features)
        return GMMEmission(weights, means, covars, n_mix=self.n_mix, n_features=n_features,
                           covariance=self.covariance_type, covar_floor=self._floor(),
                           weights_prior=priors.dirichlet(alpha[states]),
                           prior=priors.normal(*arrays, states,
                                               self.covariance_type),
                           scatter_about=self.covariance_centre)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        return {name: np.stack([getattr(group, field) for group in groups])
                for name, field in (("weights_", "weights"), ("means_", "means"),
                                    ("covars_", "covars"))
                if all(getattr(group, field) is not None for group in groups)}


