"""Variational Bayes EM for the hmmlearn-style estimators, with tying.

The parameters get conjugate posteriors instead of point estimates: a Dirichlet for
the start probabilities and for each transition row, and the emission family's own
(see the subclasses). One iteration (Beal 2003, ch. 3; hmmlearn's ``vhmm``):

1. E-step: forward-backward under the *sub-normalised* weights ``exp E[log theta]``
   (start, transitions) and ``E[log p(x | theta)]`` (emissions); its log normaliser
   ``log Z`` and the posterior occupancies and transition counts.
2. The evidence lower bound of the posteriors the E-step used,
   ``ELBO = log Z - sum KL(q(theta_g) || p(theta_g))``, is what the monitor reports.
3. M-step: every posterior is its prior plus the expected counts.

**Tying** has the identity semantics of EM: states with one ``emission_groups`` label
(rows with one ``transition_groups`` label) share *one* posterior, updated from their
pooled counts, and the ELBO counts each shared posterior's KL once. Tied states must
hold equal prior and posterior rows in the array attributes (as EM's tied states hold
equal parameter rows); a tied group's prior is that row. ``fit`` leaves hmmlearn's
posterior attributes, and ``startprob_``, ``transmat_`` and the emission attributes at
the posterior means, which ``score``, ``decode``, ``predict``, ``predict_proba`` and
``sample`` use (through the plain estimator of those values, :meth:`point_estimate`).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import em, parallel
from .._kernels.hmm import group_occupancy
from ..errors import ImpossibleSequenceError, InvalidDataError, TyingError
from ..estimators.base import IMPLEMENTATIONS, ArrayHMM, check_labels, filled_docstring
from ..hmm import inference
from ..hmm.model import HMM, BaseHMM, EMPlan
from ..io.checks import check_random_state, lengths_to_offsets
from ..tying import SoftTie, Topology
from .divergences import dirichlet_expected_log, kl_dirichlet

log = logging.getLogger(__name__)
#: Tied rows of an attribute may differ by this much.
TIED_ROW_TOLERANCE = 1e-10

#: The constructor arguments every variational estimator shares, in numpydoc form.
VARIATIONAL_PARAMETERS = """\
startprob_prior, transmat_prior : float or array, optional
    Dirichlet concentrations of the start probabilities and of each transition row;
    default ``1 / n_components``.
algorithm : {"viterbi", "map"}, default "viterbi"
    What ``decode`` and ``predict`` use.
random_state : int, numpy.random.RandomState or None
    Seeds the initial posteriors.
n_iter : int, default 100
    The most iterations.
tol : float, default 1e-6
    Fitting stops when the evidence lower bound gains less than this.
verbose : bool, default False
    Print each iteration's lower bound to stderr.
params, init_params : str
    hmmlearn's letters: the posteriors the iterations update, and those ``fit``
    initialises (an attribute left out of ``init_params`` and set before ``fit`` is
    kept).
implementation : {"log", "scaling"}, default "log"
    Accepted for hmmlearn; both run tiedhmm's exact per-step normalisers.
emission_groups : sequence of int, optional
    One label per state, ``0 .. G-1`` without gaps: states with one label share one
    emission posterior. Default: one per state.
transition_groups : sequence of int, optional
    One label per state: rows with one label share one Dirichlet posterior.
    Default: one per row."""


def documented(cls: type) -> type:
    """Fill ``{variational_parameters}`` in a class docstring with the text above."""
    return filled_docstring(cls, {"variational_parameters": VARIATIONAL_PARAMETERS})


def grouped(value: Any, labels: np.ndarray, name: str) -> np.ndarray:
    """The first row of each label's rows of a per-state array; a :class:`TyingError`
    names a tied row that differs from its group's first."""
    value = np.asarray(value, dtype=float)
    firsts = np.unique(labels, return_index=True)[1]
    rows: np.ndarray = value[firsts]
    differs = np.abs(value - rows[labels]) > TIED_ROW_TOLERANCE
    bad = np.flatnonzero(differs.reshape(len(labels), -1).any(axis=1))
    if bad.size:
        state = int(bad[0])
        raise TyingError(f"{name}[{state}] differs from {name}[{int(firsts[labels[state]])}], "
                         f"which it is tied to (tied states share one posterior: set equal "
                         f"rows)")
    return rows


def checked_shape(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """An attribute as a float array of ``shape``: a ValueError names it otherwise."""
    array = np.asarray(value, dtype=float)
    if array.shape != shape:
        raise InvalidDataError(f"{name} must have shape {shape}, got {array.shape}")
    return array


def positive(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` when every entry is a finite number > 0 (Dirichlet concentrations,
    Wishart degrees of freedom, ...)."""
    if not np.all(np.isfinite(array) & (array > 0)):
        raise InvalidDataError(f"{name} must be finite and > 0, got {array.ravel()[:8]}")
    return array


class VariationalHMM(BaseHMM):
    """Shared machinery of the variational estimators (not for direct use)."""

    #: The emission attributes of the point estimate (the posterior means).
    _point_names: tuple[str, ...] = ()
    n_components: int
    startprob_prior: Any
    transmat_prior: Any
    emission_groups: Sequence[int] | None
    transition_groups: Sequence[int] | None
    params: str
    init_params: str
    implementation: str

    def _set_shared(self, n_components: int, startprob_prior: Any, transmat_prior: Any,
                    algorithm: str, random_state: Any, n_iter: int, tol: float,
                    verbose: bool, params: str, init_params: str, implementation: str,
                    emission_groups: Sequence[int] | None,
                    transition_groups: Sequence[int] | None) -> None:
        self.n_components = n_components
        self.startprob_prior = startprob_prior
        self.transmat_prior = transmat_prior
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.params = params
        self.init_params = init_params
        self.implementation = implementation
        self.emission_groups = emission_groups
        self.transition_groups = transition_groups

    # -- labels ---------------------------------------------------------------------
    def _emission_labels(self) -> np.ndarray:
        return check_labels(self.emission_groups, self.n_components, "emission_groups")

    def _transition_labels(self) -> np.ndarray:
        if isinstance(self.transition_groups, str):
            raise InvalidDataError(f"transition_groups must be None or one label per state "
                                   f"for variational fitting, got {self.transition_groups!r}")
        return check_labels(self.transition_groups, self.n_components, "transition_groups")

    # -- hmmlearn's hooks ------------------------------------------------------------
    def _needs_init(self, code: str, name: str) -> bool:
        """hmmlearn's rule: a letter in ``init_params``, or an attribute not set."""
        return code in self.init_params or not hasattr(self, name)

    def _needs_init_any(self, code: str, names: Sequence[str]) -> bool:
        return any(self._needs_init(code, name) for name in names)

    @abstractmethod
    def _check_and_set_n_features(self, X: np.ndarray) -> None:
        """Check the data against ``n_features`` (set it when unset)."""

    def _init(self, X: np.ndarray, lengths: Sequence[int] | np.ndarray) -> None:
        """Initialise the posteriors ``_needs_init`` names, drawing as hmmlearn does:
        start and transition posteriors from Dirichlet(1/N) draws scaled by the
        sequence count and the frames per state (one draw per tied transition
        group), then the family's."""
        self._check_and_set_n_features(X)
        n_states = self.n_components
        even = np.full(n_states, 1.0 / n_states)
        rng = check_random_state(self.random_state)
        if self._needs_init_any("s", ("startprob_prior_", "startprob_posterior_")):
            prior = even if self.startprob_prior is None else self.startprob_prior
            self.startprob_prior_ = np.array(np.broadcast_to(prior, n_states), dtype=float)
            self.startprob_posterior_ = rng.dirichlet(even) * len(lengths)
        if self._needs_init_any("t", ("transmat_prior_", "transmat_posterior_")):
            prior = even if self.transmat_prior is None else self.transmat_prior
            self.transmat_prior_ = np.array(np.broadcast_to(prior, (n_states, n_states)),
                                            dtype=float)
            labels = self._transition_labels()
            rows = rng.dirichlet(even, size=labels.max() + 1)
            self.transmat_posterior_ = rows[labels] * np.sum(lengths) / n_states
        self._init_emissions(X, lengths)

    @abstractmethod
    def _init_emissions(self, X: np.ndarray, lengths: Sequence[int] | np.ndarray) -> None:
        """The family's share of :meth:`_init`."""

    def _check(self) -> None:
        """Shapes, positivity and tying of every prior and posterior (ValueError naming
        the attribute), as hmmlearn checks before fitting."""
        if self.implementation not in IMPLEMENTATIONS:
            raise InvalidDataError(f"implementation must be one of {IMPLEMENTATIONS}, got "
                                   f"{self.implementation!r}")
        n_states = self.n_components
        for name in ("startprob_prior_", "startprob_posterior_"):
            setattr(self, name, positive(checked_shape(getattr(self, name), (n_states,), name),
                                         name))
        labels = self._transition_labels()
        for name in ("transmat_prior_", "transmat_posterior_"):
            value = positive(checked_shape(getattr(self, name), (n_states, n_states), name),
                             name)
            grouped(value, labels, name)
            setattr(self, name, value)
        self._check_emissions()

    @abstractmethod
    def _check_emissions(self) -> None:
        """The family's share of :meth:`_check`."""

    # -- the family's posteriors -----------------------------------------------------
    @abstractmethod
    def _prepared(self, X: Any) -> np.ndarray:
        """The observations as the family reads them (a ValueError names bad data)."""

    @abstractmethod
    def _expected_log_table(self, X: np.ndarray) -> np.ndarray:
        """``(T, G)`` ``E[log p(x_t | theta_g)]`` of each emission group."""

    @abstractmethod
    def _emission_divergence(self) -> float:
        """The sum of the emission posteriors' KL divergences from their priors."""

    @abstractmethod
    def _emission_statistics(self, X: np.ndarray, occupancy: np.ndarray
                             ) -> dict[str, np.ndarray]:
        """The emission groups' expected statistics from ``(T, G)`` occupancies (they add
        across chunks)."""

    @abstractmethod
    def _update_emissions(self, stats: dict[str, np.ndarray]) -> None:
        """The emission posteriors' M-step: prior plus the pooled statistics."""

    @abstractmethod
    def _point_arrays(self) -> dict[str, np.ndarray]:
        """The emission attributes at the posterior means."""

    @abstractmethod
    def _new_point_estimate(self) -> ArrayHMM:
        """A plain estimator of this family with these settings (no arrays yet)."""

    # -- fitting -------------------------------------------------------------------
    def fit(self, X: np.ndarray, lengths: Sequence[int] | None = None, *,
            state_labels: Sequence[int] | np.ndarray | None = None,
            client: Any = None, callback: Callable[[int, float], None] | None = None
            ) -> VariationalHMM:
        """Fit the posteriors by variational Bayes EM (see the module docstring).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence; None: one sequence.
        state_labels, client
            Not offered for variational fitting: given, they raise.
        callback : callable, optional
            ``callback(iteration, lower_bound)`` hears every iteration.

        Returns
        -------
        self
            ``monitor_.history`` holds the evidence lower bound of every iteration.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Data the model cannot read, posteriors of the wrong shape, or tied rows that
            differ.
        tiedhmm.errors.ImpossibleSequenceError
            A sequence with no path of positive weight.
        """
        if state_labels is not None or client is not None:
            raise InvalidDataError("variational fitting takes no state_labels or client; "
                                   "EM's estimators (CategoricalHMM, GaussianHMM) do")
        X = self._prepared(X)
        offsets = lengths_to_offsets(X.shape[0], lengths)
        self._init(X, np.diff(offsets))
        self._check()
        monitor = self._fresh_monitor(callback)
        while monitor.iter < monitor.n_iter:
            log_normaliser, stats = self._e_step(X, offsets)
            bound = log_normaliser - self._divergence()
            self._m_step(stats)
            monitor.report(bound)
            if monitor.converged:
                break
        self._set_point_arrays()
        return self

    def lower_bound(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> float:
        """The evidence lower bound of ``X`` under the current posteriors (what ``fit``
        reports each iteration).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence; None: one sequence.

        Returns
        -------
        float
            ``log Z - sum_g KL(q_g || p_g)``, each shared posterior counted once.
        """
        return self.statistics(X, lengths).loglik - self._divergence()

    def initialize(self, X: np.ndarray, lengths: Sequence[int] | None = None
                   ) -> VariationalHMM:
        """Initialise the posteriors as :meth:`fit` would from ``(X, lengths)``, and run
        no iteration: the start of streamed training (:meth:`statistics`).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations (a first chunk, or a sample of the data).
        lengths : sequence of int, optional
            The length of each sequence.

        Returns
        -------
        self
            With its posteriors set.
        """
        X = self._prepared(X)
        self._init(X, np.diff(lengths_to_offsets(X.shape[0], lengths)))
        self._check()
        self._set_point_arrays()
        return self

    def statistics(self, X: np.ndarray, lengths: Sequence[int] | None = None, *,
                   state_labels: Sequence[int] | np.ndarray | None = None) -> em.Statistics:
        """One variational E-step over a chunk of sequences under the current
        posteriors: statistics of chunks add up, and :meth:`update` with their sum is
        one iteration of :meth:`fit` over all of them.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of whole sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence.
        state_labels
            Not offered for variational fitting: given, it raises.

        Returns
        -------
        tiedhmm.em.Statistics
            ``loglik`` is the chunk's log normaliser ``log Z``; the lower bound of
            the data is the total's ``loglik`` minus the posteriors' divergence
            (:meth:`lower_bound` on data in memory).
        """
        if state_labels is not None:
            raise InvalidDataError("variational fitting takes no state_labels")
        X = self._prepared(X)
        self._check_and_set_n_features(X)
        self._check()
        offsets = lengths_to_offsets(X.shape[0], lengths)
        log_normaliser, stats = self._e_step(X, offsets)
        return em.Statistics(log_normaliser, len(offsets) - 1, {0: stats},
                             self._statistics_layout())

    def update(self, statistics: em.Statistics) -> VariationalHMM:
        """The variational M-step from (summed) :meth:`statistics`.

        Parameters
        ----------
        statistics : tiedhmm.em.Statistics
            From :meth:`statistics` of this model, summed over chunks.

        Returns
        -------
        self
            With updated posteriors.
        """
        if statistics.layout != self._statistics_layout():
            raise InvalidDataError("these statistics come from another model")
        self._m_step(statistics.by_group[0])
        return self

    def _statistics_layout(self) -> tuple[str, ...]:
        return ("variational", type(self).__name__, str(self.n_components),
                str(getattr(self, "n_features", None)), repr(self.emission_groups),
                repr(self.transition_groups))

    def _e_step(self, X: np.ndarray, offsets: np.ndarray
                ) -> tuple[float, dict[str, np.ndarray]]:
        """Forward-backward under the sub-normalised weights: ``log Z`` and the
        expected counts (start, transitions pooled per group, the emissions')."""
        labels, emission_labels = self._transition_labels(), self._emission_labels()
        rows = grouped(self.transmat_posterior_, labels, "transmat_posterior_")
        start = np.exp(dirichlet_expected_log(self.startprob_posterior_))
        found = inference.weighted_expectations(
            self._expected_log_table(X), emission_labels, start,
            np.exp(dirichlet_expected_log(rows))[labels], offsets)
        impossible = np.flatnonzero(~np.isfinite(found.loglik))
        if impossible.size:
            raise ImpossibleSequenceError(f"sequence {int(impossible[0])} has no path of "
                                          f"positive weight under the current posteriors")
        transitions = np.zeros_like(rows)
        np.add.at(transitions, labels, found.transitions)
        with parallel.kernel_threads(X.shape[0] * self.n_components ** 2):
            occupancy = group_occupancy(found.posterior, emission_labels,
                                        int(emission_labels.max()) + 1)
        return float(found.loglik.sum()), {"starts": found.starts, "transitions": transitions,
                                           **self._emission_statistics(X, occupancy)}

    def _divergence(self) -> float:
        """``sum KL(q || p)`` over the start, each transition group once, and the
        emissions."""
        labels = self._transition_labels()
        rows = grouped(self.transmat_posterior_, labels, "transmat_posterior_")
        priors = grouped(self.transmat_prior_, labels, "transmat_prior_")
        return float(kl_dirichlet(self.startprob_posterior_, self.startprob_prior_)
                     + kl_dirichlet(rows, priors).sum() + self._emission_divergence())

    def _m_step(self, stats: dict[str, np.ndarray]) -> None:
        """Every posterior in ``params`` becomes its prior plus the pooled counts."""
        if "s" in self.params:
            self.startprob_posterior_ = self.startprob_prior_ + stats["starts"]
        if "t" in self.params:
            labels = self._transition_labels()
            priors = grouped(self.transmat_prior_, labels, "transmat_prior_")
            self.transmat_posterior_ = (priors + stats["transitions"])[labels]
        self._update_emissions(stats)
        self._set_point_arrays()

    def _set_point_arrays(self) -> None:
        self.startprob_ = self.startprob_posterior_ / self.startprob_posterior_.sum()
        self.transmat_ = self.transmat_posterior_ / self.transmat_posterior_.sum(
            axis=1, keepdims=True)
        for name, value in self._point_arrays().items():
            setattr(self, name, value)

    # -- inference through the point estimate ---------------------------------------------
    def point_estimate(self) -> ArrayHMM:
        """The plain estimator at the posterior means (``startprob_``, ``transmat_`` and
        the emission attributes), with this model's tying: what ``score``, ``decode``,
        ``predict``, ``predict_proba`` and ``sample`` use.

        Returns
        -------
        ArrayHMM
            A new ``CategoricalHMM`` or ``GaussianHMM`` holding this model's arrays.
        """
        point = self._new_point_estimate()
        for name in ("startprob_", "transmat_", *self._point_names):
            if hasattr(self, name):
                setattr(point, name, getattr(self, name))
        return point

    def _model(self, fresh: bool = False) -> tuple[Topology, list[SoftTie]]:
        model = self.point_estimate().to_hmm()  # its own groups, fresh on every call
        return model.topology, model.soft_ties

    def _initialize(self, topology: Topology, batch: inference.Batch,
                    rng: np.random.RandomState) -> None:
        inference.initialize(topology, batch, rng, "kmeans")

    def _emission_params(self) -> str:
        return self.params

    def to_hmm(self) -> HMM:
        """The general HMM at the posterior means (see :meth:`point_estimate`)."""
        return self.point_estimate().to_hmm()

    def em_plan(self, X: np.ndarray, lengths: Sequence[int] | None,
                rng: np.random.RandomState, *,
                state_labels: Sequence[int] | np.ndarray | None = None,
                client: Any = None) -> EMPlan:
        """Not offered: a variational model is fitted by its own :meth:`fit`; a
        :class:`~tiedhmm.ModelSet` holds EM's estimators."""
        raise InvalidDataError(f"{type(self).__name__} is fitted by variational Bayes; "
                               f"ModelSet and em_plan take EM's estimators")
