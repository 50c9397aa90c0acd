"""Conjugate priors for MAP re-estimation, held by the groups they regularise.

Every prior is a set of *pseudo-statistics* added in the M-step, so that the update
is the maximum of the expected complete log-likelihood plus the log prior density
(hmmlearn's updates, written once for every family):

- :class:`DirichletPrior` (probabilities): ``theta ∝ max(counts + alpha - 1, 0)``;
- :class:`NormalPrior` (a mean and its (co)variance):
  ``mean = (sum + w m) / (n + w)`` and
  ``covar = (scatter about mean + w (mean - m)(mean - m)^T + scale) / (n + dof)``;
- :class:`GammaPrior` (Poisson rates): ``rate = (alpha + sum) / (beta + n)``.

Tying pools priors as it pools data: a group shared by several states takes the
product of their priors (:meth:`pooled`), so the tied MAP update maximises the same
objective as the untied one with the tied parameters set equal.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidDataError


def _finite(value: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    array = np.array(value, dtype=float)
    if shape is not None:
        try:
            array = np.array(np.broadcast_to(array, shape))
        except ValueError:
            raise InvalidDataError(f"{what} must broadcast to shape {shape}, got "
                                   f"shape {array.shape}") from None
    if not np.all(np.isfinite(array)):
        raise InvalidDataError(f"{what} must be finite, got {array}")
    return array


@dataclass
class DirichletPrior:
    """Dirichlet concentrations over a probability vector (1: no prior).

    Parameters
    ----------
    alpha : array
        One concentration per outcome (or symbol), each > 0.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        A concentration that is not positive.

    Examples
    --------
    >>> import tiedhmm as th
    >>> die = th.CategoricalEmission([0.5, 0.5], prior=th.DirichletPrior([2.0, 2.0]))
    """

    alpha: np.ndarray

    def __post_init__(self) -> None:
        self.alpha = _finite(self.alpha, "Dirichlet prior concentrations")

    @staticmethod
    def sized(prior: DirichletPrior | None, size: int) -> DirichletPrior | None:
        """``prior`` with one concentration per outcome (a scalar is broadcast)."""
        if prior is None or prior.alpha.shape == (size,):
            return prior
        return DirichletPrior(np.broadcast_to(prior.alpha, (size,)))

    @classmethod
    def pooled(cls, priors: Sequence[DirichletPrior]) -> DirichletPrior:
        """The product of several rows' priors on one shared vector."""
        return cls(1.0 + _total(prior.alpha - 1.0 for prior in priors))

    def log_density(self, probs: np.ndarray) -> float:
        """``sum (alpha - 1) log theta`` up to a constant, over the outcomes in use (an
        outcome at 0 stays there: its term is a constant)."""
        active = (self.alpha != 1.0) & (probs > 0)
        return float(np.sum((self.alpha[active] - 1.0) * np.log(probs[active])))

    def to_record(self) -> dict[str, Any]:
        return {"alpha": self.alpha.tolist()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DirichletPrior:
        return cls(record["alpha"])


def dirichlet_update(counts: np.ndarray, prior: DirichletPrior | None,
                     multiplicity: np.ndarray | float = 1.0,
                     support: np.ndarray | None = None) -> np.ndarray | None:
    """Maximum-likelihood (no prior) or MAP probabilities from expected counts,
    ``c = max(counts + alpha - 1, 0)`` and ``theta_o = c_o / (k_o sum c)``; outcomes
    outside ``support`` stay 0 (a prior does not revive a forbidden transition). None
    when nothing is left to normalise."""
    if prior is not None:
        counts = np.maximum(counts + prior.alpha - 1.0, 0.0)
    if support is not None:
        counts = np.where(support, counts, 0.0)
    total = counts.sum()
    if not total > 0:
        return None
    probs: np.ndarray = counts / (multiplicity * total)
    return probs


@dataclass
class NormalPrior:
    """Pseudo-observations for a Gaussian's mean and (co)variance.

    Leading axes (one prior per mixture component) are allowed; :meth:`component` takes
    one.

    Parameters
    ----------
    mean : array of shape (D,)
        The prior mean.
    mean_weight : array
        ``w``, pseudo-observations of the mean.
    scale : array
        Added to the scatter: ``(D,)`` per feature for diagonal and spherical variances,
        ``(D, D)`` for full ones.
    dof : array
        Added to the occupancy: per feature for diagonal variances; for a spherical
        variance, the total over features.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> prior = th.NormalPrior(np.zeros(2), np.ones(2), np.full(2, 0.1), np.full(2, 2.0))
    >>> state = th.GaussianEmission(n_features=2, prior=prior)
    """

    mean: np.ndarray
    mean_weight: np.ndarray
    scale: np.ndarray
    dof: np.ndarray

    def __post_init__(self) -> None:
        self.mean = _finite(self.mean, "means_prior")
        self.mean_weight = _finite(self.mean_weight, "means_weight")
        self.scale = _finite(self.scale, "covars_prior")
        self.dof = _finite(self.dof, "covars_weight")
        if np.any(self.mean_weight < 0):
            raise InvalidDataError(f"means_weight must be >= 0, got {self.mean_weight}")

    @classmethod
    def pooled(cls, priors: Sequence[NormalPrior], covariance: str) -> NormalPrior:
        """The product of several states' priors on one shared Gaussian: weights, scales
        and dofs add; the mean is the weighted mean, and the priors' spread about it
        joins the scale (``sum w_i (x - m_i)^2 = w (x - m)^2 + sum w_i (m_i - m)^2``).
        With ``"tied"`` (mixture components sharing one matrix) the scale is that
        matrix's and collects the spread of every component."""
        weight = _total(prior.mean_weight for prior in priors)
        weighted = _total(prior.mean_weight[..., None] * prior.mean for prior in priors)
        safe = np.where(weight > 0, weight, 1.0)[..., None]
        mean = np.where(weight[..., None] > 0, weighted / safe, priors[0].mean)
        scale = _total(prior.scale for prior in priors)
        kind = "full" if covariance == "tied" else covariance
        for prior in priors:
            spread = _weighted_square(prior.mean_weight, prior.mean - mean, kind)
            scale = scale + (spread.sum(axis=0) if spread.ndim > np.ndim(scale) else spread)
        return cls(mean, weight, scale, _total(prior.dof for prior in priors))

    def component(self, k: int) -> NormalPrior:
        """The prior of mixture component ``k`` (leading axis)."""
        return NormalPrior(self.mean[k], self.mean_weight[k], self.scale[k], self.dof[k])

    def mean_update(self, weight: np.ndarray | float, total: np.ndarray) -> np.ndarray:
        """The MAP mean from an occupancy (one per row of ``total``, or one per entry:
        per-feature occupancies) and a weighted sum (over leading axes too)."""
        weight = np.asarray(weight, dtype=float)
        if weight.ndim < np.ndim(total):
            weight = weight[..., None]
        strength = self.mean_weight[..., None]
        mean: np.ndarray = (total + strength * self.mean) / (weight + strength)
        return mean

    def mean_term(self, mean: np.ndarray, covariance: str) -> np.ndarray:
        """``w (mean - m)(mean - m)^T`` in the covariance type's shape."""
        return _weighted_square(self.mean_weight, mean - self.mean, covariance)

    def covariance_update(self, scatter: np.ndarray, weight: np.ndarray | float,
                          mean: np.ndarray,
                          covariance: str) -> np.ndarray:
        """The MAP (co)variance from the scatter about the fitted ``mean`` (per feature
        for diag and spherical, a matrix for full) and the occupancy."""
        numerator = scatter + self.mean_term(mean, covariance) + self.scale
        if covariance == "spherical":  # ``weight``: one, or one per feature
            total = np.sum(np.broadcast_to(weight, numerator.shape))
            return np.asarray(numerator.sum() / (total + self.dof))
        covar: np.ndarray = numerator / (weight + self.dof)
        return covar

    def log_density(self, mean: np.ndarray, covar: np.ndarray, covariance: str) -> float:
        """The log prior of ``(mean, covar)`` up to a constant: the update above is its
        maximum together with the data's expected log-likelihood."""
        numerator = self.mean_term(mean, covariance) + self.scale
        if covariance == "full":
            inverse = np.linalg.inv(covar)
            log_det = np.linalg.slogdet(covar)[1]
            return float(-0.5 * (np.sum(inverse * numerator) + self.dof * log_det))
        variances = np.broadcast_to(covar, numerator.shape)
        if covariance == "spherical":
            return float(-0.5 * (numerator.sum() / covar + self.dof * np.log(covar)))
        return float(-0.5 * np.sum(numerator / variances + self.dof * np.log(variances)))

    def to_record(self) -> dict[str, Any]:
        return {name: np.asarray(getattr(self, name)).tolist()
                for name in ("mean", "mean_weight", "scale", "dof")}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> NormalPrior:
        return cls(record["mean"], record["mean_weight"], record["scale"], record["dof"])


def _weighted_square(weight: np.ndarray, difference: np.ndarray, covariance: str
                     ) -> np.ndarray:
    """``weight * d d^T`` (full) or ``weight * d^2`` per feature, over leading axes."""
    square: np.ndarray
    if covariance == "full":
        square = weight[..., None, None] * difference[..., :, None] * difference[..., None, :]
    else:
        square = weight[..., None] * difference ** 2
    return square


def _total(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """The sum of several arrays (broadcast together), added in order as ``sum`` adds."""
    total: np.ndarray = functools.reduce(np.add, arrays)
    return total


@dataclass
class GammaPrior:
    """A Gamma prior on Poisson rates (hmmlearn's ``lambdas_prior``, ``lambdas_weight``).

    Parameters
    ----------
    alpha : array
        Pseudo-counts per feature.
    beta : array
        Pseudo-observations per feature.

    Examples
    --------
    >>> import tiedhmm as th
    >>> rates = th.PoissonEmission([2.0], prior=th.GammaPrior([1.0], [0.5]))
    """

    alpha: np.ndarray
    beta: np.ndarray

    def __post_init__(self) -> None:
        self.alpha = _finite(self.alpha, "lambdas_prior")
        self.beta = _finite(self.beta, "lambdas_weight")
        if np.any(self.alpha < 0) or np.any(self.beta < 0):
            raise InvalidDataError(f"lambdas_prior and lambdas_weight must be >= 0, got "
                                   f"{self.alpha} and {self.beta}")

    @classmethod
    def pooled(cls, priors: Sequence[GammaPrior]) -> GammaPrior:
        return cls(_total(prior.alpha for prior in priors),
                   _total(prior.beta for prior in priors))

    def update(self, weight: float, total: np.ndarray) -> np.ndarray:
        rates: np.ndarray = (self.alpha + total) / (self.beta + weight)
        return rates

    def log_density(self, rates: np.ndarray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(self.alpha > 0, self.alpha * np.log(rates), 0.0)
        return float(np.sum(terms - self.beta * rates))

    def to_record(self) -> dict[str, Any]:
        return {"alpha": self.alpha.tolist(), "beta": self.beta.tolist()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GammaPrior:
        return cls(record["alpha"], record["beta"])


def log_prior_of(prior: Any, *parameters: Any) -> float:
    """A group's log prior at its parameters: 0 without a prior or while unset."""
    if prior is None or any(value is None for value in parameters):
        return 0.0
    return float(prior.log_density(*parameters))


def prior_record(prior: Any) -> dict[str, Any] | None:
    """A group's optional prior for its record."""
    return None if prior is None else prior.to_record()


def read_prior(kind: Any, record: dict[str, Any], field: str = "prior") -> Any:
    """The optional prior of a group record (files before priors have none)."""
    found = record.get(field)
    return None if found is None else kind.from_record(found)
