"""Categorical emissions over symbols ``0 .. n_features - 1``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._kernels.emissions import weighted_symbol_counts
from ..errors import InvalidDataError
from ..io.records import group_kind
from ..parameters import Stats, array, listed, required
from .base import EmissionGroup, n_blocks
from .priors import DirichletPrior, dirichlet_update, log_prior_of, prior_record, read_prior

#: The symbol that marks a missing observation: its emission probability is 1 in every
#: state. (Other negative symbols are errors, as in hmmlearn.)
MISSING = -1

if TYPE_CHECKING:
    from typing_extensions import Self


@group_kind("categorical")
class CategoricalEmission(EmissionGroup):
    """A discrete distribution ``probs[m] = P(symbol m)``, shared by its states.

    M-step: ``probs = counts / sum(counts)`` from the counts pooled over every state
    that holds the group, or the MAP update under ``prior``.

    Parameters
    ----------
    probs : array of shape (n_features,), optional
        Symbol probabilities; None leaves them unset until ``fit`` draws them (seeded
        by the model's ``random_state``).
    n_features : int, optional
        The number of symbols (needed when ``probs`` is None).
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.
    prior : DirichletPrior, optional
        A Dirichlet prior over the symbols, for MAP updates.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        ``probs`` that is not a distribution, or neither ``probs`` nor ``n_features``.

    Examples
    --------
    >>> import tiedhmm as th
    >>> die = th.CategoricalEmission([0.5, 0.25, 0.25], name="die")
    >>> die.probs.tolist()
    [0.5, 0.25, 0.25]
    """

    param_letters = "e"
    pullable = True
    direct_probabilities = True

    def __init__(self, probs: np.ndarray | None = None, *, n_features: int | None = None,
                 name: str | None = None, trainable: bool = True,
                 prior: DirichletPrior | None = None) -> None:
        super().__init__(name=name, trainable=trainable)
        if probs is not None:
            probs = np.array(probs, dtype=float)
            if probs.ndim != 1:
                raise InvalidDataError(f"{self!r}: probs must be 1-D, got shape {probs.shape}")
            if n_features is not None and n_features != probs.shape[0]:
                raise InvalidDataError(f"{self!r}: probs has {probs.shape[0]} entries but "
                                       f"n_features={n_features}")
            _check_probabilities(probs, f"{self!r} probs")
            n_features = probs.shape[0]
        if n_features is None or int(n_features) < 1:
            raise InvalidDataError(f"{self!r}: give probs or a positive n_features")
        self.n_features = int(n_features)
        self.probs = probs
        self.prior = DirichletPrior.sized(prior, self.n_features)

    def observation_kind(self) -> tuple[Any, ...]:
        return ("categorical", self.n_features)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise InvalidDataError(f"categorical observations must have shape (n_samples, 1), "
                                   f"got {X.shape}")
        if not np.issubdtype(X.dtype, np.integer):
            not_integer = np.flatnonzero(~np.isfinite(X) | (np.round(X) != X))
            if not_integer.size:
                bad = int(not_integer[0])
                raise InvalidDataError(f"categorical observations must be integers; "
                                       f"position {bad} holds {X[bad].item()!r}")
        X = X.astype(np.int64)
        outside = np.flatnonzero((X < MISSING) | (self.n_features <= X))
        if outside.size:
            bad = int(outside[0])
            raise InvalidDataError(f"symbol {X[bad]} at position {bad} is outside "
                                   f"0..{self.n_features - 1} (n_features={self.n_features}; "
                                   f"{MISSING} marks a missing one)")
        return X

    def is_initialized(self) -> bool:
        return self.probs is not None

    @classmethod
    def initialize(cls, groups: Sequence[Self], X: np.ndarray,
                   rng: np.random.RandomState) -> None:
        for group in groups:
            row = rng.rand(group.n_features)
            group.probs = row / row.sum()

    @classmethod
    def log_likelihood_table(cls, groups: Sequence[Self],
                             X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_probs = np.log(cls.probability_columns(groups))
        table: np.ndarray = log_probs[X]
        table[X == MISSING] = 0.0  # a missing symbol has probability 1
        return table

    @classmethod
    def probability_table(cls, groups: Sequence[Self],
                          X: np.ndarray) -> np.ndarray:
        table: np.ndarray = cls.probability_columns(groups)[X]
        table[X == MISSING] = 1.0
        return table

    @staticmethod
    def probability_columns(groups: Sequence[CategoricalEmission]) -> np.ndarray:
        """``(n_features, len(groups))``: each group's symbol probabilities as a column."""
        return np.stack([required(group.probs, f"{group!r} probs") for group in groups],
                        axis=1)

    @classmethod
    def statistics(cls, groups: Sequence[Self], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        seen = X != MISSING  # a missing symbol counts for no symbol
        if not seen.all():
            X, weights = X[seen], weights[seen]
        counts = weighted_symbol_counts(X, np.ascontiguousarray(weights),
                                        groups[0].n_features, n_blocks(X.shape[0]))
        return [{"weight": np.array(row.sum()), "counts": row} for row in counts]

    def m_step(self, stats: Stats, params: str) -> None:
        if "e" in params and stats["weight"] > 0:
            probs = dirichlet_update(stats["counts"], self.prior)
            if probs is not None:
                self.probs = probs

    def log_prior(self) -> float:
        return log_prior_of(self.prior, self.probs)

    def pull_toward(self, reference: CategoricalEmission, share: float) -> None:
        self.probs = ((1.0 - share) * required(self.probs, f"{self!r} probs")
                      + share * required(reference.probs, f"{reference!r} probs"))

    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        return rng.choice(self.n_features, size=n, p=self.probs)

    def free_parameters(self, params: str) -> int:
        return self.n_features - 1 if "e" in params else 0

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return (self.probs,)

    def to_record(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "probs": listed(self.probs),
                "prior": prior_record(self.prior)}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> CategoricalEmission:
        return cls(array(record["probs"]), n_features=record.get("n_features"), name=name,
                   trainable=trainable, prior=read_prior(DirichletPrior, record))


def _check_probabilities(probs: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise InvalidDataError(f"{what} must be finite and non-negative, got {probs}")
    if abs(probs.sum() - 1.0) > 1e-8:
        raise InvalidDataError(f"{what} must sum to 1, got {probs.sum():.10g}")
