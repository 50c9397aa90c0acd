"""Poisson emissions over vectors of counts: ``P(x) = prod_d lambda_d^x_d e^-lambda_d / x_d!``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidDataError
from ..io.records import group_kind
from ..parameters import Stats, array, listed, required
from .base import EmissionGroup
from .missing import filled_with_column_means
from .priors import GammaPrior, log_prior_of, prior_record, read_prior

if TYPE_CHECKING:
    from typing_extensions import Self


@group_kind("poisson")
class PoissonEmission(EmissionGroup):
    """Independent Poisson rates ``lambdas`` (one per feature), shared by its states.

    M-step: the rates are the pooled weighted means of the counts, or under ``prior``
    ``(alpha + sum) / (beta + occupancy)``.

    Parameters
    ----------
    lambdas : array of shape (n_features,), optional
        Rates; None: drawn in ``fit`` from a gamma distribution with the data's mean and
        variance (hmmlearn's method-of-moments start, seeded).
    n_features : int, optional
        The number of features (needed when ``lambdas`` is None).
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.
    prior : GammaPrior, optional
        A Gamma prior on the rates.

    Examples
    --------
    >>> import tiedhmm as th
    >>> th.PoissonEmission([2.0, 5.0]).lambdas.tolist()
    [2.0, 5.0]
    """

    param_letters = "l"

    def __init__(self, lambdas: np.ndarray | None = None, *, n_features: int | None = None,
                 name: str | None = None, trainable: bool = True,
                 prior: GammaPrior | None = None) -> None:
        super().__init__(name=name, trainable=trainable)
        if lambdas is not None:
            lambdas = np.array(lambdas, dtype=float)
            if lambdas.ndim != 1 or not np.all(np.isfinite(lambdas)) or np.any(lambdas < 0):
                raise InvalidDataError(f"{self!r}: lambdas must be finite rates >= 0, got "
                                       f"{lambdas}")
            if n_features is not None and int(n_features) != lambdas.shape[0]:
                raise InvalidDataError(f"{self!r}: lambdas has {lambdas.shape[0]} rates but "
                                       f"n_features={n_features}")
            n_features = lambdas.shape[0]
        if n_features is None or int(n_features) < 1:
            raise InvalidDataError(f"{self!r}: give lambdas or a positive n_features")
        self.n_features = int(n_features)
        self.lambdas = lambdas
        self.prior = prior

    def observation_kind(self) -> tuple[Any, ...]:
        return ("counts", self.n_features)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return prepare_counts(X, self.n_features, "count", missing_allowed=True)

    def is_initialized(self) -> bool:
        return self.lambdas is not None

    @classmethod
    def initialize(cls, groups: Sequence[Self], X: np.ndarray,
                   rng: np.random.RandomState) -> None:
        X = filled_with_column_means(X)
        mean, var = X.mean(), X.var()
        if not (mean > 0 and var > 0):
            mean, var = max(mean, 1.0), max(var, 1.0)  # constant counts: a unit spread
        for group in groups:
            if group.lambdas is None:
                group.lambdas = rng.gamma(shape=mean ** 2 / var, scale=var / mean,
                                          size=group.n_features)

    @classmethod
    def log_likelihood_table(cls, groups: Sequence[Self],
                             X: np.ndarray) -> np.ndarray:
        from scipy.special import gammaln, xlogy  # here: 0.04 s to import
        observed = ~np.isnan(X)  # a missing count contributes nothing
        counts = np.where(observed, X, 0.0)
        constant = gammaln(counts + 1).sum(axis=1)
        rates = [required(group.lambdas, f"{group!r} lambdas") for group in groups]
        return np.stack([xlogy(counts, lambdas).sum(axis=1) - observed @ lambdas - constant
                         for lambdas in rates], axis=1)

    @classmethod
    def statistics(cls, groups: Sequence[Self], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        missing = np.isnan(X)  # a missing count's expectation is its group's rate
        sums = weights.T @ np.where(missing, 0.0, X)
        if missing.any():
            sums += (weights.T @ missing) * np.stack(
                [required(group.lambdas, f"{group!r} lambdas") for group in groups])
        return [{"weight": np.array(weights[:, k].sum()), "sum": sums[k]}
                for k in range(len(groups))]

    def m_step(self, stats: Stats, params: str) -> None:
        if "l" in params and stats["weight"] > 0:
            self.lambdas = (stats["sum"] / stats["weight"] if self.prior is None
                            else self.prior.update(float(stats["weight"]), stats["sum"]))

    def log_prior(self) -> float:
        return log_prior_of(self.prior, self.lambdas)

    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        return rng.poisson(required(self.lambdas, f"{self!r} lambdas"),
                           size=(n, self.n_features))

    def free_parameters(self, params: str) -> int:
        return self.n_features if "l" in params else 0

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return (self.lambdas,)

    def to_record(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "lambdas": listed(self.lambdas),
                "prior": prior_record(self.prior)}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> PoissonEmission:
        return cls(array(record["lambdas"]), n_features=record["n_features"], name=name,
                   trainable=trainable, prior=read_prior(GammaPrior, record))


def prepare_counts(X: np.ndarray, n_features: int, what: str,
                   missing_allowed: bool = False) -> np.ndarray:
    """``(T, n_features)`` float rows of counts (integers >= 0, or NaN for a missing one
    where ``missing_allowed``); a clear error naming the shape or the first bad row."""
    X = np.asarray(X)
    if X.ndim == 1 and n_features == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != n_features:
        raise InvalidDataError(f"{what} observations must have shape (n_samples, "
                               f"{n_features}), got {X.shape}")
    counts = X.astype(float)
    valid = np.isfinite(counts) & (counts >= 0) & (np.round(counts) == counts)
    if missing_allowed:
        valid |= np.isnan(counts)
    bad = np.flatnonzero(~np.all(valid, axis=1))
    if bad.size:
        raise InvalidDataError(f"observation {int(bad[0])} is not a vector of counts "
                               f"(integers >= 0): {X[bad[0]]}")
    return counts
