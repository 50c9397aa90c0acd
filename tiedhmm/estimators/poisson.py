"""The estimator of counts: ``PoissonHMM``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..emissions import (
    PoissonEmission,
)
from ..errors import InvalidDataError
from ..tying import Topology
from . import priors
from .base import ArrayHMM, documented


@documented
class PoissonHMM(ArrayHMM):
    """hmmlearn's ``PoissonHMM`` with tying: a vector of independent counts per step.

    Rates start from hmmlearn's method-of-moments gamma draws; the params letter of the
    rates is ``l``.

    Parameters
    ----------
    n_components : int, default 1
        Number of states.
    lambdas_prior, lambdas_weight : float or array, default 0.0
        A Gamma prior's pseudo-counts and pseudo-observations per state (hmmlearn
        divides by every state's occupancy together; here each state's own).
    {shared_parameters}

    Attributes
    ----------
    lambdas_ : ndarray of shape (n_components, n_features)
        Poisson rates per state; tied states hold equal rows.
    {shared_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> X = np.random.RandomState(0).poisson([2.0, 8.0], size=(200, 2))
    >>> model = th.PoissonHMM(2, random_state=0).fit(X)
    >>> model.lambdas_.shape
    (2, 2)
    """

    _emission_attributes = (("l", "lambdas_"),)

    def __init__(self, n_components: int = 1, startprob_prior: ArrayLike = 1.0,
                 transmat_prior: ArrayLike = 1.0, lambdas_prior: ArrayLike = 0.0,
                 lambdas_weight: ArrayLike = 0.0, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "stl",
                 init_params: str = "stl", implementation: str = "log", *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf) -> None:
        super().__init__(n_components, startprob_prior, transmat_prior,
                         emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.lambdas_prior = lambdas_prior
        self.lambdas_weight = lambdas_weight

    def _make_emission(self, states: np.ndarray) -> PoissonEmission:
        lambdas = self._attribute("lambdas_", lambda m: np.atleast_2d(m)[states[0]])
        n_features = getattr(self, "n_features", None) if lambdas is None else len(lambdas)
        if n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set lambdas_")
        shape = (self.n_components, n_features)
        prior = priors.gamma(
            priors.broadcast(self.lambdas_prior, shape, "lambdas_prior"),
            priors.broadcast(self.lambdas_weight, shape, "lambdas_weight"), states)
        return PoissonEmission(lambdas, n_features=n_features, prior=prior)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        if any(group.lambdas is None for group in groups):
            return {}
        return {"lambdas_": np.stack([group.lambdas for group in groups])}


