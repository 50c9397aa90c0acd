"""``VariationalCategoricalHMM``: one symbol a step, Dirichlet posteriors throughout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InvalidDataError
from ..estimators import CategoricalHMM
from ..io.checks import check_random_state
from .base import VariationalHMM, checked_shape, documented, grouped, positive
from .divergences import dirichlet_expected_log, kl_dirichlet


@documented
class VariationalCategoricalHMM(VariationalHMM):
    """hmmlearn's ``VariationalCategoricalHMM`` with tying: symbols, fitted by
    variational Bayes (Beal 2003).

    Every state's symbol probabilities have a Dirichlet posterior
    (``emissionprob_posterior_``); states with one ``emission_groups`` label share it.

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    emissionprob_prior : float or array, optional
        Dirichlet concentration of each state's symbol probabilities; default
        ``1 / n_features``.
    n_features : int, optional
        Number of symbols; by default the largest symbol in the data plus one.
    {variational_parameters}

    Attributes
    ----------
    startprob_prior_, startprob_posterior_ : ndarray of shape (n_components,)
        Dirichlet concentrations of the start probabilities.
    transmat_prior_, transmat_posterior_ : ndarray of shape (n_components, n_components)
        Dirichlet concentrations of each transition row (tied rows equal).
    emissionprob_prior_, emissionprob_posterior_ : ndarray of shape (n_components, n_features)
        Dirichlet concentrations of each state's symbol probabilities.
    startprob_, transmat_, emissionprob_ : ndarray
        The posterior means (what inference uses).
    monitor_ : ConvergenceMonitor
        The evidence lower bound of every iteration.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> X = np.random.RandomState(0).randint(3, size=(300, 1))
    >>> model = th.VariationalCategoricalHMM(3, emission_groups=[0, 1, 1],
    ...                                      random_state=0, n_iter=20).fit(X)
    >>> bool(np.array_equal(model.emissionprob_posterior_[1],
    ...                     model.emissionprob_posterior_[2]))
    True
    """

    _point_names = ("emissionprob_",)

    def __init__(self, n_components: int = 1, startprob_prior: ArrayLike | None = None,
                 transmat_prior: ArrayLike | None = None,
                 emissionprob_prior: ArrayLike | None = None, n_features: int | None = None,
                 algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 100,
                 tol: float = 1e-6, verbose: bool = False, params: str = "ste",
                 init_params: str = "ste", implementation: str = "log", *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | None = None) -> None:
        self._set_shared(n_components, startprob_prior, transmat_prior, algorithm,
                         random_state, n_iter, tol, verbose, params, init_params,
                         implementation, emission_groups, transition_groups)
        self.emissionprob_prior = emissionprob_prior
        self.n_features = n_features

    def _prepared(self, X: Any) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != 1:
            raise InvalidDataError(f"symbols must have shape (n_samples, 1), got {X.shape}")
        if not np.issubdtype(X.dtype, np.integer):
            raise InvalidDataError(f"symbols must be integers, got dtype {X.dtype}")
        if X.size and X.min() < 0:
            bad = int(np.flatnonzero(X[:, 0] < 0)[0])
            raise InvalidDataError(f"symbols must be non-negative; position {bad} holds "
                                   f"{X[bad, 0]} (variational fitting has no missing "
                                   f"symbols)")
        symbols: np.ndarray = X
        return symbols

    def _check_and_set_n_features(self, X: np.ndarray) -> None:
        largest = int(X.max()) if X.size else 0
        if self.n_features is None:
            self.n_features = largest + 1
        elif largest >= self.n_features:
            raise InvalidDataError(f"largest symbol is {largest} but the model emits "
                                   f"symbols up to {self.n_features - 1}")

    def _symbols(self) -> int:
        """``n_features`` once the data or the user set it."""
        if self.n_features is None:
            raise InvalidDataError("n_features is unknown: pass n_features= or fit the model")
        return int(self.n_features)

    def _init_emissions(self, X: np.ndarray, lengths: Sequence[int] | np.ndarray) -> None:
        if not self._needs_init_any("e", ("emissionprob_prior_", "emissionprob_posterior_")):
            return
        rng = check_random_state(self.random_state)
        n_features = self._symbols()
        prior = 1.0 / n_features if self.emissionprob_prior is None else self.emissionprob_prior
        self.emissionprob_prior_ = np.array(
            np.broadcast_to(prior, (self.n_components, n_features)), dtype=float)
        labels = self._emission_labels()
        alphas = grouped(self.emissionprob_prior_, labels, "emissionprob_prior_")
        rows = np.stack([rng.dirichlet(alpha) for alpha in alphas])
        self.emissionprob_posterior_ = rows[labels] * np.sum(lengths) / self.n_components

    def _check_emissions(self) -> None:
        shape = (self.n_components, self._symbols())
        labels = self._emission_labels()
        for name in ("emissionprob_prior_", "emissionprob_posterior_"):
            value = positive(checked_shape(np.atleast_2d(getattr(self, name)), shape, name),
                             name)
            grouped(value, labels, name)
            setattr(self, name, value)

    def _groups(self) -> tuple[np.ndarray, np.ndarray]:
        labels = self._emission_labels()
        return (grouped(self.emissionprob_posterior_, labels, "emissionprob_posterior_"),
                grouped(self.emissionprob_prior_, labels, "emissionprob_prior_"))

    def _expected_log_table(self, X: np.ndarray) -> np.ndarray:
        posterior, _ = self._groups()
        table: np.ndarray = dirichlet_expected_log(posterior)[:, X[:, 0]].T
        return np.ascontiguousarray(table)

    def _emission_divergence(self) -> float:
        posterior, prior = self._groups()
        return float(kl_dirichlet(posterior, prior).sum())

    def _emission_statistics(self, X: np.ndarray, occupancy: np.ndarray
                             ) -> dict[str, np.ndarray]:
        counts = np.stack([np.bincount(X[:, 0], weights=column, minlength=self._symbols())
                           for column in occupancy.T])
        return {"symbols": counts}

    def _update_emissions(self, stats: dict[str, np.ndarray]) -> None:
        if "e" in self.params:
            _, prior = self._groups()
            self.emissionprob_posterior_ = (prior + stats["symbols"])[self._emission_labels()]

    def _point_arrays(self) -> dict[str, np.ndarray]:
        if not hasattr(self, "emissionprob_posterior_"):
            return {}
        posterior = np.asarray(self.emissionprob_posterior_, dtype=float)
        return {"emissionprob_": posterior / posterior.sum(axis=1, keepdims=True)}

    def _new_point_estimate(self) -> CategoricalHMM:
        return CategoricalHMM(self.n_components, n_features=self._symbols(),
                              emission_groups=self.emission_groups,
                              transition_groups=self.transition_groups,
                              algorithm=self.algorithm, random_state=self.random_state,
                              params="", init_params="", implementation=self.implementation)

