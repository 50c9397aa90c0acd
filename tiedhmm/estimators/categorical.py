"""Estimators of symbols: ``CategoricalHMM`` (one symbol a step) and ``MultinomialHMM``
(a row of symbol counts a step)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..emissions import (
    CategoricalEmission,
    MultinomialEmission,
)
from ..emissions.categorical import MISSING
from ..errors import InvalidDataError
from ..tying import Topology
from . import priors
from .base import ArrayHMM, documented, emissionprob_arrays


@documented
class CategoricalHMM(ArrayHMM):
    """hmmlearn's ``CategoricalHMM`` with tying: one symbol of ``n_features`` per step.

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    emissionprob_prior : float or array, default 1.0
        Dirichlet concentration of each state's symbol probabilities (a tied group
        takes the product of its states' priors).
    n_features : int, optional
        Number of symbols; by default the largest symbol in the data plus one.
    {shared_parameters}

    Attributes
    ----------
    emissionprob_ : ndarray of shape (n_components, n_features)
        Symbol probabilities per state; tied states hold equal rows.
    {shared_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> X = np.random.RandomState(0).randint(3, size=(200, 1))
    >>> model = th.CategoricalHMM(3, n_features=3, emission_groups=[0, 1, 1],
    ...                           random_state=0).fit(X, [120, 80])
    >>> bool(np.array_equal(model.emissionprob_[1], model.emissionprob_[2]))
    True
    >>> model.n_free_parameters()   # 2 start + 6 transition + 2 x 2 emission
    12
    """

    _emission_attributes = (("e", "emissionprob_"),)

    def __init__(self, n_components: int = 1, startprob_prior: ArrayLike = 1.0,
                 transmat_prior: ArrayLike = 1.0, *,
                 emissionprob_prior: ArrayLike = 1.0, n_features: int | None = None,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "ste",
                 init_params: str = "ste", implementation: str = "log") -> None:
        super().__init__(n_components, startprob_prior, transmat_prior,
                         emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.emissionprob_prior = emissionprob_prior
        self.n_features = n_features

    def _check_and_set_n_features(self, X: np.ndarray) -> None:
        """Symbols must be non-negative integers below ``n_features``; without it,
        ``n_features`` is the set ``emissionprob_``'s width or the largest symbol + 1."""
        X = np.asarray(X)
        flat = X.ravel()
        if not np.issubdtype(X.dtype, np.integer):
            odd = np.flatnonzero(~np.isfinite(flat) | (np.round(flat) != flat)) \
                if np.issubdtype(X.dtype, np.number) else np.array([0])
            where = f"; position {odd[0]} holds {flat[odd[0]].item()!r}" if odd.size else ""
            raise InvalidDataError(f"symbols must be integers{where} (got dtype {X.dtype}; "
                                   f"hmmlearn's rule: cast with X.astype(int))")
        if self.n_features is None:
            given = getattr(self, "emissionprob_", None)
            width = np.shape(given)[-1] if given is not None and np.ndim(given) else 1
            self.n_features = max(width, int(flat.max()) + 1 if flat.size else 1)
        outside = np.flatnonzero((flat < MISSING) | (flat >= self.n_features))
        if outside.size:
            bad = outside[0]
            raise InvalidDataError(f"symbol {flat[bad]} at position {bad} is outside "
                                   f"0..{self.n_features - 1} (n_features={self.n_features}; "
                                   f"{MISSING} marks a missing one)")

    def _make_emission(self, states: np.ndarray) -> CategoricalEmission:
        probs = self._attribute("emissionprob_", lambda m: m[states[0]])
        n_features = self.n_features if probs is None else len(probs)
        if n_features is None:
            raise InvalidDataError("n_features is unknown: pass n_features=, set "
                                   "emissionprob_ or fit the model")
        alpha = priors.broadcast(self.emissionprob_prior,
                                 (self.n_components, n_features),
                                 "emissionprob_prior")
        return CategoricalEmission(probs, n_features=self.n_features,
                                   prior=priors.dirichlet(alpha[states]))

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        return emissionprob_arrays(topology)


@documented
class MultinomialHMM(ArrayHMM):
    """hmmlearn's ``MultinomialHMM`` with tying: a row of symbol counts per step.

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    n_trials : int or array, optional
        Every row's total count; unset, ``fit`` takes it from the data (rows may
        differ), and sampling needs one value.
    {shared_parameters}

    Attributes
    ----------
    emissionprob_ : ndarray of shape (n_components, n_features)
        Symbol probabilities per state; tied states hold equal rows.
    {shared_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> X = np.random.RandomState(0).multinomial(5, [0.2, 0.3, 0.5], size=100)
    >>> model = th.MultinomialHMM(2, n_trials=5, random_state=0).fit(X)
    >>> model.emissionprob_.shape
    (2, 3)
    """

    _emission_attributes = (("e", "emissionprob_"),)

    def __init__(self, n_components: int = 1, n_trials: ArrayLike | None = None,
                 startprob_prior: ArrayLike = 1.0, transmat_prior: ArrayLike = 1.0,
                 algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "ste",
                 init_params: str = "ste", implementation: str = "log", *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf) -> None:
        super().__init__(n_components, startprob_prior, transmat_prior,
                         emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.n_trials = n_trials

    def _check_and_set_n_features(self, X: np.ndarray) -> None:
        """Rows of non-negative integer counts adding up to ``n_trials`` (set from the
        data when unset)."""
        super()._check_and_set_n_features(X)
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.integer) or X.min() < 0:
            raise InvalidDataError(f"symbol counts must be non-negative integers, got dtype "
                                   f"{X.dtype} and minimum {X.min()}")
        totals = X.sum(axis=1)
        if self.n_trials is None:
            self.n_trials = totals
        elif not np.all(totals == self.n_trials):
            bad = int(np.flatnonzero(totals != np.broadcast_to(self.n_trials, totals.shape))[0])
            raise InvalidDataError(f"row {bad} holds {totals[bad]} counts; every row must "
                                   f"add up to n_trials")

    def _check(self) -> None:
        if self.n_trials is None:
            raise InvalidDataError("n_trials must be set (or fit the model to take it from "
                                   "the data)")
        super()._check()

    def _make_emission(self, states: np.ndarray) -> MultinomialEmission:
        probs = self._attribute("emissionprob_", lambda m: m[states[0]])
        n_features = getattr(self, "n_features", None) if probs is None else len(probs)
        if n_features is None:
            raise InvalidDataError("n_features is unknown: set emissionprob_ or fit the model")
        trials = None if self.n_trials is None else np.unique(self.n_trials)
        return MultinomialEmission(probs, n_features=n_features,
                                   n_trials=int(trials[0]) if trials is not None
                                   and trials.size == 1 else None)

    def sample(self, n_samples: int = 1,
               random_state: int | np.random.RandomState | None = None,
               currstate: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, states)``; every row holds ``n_trials`` counts (one value)."""
        if self.n_trials is None or np.unique(self.n_trials).size != 1:
            raise InvalidDataError(f"For sampling, a single n_trials must be given, got "
                                   f"{self.n_trials!r}")
        return super().sample(n_samples, random_state, currstate)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        return emissionprob_arrays(topology)


