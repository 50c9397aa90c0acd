"""Gaussian mixture emissions: ``n_mix`` weighted Gaussian components per group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._kernels.emissions import logsumexp_components
from ..errors import InvalidDataError
from ..io.records import group_kind
from ..parameters import Stats, array, listed, required
from . import missing
from .base import shared_work
from .gaussian import (
    ContinuousEmission,
    check_gaussian,
    component_log_table,
    component_moments,
    covariance_about,
    data_covariance,
    floored,
    kmeans,
    per_feature_weight,
    record_floor,
    sample_gaussian,
)
from .priors import DirichletPrior, NormalPrior, dirichlet_update, prior_record, read_prior

if TYPE_CHECKING:
    from typing_extensions import Self

#: Where the M-step centres the covariances: the new means, or the E-step's.
SCATTER_CENTRES = ("new", "previous")


@group_kind("gmm")
class GMMEmission(ContinuousEmission):
    """A mixture ``sum_k w_k N(mean_k, covar_k)``, shared by its states.

    Unset parameters (None) are initialised in ``fit``: the data are split by k-means
    into one cluster per unset group and each cluster by k-means into ``n_mix`` centres;
    covariances start at the data's covariance plus ``covar_floor``; weights uniform.
    The M-step is maximum likelihood with variances (diag, spherical: their mean) or
    eigenvalues (full, tied: of the scatter pooled over the components) floored at
    ``covar_floor``, covariances centred at the new means (``scatter_about="new"``) or,
    as hmmlearn's ``GMMHMM`` does, at the means the E-step used (``"previous"``).

    Parameters
    ----------
    weights : array of shape (n_mix,), optional
        Mixture weights.
    means : array of shape (n_mix, n_features), optional
        Component means.
    covars : array, optional
        ``(n_mix,)`` (spherical), ``(n_mix, D)`` (diag), ``(n_mix, D, D)`` (full) or one
        ``(D, D)`` matrix shared by the components (tied, as hmmlearn's).
    n_mix, n_features : int, optional
        Sizes, needed when the arrays are None.
    covariance : {"spherical", "diag", "full", "tied"}, default "diag"
        The covariances' form.
    covar_floor : float, default 1e-3
        The floor of every variance (or eigenvalue) in every M-step.
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.
    weights_prior : DirichletPrior, optional
        A prior on the weights.
    prior : NormalPrior, optional
        One row per component (for tied, ``scale`` and ``dof`` are the shared matrix's).
    scatter_about : {"new", "previous"}, default "new"
        The means the M-step centres the covariances at: the new ones (the exact
        M-step) or the previous ones (hmmlearn's update).

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        Shapes that do not agree, or weights that are not a distribution.

    Examples
    --------
    >>> import tiedhmm as th
    >>> mixture = th.GMMEmission(n_mix=2, n_features=13, name="vowel")
    >>> mixture.is_initialized()
    False
    """

    param_letters = "wmc"

    def __init__(self, weights: np.ndarray | None = None, means: np.ndarray | None = None,
                 covars: np.ndarray | None = None, *, n_mix: int | None = None,
                 n_features: int | None = None, covariance: str = "diag",
                 covar_floor: float = 1e-3, name: str | None = None,
                 trainable: bool = True, weights_prior: DirichletPrior | None = None,
                 prior: NormalPrior | None = None, scatter_about: str = "new") -> None:
        super().__init__(covariance=covariance, covar_floor=covar_floor, name=name,
                         trainable=trainable)
        if scatter_about not in SCATTER_CENTRES:
            raise InvalidDataError(f"scatter_about must be one of {SCATTER_CENTRES}, got "
                                   f"{scatter_about!r}")
        self.scatter_about = scatter_about
        self.weights_prior, self.prior = weights_prior, prior
        self.weights = None if weights is None else np.array(weights, dtype=float)
        self.means = None if means is None else np.array(means, dtype=float)
        self.covars = None if covars is None else np.array(covars, dtype=float)
        per_component = (self.weights, "weights"), (self.means, "means"), (
            None if covariance == "tied" else self.covars, "covars")
        for value, what in per_component:
            if value is not None:
                n_mix = self._consistent(n_mix, value.shape[0], "n_mix", what)
        for value, what in ((self.means, "means"), (self.covars, "covars")):
            if value is not None and value.ndim >= 2:
                n_features = self._consistent(n_features, value.shape[-1], "n_features", what)
        if n_mix is None or int(n_mix) < 1:
            raise InvalidDataError(f"{self!r}: give weights, means, covars or a positive n_mix")
        if n_features is None or int(n_features) < 1:
            raise InvalidDataError(f"{self!r}: give means, covars or a positive n_features")
        self.n_mix, self.n_features = int(n_mix), int(n_features)
        self._check_parameters()

    def _consistent(self, expected: int | None, found: int, what: str, source: str) -> int:
        if expected is not None and int(expected) != found:
            raise InvalidDataError(f"{self!r}: {source} gives {what}={found} but {what}={expected}")
        return found

    def _check_parameters(self) -> None:
        w = self.weights
        if w is not None and (w.shape != (self.n_mix,) or np.any(w < 0)
                              or abs(w.sum() - 1.0) > 1e-8):
            raise InvalidDataError(f"{self!r}: weights must be {self.n_mix} non-negative numbers "
                                   f"summing to 1, got {w}")
        covars = self.component_covars()
        for k in range(self.n_mix):
            check_gaussian(self, None if self.means is None else self.means[k],
                           None if covars is None else covars[k],
                           self.density_covariance, self.n_features)

    @property
    def exact_m_step(self) -> bool:  # type: ignore[override]
        """Centring the covariances at the previous means is not the exact M-step."""
        return self.scatter_about == "new"

    def current(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights, means and covariances; an error while any is unset."""
        return (required(self.weights, f"{self!r} weights"),
                required(self.means, f"{self!r} means"),
                required(self.covars, f"{self!r} covars"))

    def component_covars(self) -> np.ndarray | None:
        """Each component's covariance, ``(n_mix, ...)`` (the tied matrix repeated)."""
        if self.covars is None or self.covariance != "tied":
            return self.covars
        return np.broadcast_to(self.covars, (self.n_mix, *self.covars.shape))

    def batch_key(self) -> tuple[Any, ...]:
        return (*super().batch_key(), self.n_mix)

    def is_initialized(self) -> bool:
        return not any(value is None for value in (self.weights, self.means, self.covars))

    @classmethod
    def initialize(cls, groups: Sequence[Self], X: np.ndarray,
                   rng: np.random.RandomState) -> None:
        X = missing.filled_with_column_means(X)
        need_means = [group for group in groups if group.means is None]
        if need_means:
            n_mix = need_means[0].n_mix
            if X.shape[0] < len(need_means) * n_mix:
                raise InvalidDataError(f"k-means initialisation needs at least "
                                       f"{len(need_means) * n_mix} observations, got {X.shape[0]}")
            _, labels = kmeans(X, len(need_means), rng)
            for index, group in enumerate(need_means):
                cluster = X[labels == index]
                if cluster.shape[0] < n_mix:
                    cluster = X
                group.means, _ = kmeans(cluster, n_mix, rng)
        covariance = data_covariance(X)
        for group in groups:
            if group.weights is None:
                group.weights = np.full(group.n_mix, 1.0 / group.n_mix)
            if group.covars is None:
                start = group.starting_covar(covariance)
                group.covars = start if group.covariance == "tied" else \
                    np.stack([start] * group.n_mix)

    @classmethod
    def _weighted_components(cls, groups: Sequence[Self], X: np.ndarray) -> np.ndarray:
        """``(T, G, n_mix)`` log of ``w_k N(x_t; mean_k, covar_k)`` for every group, once
        per E-step (the emission table and the statistics both read it)."""
        key = ("gmm components", id(X), tuple(id(group) for group in groups))
        return shared_work(key, lambda: cls._component_table(groups, X))

    @classmethod
    def _component_table(cls, groups: Sequence[Self], X: np.ndarray) -> np.ndarray:
        means = np.concatenate([group.current()[1] for group in groups])
        covars = np.concatenate([required(group.component_covars(), f"{group!r} covars")
                                 for group in groups])
        table = component_log_table(X, means, covars, groups[0].density_covariance)
        with np.errstate(divide="ignore"):
            log_weights = np.log(np.concatenate([group.current()[0] for group in groups]))
        weighted: np.ndarray = (table + log_weights).reshape(X.shape[0], len(groups),
                                                             groups[0].n_mix)
        return weighted

    @classmethod
    def log_likelihood_table(cls, groups: Sequence[Self], X: np.ndarray) -> np.ndarray:
        table: np.ndarray = logsumexp_components(cls._weighted_components(groups, X))
        return table

    @classmethod
    def statistics(cls, groups: Sequence[Self], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        """Moments of each component, weighted by group occupancy times the component's
        posterior given the group."""
        components = cls._weighted_components(groups, X)
        with np.errstate(invalid="ignore"):
            responsibility = np.exp(components - logsumexp_components(components)[:, :, None])
        responsibility = np.nan_to_num(responsibility) * weights[:, :, None]
        n_mix = groups[0].n_mix
        totals, observed, sums, squares = component_moments(
            X, responsibility.reshape(X.shape[0], -1), groups[0].density_covariance,
            lambda: (np.concatenate([group.current()[1] for group in groups]),
                     np.concatenate([required(group.component_covars(), f"{group!r} covars")
                                     for group in groups])))
        stats = []
        for g in range(len(groups)):
            rows = slice(g * n_mix, (g + 1) * n_mix)
            stats.append({"weight": np.array(totals[rows].sum()), "mix": totals[rows],
                          "sum": sums[rows], "squares": squares[rows]})
            if observed is not None:
                stats[-1]["observed"] = observed[rows]
        return stats

    def m_step(self, stats: Stats, params: str) -> None:
        weight = float(stats["weight"])
        if weight <= 0:
            return
        mix, prior = stats["mix"], self.prior
        if "w" in params:
            weights = dirichlet_update(mix, self.weights_prior)
            self.weights = self.weights if weights is None else weights
        used = np.flatnonzero(mix > 0).tolist()
        previous_means = self.current()[1].copy()
        # each component's occupancy per feature (diag, spherical) or in all
        per_feature = stats.get("observed", mix[:, None])
        if "m" in params:
            fitted = self.current()[1].copy()
            with np.errstate(invalid="ignore", divide="ignore"):  # unused components stay
                means = stats["sum"] / per_feature if prior is None else \
                    prior.mean_update(per_feature, stats["sum"])
            fitted[used] = np.where(per_feature[used] > 0, means[used], fitted[used])
            self.means = fitted
        component_means = self.current()[1]
        if "c" in params:
            centres = component_means if self.scatter_about == "new" else previous_means
            component_stats = {k: {"weight": mix[k], "sum": stats["sum"][k],
                                   "squares": stats["squares"][k]} for k in used}
            if "observed" in stats:
                for k in used:
                    component_stats[k]["observed"] = stats["observed"][k]
            occupancy = {k: per_feature_weight(component_stats[k]) for k in used}
            with np.errstate(invalid="ignore", divide="ignore"):
                scatters = {k: occupancy[k] * covariance_about(
                    component_stats[k], centres[k], self.density_covariance) for k in used}
            if self.covariance == "tied":  # the scatter pooled over the components
                scatter, total = sum(scatters.values()), mix[used].sum()
                covar = scatter / total if prior is None else self._tied_prior(
                ).covariance_update(scatter, total, np.zeros(self.n_features), "full")
                self.covars = floored(covar, "full", self.covar_floor)
            else:
                covars = self.current()[2].copy()
                for k, scatter in scatters.items():
                    with np.errstate(invalid="ignore", divide="ignore"):
                        covar = scatter / occupancy[k] if prior is None else prior.component(
                            k).covariance_update(scatter, occupancy[k], component_means[k],
                                                 self.covariance)
                    if self.covariance == "diag":  # a feature no frame observes keeps its
                        covar = np.where(occupancy[k] > 0, covar, covars[k])  # variance
                    if np.all(np.isfinite(covar)):
                        covars[k] = floored(covar, self.covariance, self.covar_floor)
                self.covars = covars

    def _tied_prior(self) -> NormalPrior:
        """The shared matrix's prior with every component's mean term in its scale."""
        prior = self.prior
        if prior is None:
            raise InvalidDataError(f"{self!r} has no prior")
        terms = prior.mean_term(self.current()[1], "full").sum(axis=0)
        return NormalPrior(np.zeros(self.n_features), np.asarray(0.0), prior.scale + terms,
                           prior.dof)

    def log_prior(self) -> float:
        if not self.is_initialized():
            return 0.0
        weights, means, covars = self.current()
        total = 0.0 if self.weights_prior is None else \
            self.weights_prior.log_density(weights)
        prior = self.prior
        if prior is None:
            return total
        if self.covariance == "tied":
            return total + self._tied_prior().log_density(np.zeros(self.n_features),
                                                          covars, "full")
        return total + float(sum(prior.component(k).log_density(
            means[k], covars[k], self.covariance) for k in range(self.n_mix)))

    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        weights, means, _ = self.current()
        covars = required(self.component_covars(), f"{self!r} covars")
        chosen = rng.choice(self.n_mix, size=n, p=weights)
        out = np.empty((n, self.n_features))
        for k in range(self.n_mix):
            rows = chosen == k
            out[rows] = sample_gaussian(rng, means[k], covars[k], self.density_covariance,
                                        int(rows.sum()))
        return out

    def free_parameters(self, params: str) -> int:
        covariances = 1 if self.covariance == "tied" else self.n_mix
        return (("w" in params) * (self.n_mix - 1) + ("m" in params) * self.n_mix
                * self.n_features + ("c" in params) * covariances * self.covariance_size())

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return self.weights, self.means, self.covars

    def to_record(self) -> dict[str, Any]:
        return {"covariance": self.covariance, "covar_floor": self.covar_floor,
                "n_mix": self.n_mix, "n_features": self.n_features,
                "weights": listed(self.weights), "means": listed(self.means),
                "covars": listed(self.covars), "prior": prior_record(self.prior),
                "weights_prior": prior_record(self.weights_prior),
                "scatter_about": self.scatter_about}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> GMMEmission:
        return cls(array(record["weights"]), array(record["means"]), array(record["covars"]),
                   n_mix=record["n_mix"], n_features=record["n_features"],
                   covariance=record["covariance"], covar_floor=record_floor(record), name=name,
                   trainable=trainable, prior=read_prior(NormalPrior, record),
                   weights_prior=read_prior(DirichletPrior, record, "weights_prior"),
                   scatter_about=record.get("scatter_about", "new"))
