"""``VariationalGaussianHMM``: real vectors, Normal-Wishart posteriors on each state's
mean and precision (McGrory and Titterington 2009; Gruhl and Sick 2016).

The updates are hmmlearn's for all four covariance types, so untied models give its
numbers: a state's mean ``mu | Lambda ~ N(m, (beta Lambda)^-1)`` and its precision
``Lambda ~ Wishart(dof, scale^-1)``; ``"diag"`` and ``"spherical"`` keep a diagonal or
isotropic scale and read it as that full matrix; ``"tied"`` has one Wishart that every
state shares (its KL counted once).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..emissions.gaussian import COVARIANCE_TYPES, kmeans
from ..errors import InvalidDataError
from ..estimators import GaussianHMM
from ..io.checks import check_random_state
from .base import VariationalHMM, checked_shape, documented, grouped, positive
from .divergences import expected_gaussian_log_density, kl_normal_given_precision, kl_wishart

#: Added to the data's covariance that starts the covariance posteriors (hmmlearn's).
STARTING_COVARIANCE_JITTER = 1e-3
#: The default scale prior: this times the identity (hmmlearn's).
SCALE_PRIOR = 1e-3


@documented
class VariationalGaussianHMM(VariationalHMM):
    """hmmlearn's ``VariationalGaussianHMM`` with tying: real vectors, fitted by
    variational Bayes.

    Each emission group has a Normal-Wishart posterior (``means_posterior_``,
    ``beta_posterior_``, ``dof_posterior_``, ``scale_posterior_``); states with one
    ``emission_groups`` label share it and hold equal rows. The covariances at the
    posterior mean, ``scale / dof``, are ``covars_`` (full matrices, as in hmmlearn;
    ``_covars_`` in the type's own shape).

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    covariance_type : {"full", "diag", "spherical", "tied"}, default "full"
        The shape of each state's precision ("tied": one shared by every state).
    means_prior, beta_prior : array, optional
        The prior's means ``(n_components, n_features)`` (default: the data's mean)
        and their precision scale ``(n_components,)`` (default 1).
    dof_prior, scale_prior : array, optional
        The Wishart prior's degrees of freedom (default ``n_features``) and scale
        (default ``1e-3`` times the identity, in the covariance type's shape).
    {variational_parameters}

    Attributes
    ----------
    means_prior_, means_posterior_ : ndarray of shape (n_components, n_features)
        Means of the Normal parts.
    beta_prior_, beta_posterior_ : ndarray of shape (n_components,)
        Precision scales of the Normal parts.
    dof_prior_, dof_posterior_ : ndarray of shape (n_components,) or float (tied)
        Wishart degrees of freedom.
    scale_prior_, scale_posterior_ : ndarray
        Wishart scales: ``(n_components, n_features, n_features)`` full,
        ``(n_features, n_features)`` tied, ``(n_components, n_features)`` diag,
        ``(n_components,)`` spherical.
    means_, covars_ : ndarray
        The means and covariances at the posterior (what inference uses).
    startprob_posterior_, transmat_posterior_, monitor_
        As in :class:`VariationalCategoricalHMM`.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> rng = np.random.RandomState(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 1)), rng.normal(6, 1, (100, 1))])
    >>> model = th.VariationalGaussianHMM(2, random_state=0, n_iter=50).fit(X)
    >>> sorted(round(float(m)) for m in model.means_posterior_[:, 0])
    [0, 6]
    """

    _point_names = ("means_", "_covars_")

    def __init__(self, n_components: int = 1, covariance_type: str = "full",
                 startprob_prior: ArrayLike | None = None,
                 transmat_prior: ArrayLike | None = None,
                 means_prior: ArrayLike | None = None, beta_prior: ArrayLike | None = None,
                 dof_prior: ArrayLike | None = None, scale_prior: ArrayLike | None = None,
                 algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 100,
                 tol: float = 1e-6, verbose: bool = False, params: str = "stmc",
                 init_params: str = "stmc", implementation: str = "log", *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | None = None) -> None:
        self._set_shared(n_components, startprob_prior, transmat_prior, algorithm,
                         random_state, n_iter, tol, verbose, params, init_params,
                         implementation, emission_groups, transition_groups)
        self.covariance_type = covariance_type
        self.means_prior = means_prior
        self.beta_prior = beta_prior
        self.dof_prior = dof_prior
        self.scale_prior = scale_prior

    @property
    def covars_(self) -> np.ndarray:
        """Covariances at the posterior as full matrices ``(N, D, D)``."""
        return self._full(np.asarray(self._covars_, dtype=float))

    @covars_.setter
    def covars_(self, covars: ArrayLike) -> None:
        self._covars_ = np.array(covars, dtype=float)

    def _full(self, value: np.ndarray) -> np.ndarray:
        """A covariance-shaped array as ``(N, D, D)`` matrices."""
        N, D = self.n_components, int(self.n_features)
        if self.covariance_type == "full":
            return value
        full: np.ndarray
        if self.covariance_type == "tied":
            full = np.broadcast_to(value, (N, D, D)).copy()
        elif self.covariance_type == "diag":
            full = value[:, :, None] * np.eye(D)
        else:
            full = value.reshape(N)[:, None, None] * np.eye(D)
        return full

    # -- data --------------------------------------------------------------------------
    def _prepared(self, X: Any) -> np.ndarray:
        values = np.asarray(X, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[0] == 0:
            raise InvalidDataError(f"X must have shape (n_samples, n_features), got "
                                   f"{values.shape}")
        if not np.all(np.isfinite(values)):
            row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
            raise InvalidDataError(f"X holds NaN or inf at row {row} (variational fitting "
                                   f"has no missing values)")
        return values

    def _check_and_set_n_features(self, X: np.ndarray) -> None:
        if getattr(self, "n_features", None) is None:
            self.n_features = X.shape[1]
        elif self.n_features != X.shape[1]:
            raise InvalidDataError(f"X has {X.shape[1]} features; the model has "
                                   f"{self.n_features}")

    def _check_covariance_type(self) -> None:
        if self.covariance_type not in COVARIANCE_TYPES:
            raise InvalidDataError(f"covariance_type must be one of {COVARIANCE_TYPES}, "
                                   f"got {self.covariance_type!r}")

    def _scale_shape(self) -> tuple[int, ...]:
        N, D = self.n_components, int(self.n_features)
        return {"full": (N, D, D), "tied": (D, D), "diag": (N, D),
                "spherical": (N,)}[self.covariance_type]

    # -- initialisation and checks --------------------------------------------------------
    def _init_emissions(self, X: np.ndarray, lengths: Sequence[int] | np.ndarray) -> None:
        """hmmlearn's start: k-means centres (one per emission group) for the means,
        cluster sizes for ``beta`` and ``dof``, the data's covariance for the scales."""
        self._check_covariance_type()
        init_means = self._needs_init_any("m", ("means_prior_", "means_posterior_",
                                                "beta_prior_", "beta_posterior_"))
        init_covars = self._needs_init_any("c", ("dof_prior_", "dof_posterior_",
                                                 "scale_prior_", "scale_posterior_"))
        if not (init_means or init_covars):
            return
        N, D = self.n_components, int(self.n_features)
        labels = self._emission_labels()
        n_groups = int(labels.max()) + 1
        centres, members = kmeans(X, n_groups, check_random_state(self.random_state))
        # cluster sizes (an emptied cluster counts one frame, so its posterior is proper)
        counts = np.maximum(np.bincount(members, minlength=n_groups), 1)[labels].astype(float)
        if init_means:
            self.means_prior_ = np.array(np.broadcast_to(
                X.mean(axis=0) if self.means_prior is None else self.means_prior, (N, D)),
                dtype=float)
            self.means_posterior_ = centres[labels]
            self.beta_prior_ = np.array(np.broadcast_to(
                1.0 if self.beta_prior is None else self.beta_prior, (N,)), dtype=float)
            self.beta_posterior_ = counts.copy()
        if init_covars:
            tied = self.covariance_type == "tied"
            if self.dof_prior is not None:
                self.dof_prior_ = self.dof_prior
            else:
                self.dof_prior_ = float(D) if tied else np.full(N, float(D))
            self.dof_posterior_ = float(counts.sum()) if tied else counts.copy()
            covariance = np.atleast_2d(np.cov(X.T)) + STARTING_COVARIANCE_JITTER * np.eye(D)
            starting = {"full": np.tile(covariance, (N, 1, 1)), "tied": covariance,
                        "diag": np.tile(np.diag(covariance), (N, 1)),
                        "spherical": np.full(N, covariance.mean())}[self.covariance_type]
            default_scale = {"full": np.tile(SCALE_PRIOR * np.eye(D), (N, 1, 1)),
                             "tied": SCALE_PRIOR * np.eye(D),
                             "diag": np.full((N, D), SCALE_PRIOR),
                             "spherical": np.full(N, SCALE_PRIOR)}[self.covariance_type]
            self.scale_prior_ = default_scale if self.scale_prior is None else self.scale_prior
            self.scale_posterior_ = self._times_dof(starting, self.dof_posterior_)
            self._covars_ = starting

    def _times_dof(self, value: np.ndarray, dof: Any) -> np.ndarray:
        """A covariance-shaped array times each state's dof (or the tied one)."""
        dof = np.asarray(dof, dtype=float)
        result: np.ndarray = value * dof.reshape(dof.shape + (1,) * (value.ndim - dof.ndim))
        return result

    def _check_emissions(self) -> None:
        self._check_covariance_type()
        N, D = self.n_components, int(self.n_features)
        labels = self._emission_labels()
        for name, shape in (("means_prior_", (N, D)), ("means_posterior_", (N, D)),
                            ("beta_prior_", (N,)), ("beta_posterior_", (N,))):
            value = checked_shape(getattr(self, name), shape, name)
            if name.startswith("beta"):
                positive(value, name)
            grouped(value, labels, name)
            setattr(self, name, value)
        for name in ("dof_prior_", "dof_posterior_"):
            dof: Any = getattr(self, name)
            if self.covariance_type == "tied":
                if not isinstance(dof, numbers.Number):
                    raise InvalidDataError(f"{name} must be one number for tied "
                                           f"covariances, got {dof!r}")
                dof = float(np.asarray(dof))
            else:
                dof = checked_shape(dof, (N,), name)
                grouped(dof, labels, name)
            if not np.all(np.asarray(dof) > D - 1):
                raise InvalidDataError(f"{name} must exceed n_features - 1 = {D - 1}, "
                                       f"got {dof!r}")
            setattr(self, name, dof)
        for name in ("scale_prior_", "scale_posterior_"):
            value = checked_shape(getattr(self, name), self._scale_shape(), name)
            if self.covariance_type != "tied":
                grouped(value, labels, name)
            setattr(self, name, value)

    # -- the posteriors by group ------------------------------------------------------
    def _normal_groups(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(means (G, D), beta (G,))`` of the prior or the posterior."""
        labels = self._emission_labels()
        return (grouped(getattr(self, f"means_{which}_"), labels, f"means_{which}_"),
                grouped(getattr(self, f"beta_{which}_"), labels, f"beta_{which}_"))

    def _wishart_groups(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(dof (G,), scale (G, D, D))`` of the prior or the posterior, every group's
        Wishart as full matrices (tied: the shared one, repeated)."""
        labels = self._emission_labels()
        n_groups = int(labels.max()) + 1
        dof, scale = getattr(self, f"dof_{which}_"), getattr(self, f"scale_{which}_")
        if self.covariance_type == "tied":
            D = int(self.n_features)
            return (np.full(n_groups, float(dof)),
                    np.broadcast_to(np.asarray(scale, dtype=float), (n_groups, D, D)))
        full = self._full(np.asarray(scale, dtype=float))
        return grouped(dof, labels, f"dof_{which}_"), grouped(full, labels, f"scale_{which}_")

    def _expected_log_table(self, X: np.ndarray) -> np.ndarray:
        means, beta = self._normal_groups("posterior")
        dof, scale = self._wishart_groups("posterior")
        return np.ascontiguousarray(expected_gaussian_log_density(X, means, beta, dof, scale))

    def _emission_divergence(self) -> float:
        means, beta = self._normal_groups("posterior")
        prior_means, prior_beta = self._normal_groups("prior")
        dof, scale = self._wishart_groups("posterior")
        prior_dof, prior_scale = self._wishart_groups("prior")
        normal = kl_normal_given_precision(means, beta, prior_means, prior_beta, dof, scale)
        wishart = kl_wishart(dof, scale, prior_dof, prior_scale)
        shared = wishart[:1] if self.covariance_type == "tied" else wishart
        return float(normal.sum() + shared.sum())

    def _emission_statistics(self, X: np.ndarray, occupancy: np.ndarray
                             ) -> dict[str, np.ndarray]:
        stats = {"weight": occupancy.sum(axis=0), "sum": occupancy.T @ X}
        if self.covariance_type in ("full", "tied"):
            stats["outer"] = np.stack([(X * column[:, None]).T @ X for column in occupancy.T])
        else:
            stats["squares"] = occupancy.T @ (X * X)
        return stats

    def _update_emissions(self, stats: dict[str, np.ndarray]) -> None:
        """hmmlearn's updates, on pooled group statistics:
        ``beta = beta0 + n``, ``m = (beta0 m0 + sum x) / beta``, ``dof = dof0 + n`` and
        ``scale = scale0 + sum x x' + beta0 m0 m0' - beta m m'`` (diag: the diagonal;
        spherical: its mean; tied: summed over groups)."""
        labels = self._emission_labels()
        prior_means, prior_beta = self._normal_groups("prior")
        if "m" in self.params:
            beta = prior_beta + stats["weight"]
            means = (prior_beta[:, None] * prior_means + stats["sum"]) / beta[:, None]
            self.beta_posterior_ = beta[labels]
            self.means_posterior_ = means[labels]
        if "c" not in self.params:
            return
        means, beta = self._normal_groups("posterior")
        kind = self.covariance_type
        if kind in ("full", "tied"):
            spread = (stats["outer"] + np.einsum("g,gi,gj->gij", prior_beta, prior_means,
                                                 prior_means)
                      - np.einsum("g,gi,gj->gij", beta, means, means))
        else:
            spread = stats["squares"] + prior_beta[:, None] * prior_means ** 2 \
                - beta[:, None] * means ** 2
        if kind == "tied":
            self.dof_posterior_ = float(np.asarray(self.dof_prior_)) + float(stats["weight"].sum())
            self.scale_posterior_ = np.asarray(self.scale_prior_) + spread.sum(axis=0)
            return
        prior_dof = grouped(self.dof_prior_, labels, "dof_prior_")
        prior_scale = grouped(self.scale_prior_, labels, "scale_prior_")
        self.dof_posterior_ = (prior_dof + stats["weight"])[labels]
        own = spread.mean(axis=1) if kind == "spherical" else spread
        self.scale_posterior_ = (prior_scale + own)[labels]

    def _point_arrays(self) -> dict[str, np.ndarray]:
        if not hasattr(self, "scale_posterior_"):
            return {}
        return {"means_": np.array(self.means_posterior_, dtype=float),
                "_covars_": self._times_dof(np.asarray(self.scale_posterior_, dtype=float),
                                            1.0 / np.asarray(self.dof_posterior_, dtype=float))}

    def _new_point_estimate(self) -> GaussianHMM:
        return GaussianHMM(self.n_components, covariance_type=self.covariance_type,
                           emission_groups=self.emission_groups,
                           transition_groups=self.transition_groups,
                           algorithm=self.algorithm, random_state=self.random_state,
                           params="", init_params="", implementation=self.implementation)
