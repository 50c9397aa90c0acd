"""Gaussian emissions: spherical, diagonal, full or tied covariances, a ``covar_floor`` floor.

A tied covariance is one :class:`SharedCovariance` group held by several Gaussians
(hmmlearn's ``"tied"``); it is a part of each, fitted, counted and saved once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._kernels.emissions import (
    exponentiated,
    gaussian_diag_log_table,
    gaussian_diag_shifted,
    weighted_moments,
)
from ..errors import InvalidDataError
from ..io.records import group_kind
from ..parameters import ParameterGroup, Stats, array, listed, required
from . import missing
from .base import EmissionGroup, n_blocks
from .priors import NormalPrior, log_prior_of, prior_record, read_prior

if TYPE_CHECKING:
    from typing_extensions import Self

COVARIANCE_TYPES = ("spherical", "diag", "full", "tied")
_LOG_2PI = np.log(2 * np.pi)
KMEANS_RESTARTS = 10
KMEANS_MAX_ITER = 300
KMEANS_TOLERANCE = 1e-4


class ContinuousEmission(EmissionGroup):
    """What the Gaussian families share: feature vectors of ``n_features`` (set by the
    subclass), a covariance type and the ``covar_floor`` floor."""

    n_features: int

    def __init__(self, *, covariance: str, covar_floor: float, name: str | None,
                 trainable: bool) -> None:
        super().__init__(name=name, trainable=trainable)
        if covariance not in COVARIANCE_TYPES:
            raise InvalidDataError(f"{self!r}: covariance must be one of "
                                   f"{COVARIANCE_TYPES}, got {covariance!r}")
        number = isinstance(covar_floor, (int, float, np.integer, np.floating)) \
            and not isinstance(covar_floor, bool)
        if not number or not float(covar_floor) >= 0:
            raise InvalidDataError(f"{self!r}: covar_floor must be a number >= 0, got "
                                   f"{covar_floor!r}")
        self.covariance = covariance
        self.covar_floor = float(covar_floor)

    def observation_kind(self) -> tuple[Any, ...]:
        return ("continuous", self.n_features)

    def batch_key(self) -> tuple[Any, ...]:
        return (*super().batch_key(), self.covariance)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return prepare_features(X, self.n_features)

    @property
    def density_covariance(self) -> str:
        """The covariance type of one density (a tied matrix is a full one)."""
        return "full" if self.covariance == "tied" else self.covariance

    def covariance_size(self) -> int:
        """Free scalars of one covariance of this family's type."""
        d = self.n_features
        sizes = {"spherical": 1, "diag": d}
        return sizes.get(self.covariance, d * (d + 1) // 2)  # full, tied

    def starting_covar(self, data_covariance: np.ndarray) -> np.ndarray:
        """The data's covariance plus ``covar_floor``, in this family's covariance shape."""
        full = data_covariance + self.covar_floor * np.eye(self.n_features)
        if self.covariance == "spherical":
            return np.array(np.diag(full).mean())
        start: np.ndarray = np.diag(full).copy() if self.covariance == "diag" else full
        return start  # (full and tied: the matrix)


def kmeans(X: np.ndarray, k: int, rng: np.random.RandomState,
           n_init: int = KMEANS_RESTARTS) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(k, D)`` and labels of the best of ``n_init`` seeded k-means++ runs (the
    least within-cluster sum of squares), each run to convergence, as hmmlearn's
    ``KMeans(n_init=10)`` start: unconverged or single runs depend on the order of the
    data."""
    from scipy.cluster.vq import kmeans2  # here, not at import: it takes 0.15 s
    X = np.asarray(X, dtype=float)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(n_init):
        with warnings.catch_warnings():  # duplicate points may leave a seed unused
            warnings.simplefilter("ignore")
            seeds, _ = kmeans2(X, k, minit="++", seed=rng, iter=1)
        centres, labels = _lloyd(X, seeds)
        inertia = float(((X - centres[labels]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, centres, labels)
    if best is None:
        raise InvalidDataError(f"k-means needs at least one run, got n_init={n_init}")
    return best[1], best[2]


def _lloyd(X: np.ndarray, centres: np.ndarray, max_iter: int = KMEANS_MAX_ITER
           ) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's iterations until the centres move less than scikit-learn's tolerance
    (1e-4 of the mean feature variance, squared shift summed); an emptied cluster
    keeps its centre."""
    from scipy.cluster.vq import vq
    tolerance = KMEANS_TOLERANCE * float(np.mean(np.var(X, axis=0)))
    columns = np.ascontiguousarray(X.T)
    for _ in range(max_iter):
        labels, _ = vq(X, centres)
        counts = np.bincount(labels, minlength=len(centres))
        sums = np.stack([np.bincount(labels, weights=column, minlength=len(centres))
                         for column in columns], axis=1)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
        shift, centres = float(((moved - centres) ** 2).sum()), moved
        if shift <= tolerance:
            break
    return centres, vq(X, centres)[0]


def data_covariance(X: np.ndarray) -> np.ndarray:
    """``(D, D)`` covariance of the observations (identity for a single one)."""
    return np.atleast_2d(np.cov(X.T)) if X.shape[0] > 1 else np.eye(X.shape[1])


@group_kind("covariance")
class SharedCovariance(ParameterGroup):
    """One full covariance shared by several Gaussian groups (hmmlearn's ``"tied"``):
    the groups keep their own means and read this matrix. Its statistics are the pooled
    weight and the scatter of each group's data about that group's mean; a group whose
    M-step moves its mean from ``a`` to ``b`` adds the change of its scatter
    (``w (b b^T - a a^T) - s d^T - d s^T``, ``d = b - a``), so this M-step, run after
    its holders', is the pooled scatter about every group's fitted mean. Under a
    ``prior`` (a :class:`NormalPrior` whose ``scale`` and ``dof`` are the covariance's;
    the holders add their own mean terms) the update is MAP."""

    param_letters = "mc"

    def __init__(self, covar: np.ndarray | None = None, *, n_features: int,
                 covar_floor: float = 1e-3, name: str | None = None,
                 trainable: bool = True, prior: NormalPrior | None = None) -> None:
        super().__init__(name=name, trainable=trainable)
        self.prior = prior
        self.n_features = int(n_features)
        self.covar_floor = float(covar_floor)
        self.covar = None if covar is None else np.array(covar, dtype=float)
        check_gaussian(self, None, self.covar, "full", self.n_features)
        self._shift = np.zeros((self.n_features, self.n_features))

    def add_shift(self, stats: Stats, old: np.ndarray, new: np.ndarray) -> None:
        """A holder moved its mean from ``old`` to ``new``: its scatter changes by this."""
        cross = np.outer(stats["sum"], new - old)
        self._shift += (float(stats["weight"]) * (np.outer(new, new) - np.outer(old, old))
                        - cross - cross.T)

    def add_prior_term(self, term: np.ndarray) -> None:
        """A holder's mean-prior term ``w (mean - m)(mean - m)^T`` (and the spread of the
        priors it pooled) joins the scatter."""
        self._shift += term

    def batch_key(self) -> tuple[Any, ...]:
        return (type(self), self.n_features)

    def m_step(self, stats: Stats, params: str) -> None:
        if "c" in params and stats["weight"] > 0:
            scatter, weight = stats["scatter"] + self._shift, float(stats["weight"])
            covar = scatter / weight if self.prior is None else \
                self.prior.covariance_update(scatter, weight, np.zeros(self.n_features), "full")
            self.covar = floored(covar, "full", self.covar_floor)
        self._shift = np.zeros((self.n_features, self.n_features))

    def log_prior(self) -> float:
        return log_prior_of(self.prior, np.zeros(self.n_features), self.covar, "full")

    def free_parameters(self, params: str) -> int:
        return self.n_features * (self.n_features + 1) // 2 if "c" in params else 0

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return (self.covar,)

    def to_record(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "covar_floor": self.covar_floor,
                "covar": listed(self.covar), "prior": prior_record(self.prior)}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> SharedCovariance:
        return cls(array(record["covar"]), n_features=record["n_features"],
                   covar_floor=record_floor(record), name=name, trainable=trainable,
                   prior=read_prior(NormalPrior, record))


@group_kind("gaussian")
class GaussianEmission(ContinuousEmission):
    """A multivariate normal ``N(mean, covar)``, shared by its states.

    The M-step floors variances (diag) or eigenvalues (full) at ``covar_floor``, which
    is the constrained maximum-likelihood update; the spherical variance is the mean of
    the diagonal ones (hmmlearn's update). With a tied covariance a prior's mean terms
    go to the shared matrix.

    Parameters
    ----------
    mean : array of shape (n_features,), optional
        None: set in ``fit`` by k-means over the data (one centre per unset group).
    covar : array or SharedCovariance, optional
        One variance (spherical, a 0-d array), ``(D,)`` variances (diag) or a ``(D, D)``
        matrix (full); for ``"tied"`` a :class:`~tiedhmm.emissions.gaussian.SharedCovariance`
        to share with other groups (an array or None makes a new one). None: the data's
        covariance plus ``covar_floor``.
    n_features : int, optional
        The dimension (needed when ``mean`` is None).
    covariance : {"spherical", "diag", "full", "tied"}, default "diag"
        The covariance's form.
    covar_floor : float, default 1e-3
        The floor of every variance (or eigenvalue) in every M-step.
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.
    prior : NormalPrior, optional
        Pseudo-observations of the mean and covariance, for MAP updates.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        Shapes that do not agree, or a covariance that is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> silence = th.GaussianEmission(np.zeros(2), np.ones(2), name="silence")
    >>> silence.mean.tolist(), silence.covariance
    ([0.0, 0.0], 'diag')
    """

    param_letters = "mc"

    def __init__(self, mean: np.ndarray | None = None,
                 covar: np.ndarray | SharedCovariance | None = None, *,
                 n_features: int | None = None, covariance: str = "diag",
                 covar_floor: float = 1e-3, name: str | None = None,
                 trainable: bool = True, prior: NormalPrior | None = None) -> None:
        super().__init__(covariance=covariance, covar_floor=covar_floor, name=name,
                         trainable=trainable)
        self.prior = prior
        shared = covar if isinstance(covar, SharedCovariance) else None
        matrix = None if shared is not None or covar is None else np.array(covar, dtype=float)
        if shared is not None and covariance != "tied":
            raise InvalidDataError(f"{self!r}: a SharedCovariance needs covariance='tied'")
        if mean is not None:
            mean = np.array(mean, dtype=float)
            n_features = _consistent(self, n_features, mean.shape[-1], "mean")
        if shared is not None:
            n_features = _consistent(self, n_features, shared.n_features, "covar")
        elif matrix is not None and covariance != "spherical" and matrix.ndim:
            n_features = _consistent(self, n_features, matrix.shape[-1], "covar")
        if n_features is None or int(n_features) < 1:
            raise InvalidDataError(f"{self!r}: give mean, covar or a positive n_features")
        self.n_features = int(n_features)
        self.mean = mean
        if covariance == "tied":
            self.shared = shared or SharedCovariance(matrix, n_features=self.n_features,
                                                     covar_floor=self.covar_floor)
        else:
            self._covar = matrix
        self._check_parameters()

    @property
    def covar(self) -> np.ndarray | None:
        """The covariance in this group's type's shape (tied: the shared matrix)."""
        return self.shared.covar if self.covariance == "tied" else self._covar

    @covar.setter
    def covar(self, value: np.ndarray | None) -> None:
        if self.covariance == "tied":
            self.shared.covar = value
        else:
            self._covar = value

    def parts(self) -> tuple[ParameterGroup, ...]:
        return (self.shared,) if self.covariance == "tied" else ()

    def part_statistics(self, stats: Stats) -> list[tuple[ParameterGroup, Stats]]:
        """The tied covariance's share: this group's weight and its scatter about its
        current mean (both add up across chunks and groups)."""
        if self.covariance != "tied" or not stats["weight"] > 0:
            return []
        scatter = float(stats["weight"]) * covariance_about(stats, self.current_mean(), "full")
        return [(self.shared, {"weight": stats["weight"], "scatter": scatter})]

    def _check_parameters(self) -> None:
        check_gaussian(self, self.mean, self.covar, self.density_covariance, self.n_features)

    def current_mean(self) -> np.ndarray:
        """The mean; an error while it is unset."""
        return required(self.mean, f"{self!r} mean")

    def current_covar(self) -> np.ndarray:
        """The covariance in its type's shape; an error while it is unset."""
        return required(self.covar, f"{self!r} covar")

    def is_initialized(self) -> bool:
        return self.mean is not None and self.covar is not None

    @classmethod
    def initialize(cls, groups: Sequence[Self], X: np.ndarray,
                   rng: np.random.RandomState) -> None:
        X = missing.filled_with_column_means(X)
        need_mean = [group for group in groups if group.mean is None]
        if need_mean:
            if X.shape[0] < len(need_mean):
                raise InvalidDataError(f"k-means initialisation needs at least {len(need_mean)} "
                                       f"observations, got {X.shape[0]}")
            centres, _ = kmeans(X, len(need_mean), rng)
            for group, centre in zip(need_mean, centres):
                group.mean = centre
        covariance = data_covariance(X)
        for group in groups:
            if group.covar is None:
                group.covar = group.starting_covar(covariance)

    @classmethod
    def log_likelihood_table(cls, groups: Sequence[Self],
                             X: np.ndarray) -> np.ndarray:
        return component_log_table(X, np.stack([group.current_mean() for group in groups]),
                                   np.stack([group.current_covar() for group in groups]),
                                   groups[0].density_covariance)

    @classmethod
    def scaled_table(cls, groups: Sequence[Self], X: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Diagonal and spherical densities scaled in the pass that computes them (the
        others, and rows with NaN, through the log table)."""
        covariance = groups[0].density_covariance
        if covariance == "full":
            return super().scaled_table(groups, X)
        means = np.stack([group.current_mean() for group in groups])
        variances = diagonal_variances(np.stack([group.current_covar() for group in groups]),
                                       covariance, X.shape[1])
        shifted, log_shift, has_nan = gaussian_diag_shifted(X, means, variances)
        if has_nan:
            return super().scaled_table(groups, X)
        return exponentiated(shifted), log_shift

    @classmethod
    def statistics(cls, groups: Sequence[Self], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        totals, observed, sums, squares = component_moments(
            X, weights, groups[0].density_covariance,
            lambda: (np.stack([group.current_mean() for group in groups]),
                     np.stack([group.current_covar() for group in groups])))
        stats = [{"weight": np.array(totals[k]), "sum": sums[k], "squares": squares[k]}
                 for k in range(len(groups))]
        if observed is not None:
            for k, group_stats in enumerate(stats):
                group_stats["observed"] = observed[k]
        return stats

    def m_step(self, stats: Stats, params: str) -> None:
        weight = float(stats["weight"])
        if weight <= 0:
            return
        prior = self.prior
        per_feature = per_feature_weight(stats)
        seen = np.asarray(per_feature) > 0  # a feature no frame observes keeps its values
        if "m" in params:
            old = self.current_mean()
            with np.errstate(invalid="ignore", divide="ignore"):
                new = stats["sum"] / per_feature if prior is None else \
                    prior.mean_update(per_feature, stats["sum"])
            self.mean = np.where(seen, new, old)
            if self.covariance == "tied" and self.shared.trainable:  # fitted after holders
                self.shared.add_shift(stats, old, self.current_mean())
        mean = self.current_mean()
        if self.covariance == "tied":
            if prior is not None and self.shared.trainable:
                self.shared.add_prior_term(prior.mean_term(mean, "full") + prior.scale)
        elif "c" in params and np.any(seen):
            with np.errstate(invalid="ignore", divide="ignore"):
                covar = covariance_about(stats, mean, self.covariance)
                if prior is not None:
                    covar = prior.covariance_update(per_feature * covar, per_feature, mean,
                                                    self.covariance)
            if self.covariance == "diag" and not np.all(seen):
                covar = np.where(seen, covar, self.current_covar())
            self.covar = floored(covar, self.covariance, self.covar_floor)

    def log_prior(self) -> float:
        return log_prior_of(self.prior, self.mean, self.covar, self.density_covariance)

    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        return sample_gaussian(rng, self.current_mean(), self.current_covar(),
                               self.density_covariance, n)

    def free_parameters(self, params: str) -> int:
        own_covariance = "c" in params and self.covariance != "tied"  # a part counts itself
        return ("m" in params) * self.n_features + own_covariance * self.covariance_size()

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return self.mean, self.covar

    def to_record(self) -> dict[str, Any]:
        return {"covariance": self.covariance, "covar_floor": self.covar_floor,
                "n_features": self.n_features, "mean": listed(self.mean),
                "covar": None if self.covariance == "tied" else listed(self.covar),
                "prior": prior_record(self.prior)}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None, trainable: bool,
                    parts: Sequence[ParameterGroup] = ()) -> GaussianEmission:
        covar = parts[0] if record["covariance"] == "tied" and parts else \
            array(record["covar"])
        if not (covar is None or isinstance(covar, (np.ndarray, SharedCovariance))):
            raise TypeError(f"a tied Gaussian's part must be a covariance, got {covar!r}")
        return cls(array(record["mean"]), covar, n_features=record["n_features"],
                   covariance=record["covariance"], covar_floor=record_floor(record),
                   name=name, trainable=trainable, prior=read_prior(NormalPrior, record))


def record_floor(record: dict[str, Any]) -> float:
    """A record's variance floor (files written before tiedhmm 0.3 call it min_covar)."""
    return float(record["covar_floor"] if "covar_floor" in record else record["min_covar"])


def _consistent(group: GaussianEmission, n_features: int | None, found: int,
                what: str) -> int:
    if n_features is not None and int(n_features) != found:
        raise InvalidDataError(f"{group!r}: {what} has {found} features but "
                               f"n_features={n_features}")
    return found


def prepare_features(X: np.ndarray, n_features: int) -> np.ndarray:
    """``(T, n_features)`` float observations; a clear error for bad shapes or inf (NaN
    entries are missing values, see :mod:`~tiedhmm.emissions.missing`)."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1 and n_features == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != n_features:
        raise InvalidDataError(f"observations must have shape (n_samples, {n_features}), "
                               f"got {X.shape}")
    if np.isfinite(X.sum()):  # one pass finds the usual case: nothing infinite or NaN
        return X
    bad = np.flatnonzero(np.isinf(X).any(axis=1))
    if bad.size:
        raise InvalidDataError(f"observation {int(bad[0])} holds inf: {X[bad[0]]} (missing "
                               f"values are NaN)")
    return X


def check_gaussian(owner: ParameterGroup, mean: np.ndarray | None, covar: np.ndarray | None,
                   covariance: str, n_features: int) -> None:
    """Raise ValueError, naming ``owner``, unless the set parameters are a valid Gaussian."""
    D = n_features
    if mean is not None and (mean.shape != (D,) or not np.all(np.isfinite(mean))):
        raise InvalidDataError(f"{owner!r}: mean must be {D} finite numbers, got {mean}")
    if covar is None:
        return
    shape = {"spherical": (), "diag": (D,)}.get(covariance, (D, D))
    if covar.shape != shape:
        raise InvalidDataError(f"{owner!r}: {covariance} covar must have shape {shape}, "
                               f"got {covar.shape}")
    if covariance != "full":
        positive = bool(np.all(covar > 0))
    else:
        positive = bool(np.allclose(covar, covar.T)
                        and np.all(np.linalg.eigvalsh(covar) > 0))
    if not positive or not np.all(np.isfinite(covar)):
        raise InvalidDataError(f"{owner!r}: covar must be positive definite, got {covar}")


def component_log_table(X: np.ndarray, means: np.ndarray, covars: np.ndarray,
                        covariance: str) -> np.ndarray:
    """``(T, K)`` log N(x_t; mean_k, covar_k) of ``K`` components of one covariance type
    (of the observed entries, where some are NaN)."""
    if covariance != "full":  # (the kernel finds NaN as it goes: no pass to look first)
        diagonal, has_nan = gaussian_diag_log_table(
            X, means, diagonal_variances(covars, covariance, X.shape[1]))
        if has_nan:
            return missing.log_table(X, means, covars, covariance)
        table: np.ndarray = diagonal
        return table
    if missing.has_missing(X):
        return missing.log_table(X, means, covars, covariance)
    from scipy.linalg import solve_triangular  # here: scipy.linalg takes 0.06 s to import
    D = X.shape[1]
    table = np.empty((X.shape[0], means.shape[0]))
    for k in range(means.shape[0]):
        cholesky = np.linalg.cholesky(covars[k])
        z = solve_triangular(cholesky, (X - means[k]).T, lower=True)
        log_det = 2.0 * np.sum(np.log(np.diag(cholesky)))
        table[:, k] = -0.5 * (D * _LOG_2PI + log_det + np.sum(z ** 2, axis=0))
    return table


def diagonal_variances(covars: np.ndarray, covariance: str, n_features: int) -> np.ndarray:
    """``(K, D)`` variances of ``K`` spherical (one each) or diag covariances."""
    if covariance == "spherical":
        return np.repeat(np.reshape(covars, (-1, 1)), n_features, axis=1)
    return np.ascontiguousarray(covars)


def component_moments(X: np.ndarray, weights: np.ndarray, covariance: str,
                      components: Callable[[], tuple[np.ndarray, np.ndarray]]
                      ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Weighted totals ``(K,)``, per-feature occupancies (``(K, D)`` for spherical and
    diag, else None), sums ``(K, D)`` and squares (``(K, D)`` elementwise for spherical
    and diag, ``(K, D, D)`` outer products for full) of ``K`` weight columns. Missing
    entries (see :mod:`tiedhmm.emissions.missing`): spherical and diag count observed
    entries only; full takes the expectations under each column's component
    (``components()`` gives their means and covariances, asked for only then)."""
    weights = np.ascontiguousarray(weights)
    if covariance == "full" and missing.has_missing(X):
        totals, sums, squares = missing.expected_moments(X, weights, *components())
        return totals, None, sums, squares
    totals, sums, squares = weighted_moments(X, weights, n_blocks(X.shape[0]))
    if np.isnan(sums).any():  # a NaN in X reaches every sum (0 * NaN is NaN)
        return missing.observed_moments(X, weights)
    if covariance == "full":
        squares = np.stack([(X * weights[:, [k]]).T @ X for k in range(weights.shape[1])])
        return totals, None, sums, squares
    return totals, np.repeat(totals[:, None], X.shape[1], axis=1), sums, squares


def per_feature_weight(stats: Stats) -> np.ndarray:
    """The occupancy behind each feature's statistics: ``observed`` (spherical and diag),
    else the total ``weight``."""
    weight: np.ndarray = stats.get("observed", stats["weight"])
    return weight


def covariance_about(stats: Stats, mean: np.ndarray, covariance: str) -> np.ndarray:
    """The weighted covariance about ``mean`` (variances for spherical and diag, each
    over the frames that observe its feature; spherical: one pooled variance per
    feature)."""
    total, squares = stats["sum"], stats["squares"]
    weight = per_feature_weight(stats)
    covar: np.ndarray
    if covariance != "full":
        scatter = squares - 2 * mean * total + mean ** 2 * weight
        if covariance == "spherical":
            return np.full_like(scatter, scatter.sum() / np.sum(weight))
        covar = scatter / weight
    else:
        cross = np.outer(total, mean)
        covar = (squares - cross - cross.T + weight * np.outer(mean, mean)) / weight
    return covar


def floored(covar: np.ndarray, covariance: str, covar_floor: float) -> np.ndarray:
    """Variances (spherical: their mean) or eigenvalues (full) floored at ``covar_floor``."""
    if covariance != "full":
        return np.asarray(np.maximum(covar.mean() if covariance == "spherical" else covar,
                                     covar_floor))
    values, vectors = np.linalg.eigh(0.5 * (covar + covar.T))
    matrix: np.ndarray = (vectors * np.maximum(values, covar_floor)) @ vectors.T
    return matrix


def sample_gaussian(rng: np.random.RandomState, mean: np.ndarray, covar: np.ndarray,
                    covariance: str, n: int) -> np.ndarray:
    """``n`` draws from ``N(mean, covar)`` with ``covar`` in its covariance type's shape
    (drawn as hmmlearn draws, through the full matrix, so that one seed gives one
    sample in both)."""
    full = covar if covariance == "full" else np.diag(np.broadcast_to(covar, mean.shape))
    draws: np.ndarray = rng.multivariate_normal(mean, full, size=n)
    return draws
