"""Multinomial emissions over vectors of symbol counts (hmmlearn's ``MultinomialHMM``).

An observation is a row of counts ``x`` over ``n_features`` symbols; its probability is
``n! / prod x_m! * prod p_m^x_m`` with ``n`` the row's total (rows may hold different
totals). The M-step is the categorical one on expected counts, so this family is
:class:`CategoricalEmission` with another observation and likelihood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidDataError
from ..io.records import group_kind
from ..parameters import Stats, array, required
from .categorical import CategoricalEmission
from .poisson import prepare_counts
from .priors import DirichletPrior, read_prior

if TYPE_CHECKING:
    from typing_extensions import Self


@group_kind("multinomial")
class MultinomialEmission(CategoricalEmission):
    """Symbol probabilities ``probs`` of a multinomial over rows of counts, shared by its
    states.

    Parameters
    ----------
    probs : array of shape (n_features,), optional
        Symbol probabilities; None: drawn in ``fit``.
    n_features : int, optional
        The number of symbols (needed when ``probs`` is None).
    n_trials : int, optional
        One total for every draw: needed to sample only (likelihoods use each row's own
        total).
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.
    prior : DirichletPrior, optional
        A prior over the symbols, for MAP updates.

    Examples
    --------
    >>> import tiedhmm as th
    >>> bag = th.MultinomialEmission([0.2, 0.8], n_trials=10)
    >>> bag.n_trials
    10
    """

    direct_probabilities = False

    def __init__(self, probs: np.ndarray | None = None, *, n_features: int | None = None,
                 n_trials: int | None = None, name: str | None = None,
                 trainable: bool = True, prior: DirichletPrior | None = None) -> None:
        super().__init__(probs, n_features=n_features, name=name, trainable=trainable,
                         prior=prior)
        if n_trials is not None and not (isinstance(n_trials, (int, np.integer))
                                         and n_trials >= 0):
            raise InvalidDataError(f"{self!r}: n_trials must be an integer >= 0, got "
                                   f"{n_trials!r}")
        self.n_trials = None if n_trials is None else int(n_trials)

    def observation_kind(self) -> tuple[Any, ...]:
        return ("symbol counts", self.n_features)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return prepare_counts(X, self.n_features, "symbol-count")

    @classmethod
    def log_likelihood_table(cls, groups: Sequence[Self],
                             X: np.ndarray) -> np.ndarray:
        from scipy.special import gammaln, xlogy  # here: 0.04 s to import
        constant = gammaln(X.sum(axis=1) + 1) - gammaln(X + 1).sum(axis=1)
        table: np.ndarray = np.stack(
            [xlogy(X, required(group.probs, f"{group!r} probs")).sum(axis=1)
             for group in groups], axis=1) + constant[:, None]
        return table

    @classmethod
    def statistics(cls, groups: Sequence[Self], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        counts = weights.T @ X
        return [{"weight": np.array(weights[:, k].sum()), "counts": counts[k]}
                for k in range(len(groups))]

    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        if self.n_trials is None:
            raise InvalidDataError(f"{self!r}: sampling needs one n_trials for every draw")
        return rng.multinomial(self.n_trials, required(self.probs, f"{self!r} probs"), size=n)

    def to_record(self) -> dict[str, Any]:
        return {**super().to_record(), "n_trials": self.n_trials}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> MultinomialEmission:
        return cls(array(record["probs"]), n_features=record["n_features"],
                   n_trials=record["n_trials"], name=name, trainable=trainable,
                   prior=read_prior(DirichletPrior, record))
