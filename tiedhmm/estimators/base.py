"""What every hmmlearn-style estimator shares: arrays compiled to tied groups.

Parameters live in hmmlearn's array attributes (``startprob_``, ``transmat_``,
``emissionprob_`` / ``means_``, ``covars_``); tied states hold equal rows. The
estimators compile the arrays to tied groups (kept until an argument or an array
changes), run the machinery of :class:`tiedhmm.hmm.model.BaseHMM`, and ``fit`` writes the
fitted groups back. ``to_hmm()`` gives the general :class:`~tiedhmm.hmm.model.HMM` they
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
- Priors (``startprob_prior``, ``transmat_prior``, ``emissionprob_prior``,
  ``means_prior`` / ``means_weight``, ``covars_prior`` / ``covars_weight``,
  ``weights_prior``, ``lambdas_prior`` / ``lambdas_weight``) have hmmlearn's meaning
  and defaults and make the M-step MAP; a tied group takes the product of its
  states' priors (:mod:`tiedhmm.estimators.priors`).
- ``min_covar`` is hmmlearn's: added to the data's covariance that starts EM.
  ``covar_floor`` (tiedhmm's, default 0) floors every variance in every M-step.
- ``_init``, ``_check`` and ``_check_and_set_n_features`` are hmmlearn's hooks of the
  same names (its subclasses and tests call them): ``fit`` runs ``_init`` then
  ``_check``.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..emissions import (
    EmissionGroup,
)
from ..errors import InvalidDataError, TyingError
from ..hmm import inference
from ..hmm.model import HMM, BaseHMM
from ..io.checks import check_random_state
from ..tying import Label, SoftTie, Topology, TransitionGroup
from . import priors

MATCH_TOLERANCE = 1e-10
log = logging.getLogger(__name__)
#: hmmlearn's forward-backward variants: both run tiedhmm's per-step normalisers and
#: give the same numbers, but ``"scaling"`` keeps hmmlearn's limit that a frame whose
#: every state's probability underflows raises (``"log"`` does not).
IMPLEMENTATIONS = ("log", "scaling")


#: The constructor arguments every estimator shares, in numpydoc form: each estimator's
#: docstring names ``{shared_parameters}`` where they belong (see :func:`documented`).
SHARED_PARAMETERS = """\
startprob_prior, transmat_prior : float or array, default 1.0
    Dirichlet concentrations of the start probabilities and of each transition row
    (1 is no prior; otherwise the M-step is MAP), as in hmmlearn.
algorithm : {"viterbi", "map"}, default "viterbi"
    What ``decode`` and ``predict`` use.
random_state : int, numpy.random.RandomState or None
    Seeds the initialisation; resolved in ``fit``.
n_iter : int, default 10
    The most EM iterations.
tol : float, default 1e-2
    EM stops when the log-likelihood gains less than this.
verbose : bool, default False
    Print each iteration's log-likelihood to stderr.
params, init_params : str
    hmmlearn's letters: the parameters EM updates, and those ``fit`` initialises
    (``s`` start, ``t`` transitions, then the family's emission letters). A letter left
    out of ``init_params`` keeps an attribute set before ``fit``.
implementation : {"log", "scaling"}, default "log"
    Both run tiedhmm's exact per-step normalisers and give the same numbers;
    ``"scaling"`` keeps hmmlearn's limit: a frame where every state's probability
    underflows to 0 raises ValueError (``"log"`` carries on).
emission_groups : sequence of int, optional
    One label per state, ``0 .. G-1`` without gaps: states with one label share one
    emission distribution. Default: one distribution per state.
transition_groups : sequence of int or "left-right", optional
    One label per state: rows with one label share one transition row;
    ``"left-right"``: every state but the last shares one ``{stay, next}`` row (the
    last stays). Default: one row per state.
tie_strength : float, default inf
    ``inf`` ties hard; a finite λ >= 0 ties softly: tied states keep their own
    parameters, pulled toward the group's pooled estimate (0 is untied)."""

#: What every estimator has after ``fit``, in numpydoc form (``{shared_attributes}``).
SHARED_ATTRIBUTES = """\
startprob_ : ndarray of shape (n_components,)
    Start probabilities.
transmat_ : ndarray of shape (n_components, n_components)
    Transition probabilities; tied rows hold equal values.
monitor_ : ConvergenceMonitor
    The last fit's EM history (``history``, ``iter``, ``converged``)."""


def documented(cls: type) -> type:
    """Fill ``{shared_parameters}`` and ``{shared_attributes}`` in a class docstring with
    the texts above, indented as the docstring is."""
    return filled_docstring(cls, {"shared_parameters": SHARED_PARAMETERS,
                                  "shared_attributes": SHARED_ATTRIBUTES})


def filled_docstring(cls: type, texts: dict[str, str]) -> type:
    """Replace each ``{name}`` line of a class docstring with ``texts[name]``, indented
    as that line is."""
    doc = cls.__doc__ or ""
    for name, text in texts.items():
        found = re.search(r"^( *)\{" + name + r"\}", doc, re.MULTILINE)
        if found:
            indent = found.group(1)
            filled = "\n".join(indent + line if line else line for line in text.splitlines())
            doc = doc.replace(found.group(0), filled)
    cls.__doc__ = doc
    return cls


class ArrayHMM(BaseHMM, ABC):
    """Shared machinery of the array-backed estimators (not for direct use)."""

    #: (letter, attribute) pairs of the family's emission parameters.
    _emission_attributes: tuple[tuple[str, str], ...] = ()

    def __init__(self, n_components: int = 1, startprob_prior: ArrayLike = 1.0,
                 transmat_prior: ArrayLike = 1.0, *,
                 emission_groups: Sequence[int] | None = None,
                 transition_groups: Sequence[int] | str | None = None,
                 tie_strength: float = np.inf, algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, params: str = "",
                 init_params: str = "", implementation: str = "log") -> None:
        self.n_components = n_components
        self.startprob_prior = startprob_prior
        self.transmat_prior = transmat_prior
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
        return check_labels(self.emission_groups, self.n_components, "emission_groups")

    def _transition_layout(self) -> tuple[np.ndarray, bool]:
        """Row labels (-1: fixed row) and whether outcomes are relative (left-right)."""
        if isinstance(self.transition_groups, str):
            if self.transition_groups != "left-right":
                raise InvalidDataError(f"transition_groups must be None, one label per state or "
                                       f"'left-right', got {self.transition_groups!r}")
            labels = np.zeros(self.n_components, dtype=np.int64)
            labels[-1] = -1
            return labels, True
        return check_labels(self.transition_groups, self.n_components,
                            "transition_groups"), False

    @property
    def _hard(self) -> bool:
        if not self.tie_strength >= 0:
            raise InvalidDataError(f"tie_strength must be >= 0 (inf for hard tying), "
                                   f"got {self.tie_strength}")
        return self.tie_strength == np.inf

    # -- arrays -> groups ------------------------------------------------------------
    def _fingerprint(self) -> tuple[Any, ...]:
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
        start_prior = priors.dirichlet(
            priors.broadcast(self.startprob_prior, (1, n_states), "startprob_prior"))
        start_group = TransitionGroup([str(j) for j in range(n_states)],
                                      getattr(self, "startprob_", None), name="start",
                                      trainable="s" in self.params, prior=start_prior)
        start: dict[int | str, Label] = {j: (start_group, str(j)) for j in range(n_states)}
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

    def _grouped(self, labels: np.ndarray, make: Callable[[np.ndarray], Any],
                 ties: list[SoftTie]) -> list[Any]:
        """One object per label (hard tying) or per state, soft-tied by label."""
        per_state: list[Any] = [None] * len(labels)
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
        first, n_states = rows[0], self.n_components
        alpha = priors.broadcast(self.transmat_prior, (n_states, n_states),
                                 "transmat_prior")
        if relative:
            outcomes = ["stay", "next"]
            probs = self._attribute("transmat_", lambda m: m[first, [first, first + 1]])
            alpha = alpha[rows[:, None], np.stack([rows, rows + 1], axis=1)]
        else:
            outcomes = [str(j) for j in range(n_states)]
            probs = self._attribute("transmat_", lambda m: m[first])
            alpha = alpha[rows]
        return TransitionGroup(outcomes, probs, name=f"row {first}",
                               trainable="t" in self.params,
                               prior=priors.dirichlet(alpha))

    def _attribute(self, name: str, pick: Callable[[np.ndarray], np.ndarray]
                   ) -> np.ndarray | None:
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

    def _emission_maker(self) -> Callable[[np.ndarray], EmissionGroup]:
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

    # -- hmmlearn's hooks ------------------------------------------------------------
    def _needs_init(self, code: str, name: str) -> bool:
        """hmmlearn's rule: initialise an attribute whose letter is in ``init_params``
        (warning when that overwrites a set value) or that is not set."""
        if code in self.init_params:
            if hasattr(self, name):
                log.warning("Even though the %r attribute is set, it will be overwritten "
                            "during initialization because 'init_params' contains %r",
                            name, code)
            return True
        return not hasattr(self, name)

    def _check_and_set_n_features(self, X: np.ndarray) -> None:
        """Take ``n_features`` from the data's columns, or check them against it."""
        X = np.asarray(X)
        n_features = X.shape[1] if X.ndim == 2 else 1
        if getattr(self, "n_features", None) is None:
            self.n_features = n_features
        elif self.n_features != n_features:
            raise InvalidDataError(f"Unexpected number of dimensions, got {n_features} but "
                                   f"expected {self.n_features}")

    def _init(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> None:
        """Initialise the parameters ``_needs_init`` names, as hmmlearn does: start and
        transition rows from Dirichlet(1/N) draws (one per tied group; left-right rows
        start even), emissions by the family (k-means with restarts for means, one
        centre per emission group). ``lengths`` is accepted as hmmlearn's."""
        X = np.asarray(X)
        self._check_and_set_n_features(X)
        rng = check_random_state(self.random_state)
        for letter, name in (("s", "startprob_"), ("t", "transmat_"),
                             *self._emission_attributes):
            if self._needs_init(letter, name.lstrip("_")) and hasattr(self, name):
                delattr(self, name)
        n_states = self.n_components
        even = np.full(n_states, 1.0 / n_states)
        if not hasattr(self, "startprob_"):
            self.startprob_ = rng.dirichlet(even)
        labels, relative = self._transition_layout()
        if not hasattr(self, "transmat_") and not relative:
            per_row = labels if self._hard else np.arange(n_states)
            self.transmat_ = rng.dirichlet(even, size=per_row.max() + 1)[per_row]
        self._init_emission_arrays(X)
        topology, _ = self._model(fresh=True)
        inference.initialize(topology, inference.Batch.from_data(topology, X, None), rng,
                             "kmeans")
        self._store(topology)
        self._warn_if_too_little_data(X)

    def _init_emission_arrays(self, X: np.ndarray) -> None:
        """Set the family's arrays hmmlearn sets from the data itself (the covariances);
        the rest are set from the compiled groups."""

    def _check(self) -> None:
        """Validate the set parameters as hmmlearn does before EM (ValueError naming the
        problem): shapes, rows summing to 1, the tying rules, the family's checks."""
        self._model()

    # -- HMM hooks ---------------------------------------------------------------------
    @property
    def _unshifted(self) -> bool:
        return bool(self.implementation == "scaling")

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

    def _prepare_fit(self, X: np.ndarray, lengths: Sequence[int] | None) -> None:
        """hmmlearn's start of ``fit``: ``_init`` (which warns of too little data) then
        ``_check``."""
        self._init(X, lengths)
        self._check()


def emissionprob_arrays(topology: Topology) -> dict[str, np.ndarray]:
    """``emissionprob_`` from the groups of a model of symbol probabilities (once set)."""
    groups = [topology.emission_groups[g] for g in topology.state_group]
    if any(group.probs is None for group in groups):
        return {}
    return {"emissionprob_": np.stack([group.probs for group in groups])}


def non_negative(value: Any, name: str) -> float:
    """A setting that must be a number >= 0, as a float; a clear error otherwise."""
    number = isinstance(value, (int, float, np.integer, np.floating)) \
        and not isinstance(value, bool)
    if not number or not float(value) >= 0:
        raise InvalidDataError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def check_labels(labels: Sequence[int] | str | np.ndarray | None, n_states: int,
                 what: str) -> np.ndarray:
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
