"""hmmlearn-style estimators with tying: ``CategoricalHMM``, ``GaussianHMM``, ``GMMHMM``,
``PoissonHMM``.

Parameters live in hmmlearn's array attributes (``startprob_``, ``transmat_``,
``emissionprob_`` / ``means_``, ``covars_``); tied states hold equal rows. The
estimators compile the arrays to tied groups (kept until an argument or an array
changes), run the machinery of :class:`tiedhmm.hmm.BaseHMM`, and ``fit`` writes the
fitted groups back. ``to_hmm()`` gives the general :class:`~tiedhmm.hmm.HMM` they
compile to (its own groups), which is what ``concatenate``, ``ModelSet`` files and
``save`` use.

- ``emission_groups``: one label per state (``0 .. G-1``, no gaps); states with one
  label share one emission distribution.
- ``transition_groups``: None (untied), one label per state (rows with one label are
  one shared row), or ``"left-right"`` (every state but the last shares one
  ``{stay, next}`` row; the last stays with probability 1).
- ``tie_strength``: ``inf`` (hard tying, default) or a finite λ ≥ 0 for soft tying:
  tied states keep their own parameters, pulled toward the group's pooled estimate.
- ``params`` / ``init_params``: hmmlearn's letters (``s`` start, ``t`` transitions,
  ``e`` categorical emissions, ``m`` means, ``c`` covariances, ``w`` mixture
  weights). A letter missing from ``init_params`` keeps an attribute set before
  ``fit``; one missing from ``params`` keeps it fixed during EM.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from . import inference
from .emissions import (
    CategoricalEmission,
    EmissionGroup,
    GaussianEmission,
    GMMEmission,
    PoissonEmission,
)
from .emissions.gaussian import COVARIANCE_TYPES, SharedCovariance
from .errors import InvalidDataError, TyingError
from .hmm import HMM, BaseHMM
from .tying import Label, SoftTie, Topology, TransitionGroup

MATCH_TOLERANCE = 1e-10
log = logging.getLogger(__name__)
#: hmmlearn's forward-backward variants; tiedhmm's per-step normalisers are exact, so
#: both give the same numbers here.
IMPLEMENTATIONS = ("log", "scaling")


class _ArrayHMM(BaseHMM, ABC):
    """Shared machinery of the array-backed estimators (not for direct use)."""

    #: (letter, attribute) pairs of the family's emission parameters.
    _emission_attributes: tuple[tuple[str, str], ...] = ()

    def __init__(self, n_components: int = 1, *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "",
                 init_params: str = "", implementation: str = "log") -> None:
        self.n_components = n_components
        self.emission_groups = emission_groups
        self.transition_groups = transition_groups
        self.tie_strength = tie_strength
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.params = params
        self.init_params = init_params
        self.implementation = implementation

    # -- labels ---------------------------------------------------------------------
    def _emission_labels(self) -> np.ndarray:
        return _check_labels(self.emission_groups, self.n_components, "emission_groups")

    def _transition_layout(self) -> tuple[np.ndarray, bool]:
        """Row labels (-1: fixed row) and whether outcomes are relative (left-right)."""
        if isinstance(self.transition_groups, str):
            if self.transition_groups != "left-right":
                raise InvalidDataError(f"transition_groups must be None, one label per state or "
                                       f"'left-right', got {self.transition_groups!r}")
            labels = np.zeros(self.n_components, dtype=np.int64)
            labels[-1] = -1
            return labels, True
        return _check_labels(self.transition_groups, self.n_components,
                             "transition_groups"), False

    @property
    def _hard(self) -> bool:
        if not self.tie_strength >= 0:
            raise InvalidDataError(f"tie_strength must be >= 0 (inf for hard tying), "
                                   f"got {self.tie_strength}")
        return self.tie_strength == np.inf

    # -- arrays -> groups ------------------------------------------------------------
    def _fingerprint(self) -> tuple:
        """What the compiled groups depend on: the arguments and the array attributes."""
        names = ("startprob_", "transmat_", *(name for _, name in self._emission_attributes))
        arrays = tuple((name, np.shape(value), np.asarray(value, dtype=float).tobytes())
                       for name in names if (value := getattr(self, name, None)) is not None)
        return repr(sorted(self.get_params().items())), getattr(self, "n_features", None), arrays

    def _model(self, fresh: bool = False) -> tuple[Topology, list[SoftTie]]:
        """The compiled groups, rebuilt when an argument or an array attribute changed
        (``fresh``: always rebuilt, for ``fit`` to update)."""
        key = self._fingerprint()
        cached = getattr(self, "_compiled", None)
        if fresh or cached is None or cached[0] != key:
            model = self.to_hmm()
            cached = (key, model.topology, model.soft_ties)
            self._compiled = cached
        return cached[1], cached[2]

    def to_hmm(self) -> HMM:
        """The general HMM of the current arguments and arrays, with its own groups
        (fitting it leaves this estimator as it is)."""
        if self.implementation not in IMPLEMENTATIONS:
            raise InvalidDataError(f"implementation must be one of {IMPLEMENTATIONS}, got "
                                   f"{self.implementation!r}")
        n_states = self.n_components
        if not (isinstance(n_states, (int, np.integer)) and n_states >= 1):
            raise InvalidDataError(f"n_components must be a positive integer, got {n_states!r}")
        ties: list[SoftTie] = []
        emissions = self._grouped(self._emission_labels(), self._emission_maker(), ties)
        start_group = TransitionGroup([str(j) for j in range(n_states)],
                                      getattr(self, "startprob_", None), name="start",
                                      trainable="s" in self.params)
        start = {j: (start_group, str(j)) for j in range(n_states)}
        labels, relative = self._transition_layout()
        row_groups = self._grouped(labels, lambda rows: self._make_row_group(rows, relative),
                                   ties)
        transitions: dict[tuple[int, int], Label] = {}
        for i, group in enumerate(row_groups):
            if group is None:
                transitions[(i, i)] = 1.0
            elif relative:
                transitions[(i, i)] = (group, "stay")
                transitions[(i, i + 1)] = (group, "next")
            else:
                transitions.update({(i, j): (group, str(j)) for j in range(n_states)})
        model = HMM(emissions, start, transitions, soft_ties=ties,
                    algorithm=self.algorithm, random_state=self.random_state,
                    n_iter=self.n_iter, tol=self.tol, verbose=self.verbose)
        self._check_attributes_match(model.topology)
        return model

    def _grouped(self, labels: np.ndarray, make, ties: list[SoftTie]) -> list:
        """One object per label (hard tying) or per state, soft-tied by label."""
        per_state: list = [None] * len(labels)
        for label in np.unique(labels[labels >= 0]):
            rows = np.flatnonzero(labels == label)
            if self._hard:
                shared = make(rows)
                for row in rows:
                    per_state[row] = shared
            else:
                for row in rows:
                    per_state[row] = make(np.array([row]))
                if len(rows) > 1:
                    ties.append(SoftTie([per_state[r] for r in rows], self.tie_strength))
        return per_state

    def _make_row_group(self, rows: np.ndarray, relative: bool) -> TransitionGroup:
        first = rows[0]
        if relative:
            outcomes = ["stay", "next"]
            probs = self._attribute("transmat_", lambda m: m[first, [first, first + 1]])
        else:
            outcomes = [str(j) for j in range(self.n_components)]
            probs = self._attribute("transmat_", lambda m: m[first])
        return TransitionGroup(outcomes, probs, name=f"row {first}",
                               trainable="t" in self.params)

    def _attribute(self, name: str, pick):
        """``pick`` of an array attribute (None if unset); it needs a row per state."""
        value = getattr(self, name, None)
        if value is None:
            return None
        value = np.asarray(value, dtype=float)
        if value.ndim == 0 or value.shape[0] != self.n_components:
            raise InvalidDataError(f"{name.strip('_')}_ has shape {value.shape}; it needs one "
                                   f"row per state ({self.n_components})")
        return pick(value)

    @abstractmethod
    def _make_emission(self, states: np.ndarray) -> EmissionGroup:
        """The family's emission group for ``states``, from the attributes if set."""

    def _emission_maker(self):
        """What makes the emission groups of one compiled model (a family whose groups
        share a part makes it here, once per model)."""
        return self._make_emission

    def _check_attributes_match(self, topology: Topology) -> None:
        """Set attributes must obey the ties: tied rows equal, zeros outside the structure."""
        startprob, transmat = topology.start_and_transmat()
        expected = {"startprob_": startprob, "transmat_": transmat}
        expected.update(self._emission_arrays(topology))
        for name, tied in expected.items():
            given = getattr(self, name, None)
            if given is None:
                continue
            given = np.asarray(given, dtype=float)
            if given.shape != tied.shape:
                raise InvalidDataError(f"{name} must have shape {tied.shape}, got {given.shape}")
            differs = np.argwhere(~(np.abs(given - tied) <= MATCH_TOLERANCE))
            if differs.size:
                where = tuple(int(k) for k in differs[0])
                raise TyingError(
                    f"{name}{list(where)} = {float(given[where])!r} breaks the tying: the tied "
                    f"model has {float(tied[where])!r} there (tied rows must be equal, entries "
                    f"outside the structure 0, and rows must sum to 1)")

    @abstractmethod
    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        """Per-state emission attributes from the groups (those that are set)."""

    # -- HMM hooks ---------------------------------------------------------------------
    def _initialize(self, topology: Topology, batch: inference.Batch,
                    rng: np.random.RandomState) -> None:
        inference.initialize(topology, batch, rng, "kmeans")

    def _emission_params(self) -> str:
        return self.params

    def _store(self, topology: Topology) -> None:
        self.startprob_, self.transmat_ = topology.start_and_transmat()
        for name, value in self._emission_arrays(topology).items():
            setattr(self, name, value)
        self._compiled = (self._fingerprint(), *self._compiled[1:])

    def _set_n_features(self, X: np.ndarray) -> None:
        """Take ``n_features`` from the data's columns (continuous families)."""
        X = np.asarray(X)
        self.n_features = X.shape[1] if X.ndim == 2 else 1

    def _prepare_fit(self, X: np.ndarray) -> None:
        """EM starts from the attributes set before ``fit``, except those whose letters
        are in ``init_params`` (initialised from the data)."""
        self._set_n_features(X)
        letters = (("s", "startprob_"), ("t", "transmat_"), *self._emission_attributes)
        for letter, name in letters:
            if letter in self.init_params and getattr(self, name, None) is not None:
                log.warning("Even though the %r attribute is set, it will be overwritten "
                            "during initialization because 'init_params' contains %r",
                            name.strip("_") + "_", letter)
                delattr(self, name)


class CategoricalHMM(_ArrayHMM):
    """Tied HMM with categorical emissions over ``n_features`` symbols (hmmlearn API)."""

    _emission_attributes = (("e", "emissionprob_"),)

    def __init__(self, n_components: int = 1, *, n_features: int | None = None,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "ste",
                 init_params: str = "ste", implementation: str = "log") -> None:
        super().__init__(n_components, emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.n_features = n_features

    def _set_n_features(self, X: np.ndarray) -> None:
        if self.n_features is None:
            given = getattr(self, "emissionprob_", None)
            X = np.asarray(X)
            self.n_features = (np.asarray(given).shape[1] if given is not None
                               else int(X.max()) + 1 if X.size else 1)

    def _make_emission(self, states: np.ndarray) -> CategoricalEmission:
        probs = self._attribute("emissionprob_", lambda m: m[states[0]])
        if self.n_features is None and probs is None:
            raise InvalidDataError("n_features is unknown: pass n_features=, set "
                                   "emissionprob_ or fit the model")
        return CategoricalEmission(probs, n_features=self.n_features)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        if any(group.probs is None for group in groups):
            return {}
        return {"emissionprob_": np.stack([group.probs for group in groups])}


class GaussianHMM(_ArrayHMM):
    """Tied HMM with Gaussian emissions, ``covariance_type`` ``"spherical"``, ``"diag"``,
    ``"full"`` or ``"tied"`` (one covariance shared by every state).

    As in hmmlearn, ``covars_`` reads as full matrices ``(N, D, D)`` and is set in the
    native shape (``(N,)`` for spherical, ``(N, D)`` for diag, ``(D, D)`` for tied).
    Means are initialised by k-means over the data (one centre per emission group).
    Unlike hmmlearn there is no ``covars_prior``: the M-step is maximum likelihood with
    variances floored at ``min_covar``.
    """

    _emission_attributes = (("m", "means_"), ("c", "_covars_"))

    def __init__(self, n_components: int = 1, covariance_type: str = "diag",
                 min_covar: float = 1e-3, *, emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "stmc",
                 init_params: str = "stmc", implementation: str = "log") -> None:
        super().__init__(n_components, emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.covariance_type = covariance_type
        self.min_covar = min_covar

    @property
    def covars_(self) -> np.ndarray:
        covars = self._covars_
        if self.covariance_type == "full":
            return covars
        if self.covariance_type == "tied":
            return np.stack([covars] * self.n_components)
        n_features = getattr(self, "n_features", None) or np.shape(self.means_)[1]
        return np.stack([np.diag(np.broadcast_to(row, (n_features,))) for row in covars])

    @covars_.setter
    def covars_(self, covars: np.ndarray) -> None:
        covars = np.array(covars, dtype=float, copy=True)
        if self.covariance_type == "spherical" and covars.ndim and \
                covars.size == covars.shape[0]:
            covars = covars.reshape(covars.shape[0])  # one variance a state, however nested
        self._covars_ = covars

    def _make_emission(self, states: np.ndarray,
                       shared: SharedCovariance | None = None) -> GaussianEmission:
        if self.covariance_type not in COVARIANCE_TYPES:
            raise InvalidDataError(f"covariance_type must be one of {COVARIANCE_TYPES}, "
                                   f"got {self.covariance_type!r}")
        mean = self._attribute("means_", lambda m: m[states[0]])
        covar = shared or self._attribute("_covars_", lambda m: m[states[0]])
        n_features = self._known_n_features()
        if mean is None and covar is None and n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set means_")
        return GaussianEmission(mean, covar, n_features=n_features,
                                covariance=self.covariance_type, min_covar=self.min_covar)

    def _known_n_features(self) -> int | None:
        n_features = getattr(self, "n_features", None)
        if n_features is None and getattr(self, "means_", None) is not None:
            n_features = np.shape(self.means_)[-1]
        return n_features

    def _emission_maker(self):
        """With ``covariance_type="tied"`` every state's group reads one
        :class:`SharedCovariance` (hmmlearn's ``covars_`` of shape ``(D, D)``)."""
        if self.covariance_type != "tied":
            return self._make_emission
        n_features = self._known_n_features()
        covar = getattr(self, "_covars_", None)
        if n_features is None and covar is not None:
            n_features = np.shape(covar)[-1]
        if n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set means_")
        if covar is not None and np.shape(covar) != (n_features, n_features):
            raise InvalidDataError(f"tied covars_ must have shape ({n_features}, "
                                   f"{n_features}), got {np.shape(covar)}")
        shared = SharedCovariance(covar, n_features=n_features, min_covar=self.min_covar,
                                  name="tied covariance", trainable=True)
        return lambda states: self._make_emission(states, shared)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        arrays = {}
        if all(group.mean is not None for group in groups):
            arrays["means_"] = np.stack([group.mean for group in groups])
        if all(group.covar is not None for group in groups):
            arrays["_covars_"] = (groups[0].covar if self.covariance_type == "tied"
                                  else np.stack([group.covar for group in groups]))
        return arrays


class GMMHMM(_ArrayHMM):
    """Tied HMM with Gaussian-mixture emissions (hmmlearn's ``GMMHMM`` arrays).

    ``weights_`` is ``(N, n_mix)``, ``means_`` ``(N, n_mix, D)`` and ``covars_``
    ``(N, n_mix, D)`` (diag) or ``(N, n_mix, D, D)`` (full). The M-step is maximum
    likelihood with a ``min_covar`` floor, covariances centred at the new means
    (hmmlearn centres them at the previous means; its priors are not supported).
    """

    _emission_attributes = (("w", "weights_"), ("m", "means_"), ("c", "covars_"))

    def __init__(self, n_components: int = 1, n_mix: int = 1, min_covar: float = 1e-3, *,
                 covariance_type: str = "diag", emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "stmcw",
                 init_params: str = "stmcw", implementation: str = "log") -> None:
        super().__init__(n_components, emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)
        self.n_mix = n_mix
        self.covariance_type = covariance_type
        self.min_covar = min_covar

    def _make_emission(self, states: np.ndarray) -> GMMEmission:
        def pick(m):
            return m[states[0]]
        return GMMEmission(self._attribute("weights_", pick), self._attribute("means_", pick),
                           self._attribute("covars_", pick), n_mix=self.n_mix,
                           n_features=getattr(self, "n_features", None),
                           covariance=self.covariance_type, min_covar=self.min_covar)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        return {name: np.stack([getattr(group, field) for group in groups])
                for name, field in (("weights_", "weights"), ("means_", "means"),
                                    ("covars_", "covars"))
                if all(getattr(group, field) is not None for group in groups)}


class PoissonHMM(_ArrayHMM):
    """Tied HMM with independent Poisson emissions over count vectors (hmmlearn's
    ``PoissonHMM``): ``lambdas_`` is ``(N, n_features)``, its params letter ``l``.
    Rates start from hmmlearn's method-of-moments gamma draws; the M-step is maximum
    likelihood (hmmlearn's ``lambdas_prior`` is not supported yet)."""

    _emission_attributes = (("l", "lambdas_"),)

    def __init__(self, n_components: int = 1, *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "stl",
                 init_params: str = "stl", implementation: str = "log") -> None:
        super().__init__(n_components, emission_groups=emission_groups,
                         transition_groups=transition_groups, tie_strength=tie_strength,
                         algorithm=algorithm, random_state=random_state, n_iter=n_iter,
                         tol=tol, verbose=verbose, params=params, init_params=init_params,
                         implementation=implementation)

    def _make_emission(self, states: np.ndarray) -> PoissonEmission:
        lambdas = self._attribute("lambdas_", lambda m: np.atleast_2d(m)[states[0]])
        n_features = getattr(self, "n_features", None)
        if lambdas is None and n_features is None:
            raise InvalidDataError("n_features is unknown: fit the model or set lambdas_")
        return PoissonEmission(lambdas, n_features=n_features if lambdas is None else None)

    def _emission_arrays(self, topology: Topology) -> dict[str, np.ndarray]:
        groups = [topology.emission_groups[g] for g in topology.state_group]
        if any(group.lambdas is None for group in groups):
            return {}
        return {"lambdas_": np.stack([group.lambdas for group in groups])}


def _check_labels(labels, n_states: int, what: str) -> np.ndarray:
    """Labels ``0 .. G-1`` without gaps, one per state; None means one label per state."""
    if labels is None:
        return np.arange(n_states)
    array = np.asarray(labels)
    if array.shape != (n_states,):
        raise InvalidDataError(f"{what} must have one label per state ({n_states}), "
                               f"got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer) or array.min() < 0:
        raise InvalidDataError(f"{what} must be non-negative integer labels, got {list(labels)}")
    missing = sorted(set(range(int(array.max()) + 1)) - set(array.tolist()))
    if missing:
        raise InvalidDataError(f"{what} labels must be 0..{int(array.max())} with no gaps; "
                               f"missing {missing}")
    return array.astype(np.int64)
