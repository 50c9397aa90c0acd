"""HMM models: the shared inference of every HMM, and the general tied HMM.

:class:`BaseHMM` holds what every HMM does with a compiled topology: fit (EM through
the model skeleton), score, decode, posteriors, sampling and files. :class:`HMM` holds
its parameters in its group objects (tying is identity: states that reference one
group share it, and so do separate models that hold the same group). The
hmmlearn-style classes in :mod:`tiedhmm.estimators` are BaseHMMs too: they compile
their array attributes to groups, and ``to_hmm()`` turns them into a general HMM.
"""

from __future__ import annotations

import functools
import logging
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import em
from ..em.model import EMModel, stored_dict, stored_list
from ..emissions import EmissionGroup
from ..errors import ImpossibleSequenceError, InvalidDataError
from ..io.checks import check_random_state
from ..io.records import GroupReader, GroupWriter
from ..tying import Label, SoftTie, Topology
from . import inference

DECODE_ALGORITHMS = ("viterbi", "map")
HMM_FORMAT = "tiedhmm.HMM"
log = logging.getLogger(__name__)
#: The settings a model file keeps.
SETTINGS = ("algorithm", "n_iter", "tol", "init")


@dataclass(frozen=True)
class EMPlan:
    """EM of one model, prepared: what EM reads, the model's soft ties, and the step
    that keeps the fitted groups once EM is done (see :meth:`BaseHMM.em_plan`)."""

    source: em.StatisticsSource
    soft_ties: list[SoftTie]
    finish: Callable[[], None]


class BaseHMM(EMModel):
    """Fitting and inference on a compiled topology (subclasses say how it is compiled)."""

    document_kind = HMM_FORMAT
    algorithm: str
    random_state: int | np.random.RandomState | None

    @abstractmethod
    def _model(self, fresh: bool = False) -> tuple[Topology, list[SoftTie]]:
        """The topology of the current parameters and its soft ties (``fresh``: groups
        not shared with an earlier call, for a fit to update)."""

    @abstractmethod
    def _initialize(self, topology: Topology, batch: inference.Batch,
                    rng: np.random.RandomState) -> None:
        """Set unset emission parameters from data."""

    def _prepare_fit(self, X: np.ndarray, lengths: Sequence[int] | None) -> None:
        """Settle what the data decide before the model is compiled for ``fit``."""
        self._warn_if_too_little_data(X)

    def _warn_if_too_little_data(self, X: np.ndarray) -> None:
        """hmmlearn's warning when the data hold fewer values than free parameters."""
        if np.size(X) < (n_free := self.n_free_parameters()):
            log.warning("Fitting a model with %d free scalar parameters with only %d data "
                        "points will result in a degenerate solution.", n_free, np.size(X))

    def _emission_params(self) -> str | None:
        """hmmlearn ``params`` letters for the emission M-step (None: every parameter)."""
        return None

    @property
    def _unshifted(self) -> bool:
        """Whether the forward keeps hmmlearn's ``implementation="scaling"`` limits
        (see :class:`~tiedhmm.hmm.inference.Batch`)."""
        return False

    def _store(self, topology: Topology) -> None:
        """Keep the fitted groups (array-backed models copy them to their attributes)."""

    @abstractmethod
    def to_hmm(self) -> HMM:
        """This model as a general :class:`HMM` (itself for an HMM)."""

    # -- fitting ------------------------------------------------------------------------
    def fit(self, X: np.ndarray, lengths: Sequence[int] | None = None, *,
            state_labels: Sequence[int] | np.ndarray | None = None,
            client: Any = None, callback: Callable[[int, float], None] | None = None
            ) -> BaseHMM:
        """Estimate the trainable groups by EM (Baum-Welch) with pooled tied statistics.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.
        state_labels : array of shape (n_samples,), optional
            The known state of frames, ``-1`` where it is unknown: a known frame's
            posterior is clamped to its state (forward-backward over the paths that
            agree with the labels), so fully labelled data gives the supervised
            (counting) estimates in one iteration and partial labels give EM under
            those constraints.
        client : dask.distributed.Client, optional
            Run the E-step over chunks of sequences on this cluster
            (see :mod:`tiedhmm.parallel`).
        callback : callable, optional
            ``callback(iteration, loglik)`` hears every iteration.

        Returns
        -------
        self
            The fitted model; ``monitor_`` holds the EM history.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Data the model cannot read (wrong shape, inf, lengths that do not sum), or
            state labels that are not one state or -1 per sample. (NaN entries, and the
            symbol -1 of categorical data, are missing values: marginalised.)
        tiedhmm.errors.ImpossibleSequenceError
            A sequence the model cannot generate (with its labels).
        """
        plan = self.em_plan(X, lengths, check_random_state(self.random_state),
                            state_labels=state_labels, client=client)
        self._run_em([plan.source], soft_ties=plan.soft_ties,
                     emission_params=self._emission_params(), callback=callback)
        plan.finish()
        return self

    def em_plan(self, X: np.ndarray, lengths: Sequence[int] | None,
                rng: np.random.RandomState, *,
                state_labels: Sequence[int] | np.ndarray | None = None,
                client: Any = None) -> EMPlan:
        """Prepare EM of this model on ``(X, lengths)`` without running it.

        The model is compiled with groups of its own for the fit, unset emission
        parameters are initialised from the data with ``rng``, and the returned plan
        holds the statistics source EM reads, the soft ties and ``finish``, which
        keeps the fitted groups. :class:`~tiedhmm.hmm.modelset.ModelSet` runs one EM
        over the plans of several models; ``fit`` runs it over one.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int or None
            The length of each sequence.
        rng : numpy.random.RandomState
            The generator that initialises unset parameters.
        state_labels : array of shape (n_samples,), optional
            Known states, ``-1`` where unknown (see :meth:`fit`).
        client : dask.distributed.Client, optional
            Run the E-step on this cluster.

        Returns
        -------
        EMPlan
            ``source``, ``soft_ties`` and ``finish()``.
        """
        topology, soft_ties, batch = self._initialized(X, lengths, rng, state_labels)
        return EMPlan(inference.batch_source(topology, batch, client), soft_ties,
                      functools.partial(self._store, topology))

    def _initialized(self, X: np.ndarray, lengths: Sequence[int] | None,
                     rng: np.random.RandomState,
                     state_labels: Sequence[int] | np.ndarray | None
                     ) -> tuple[Topology, list[SoftTie], inference.Batch]:
        """What ``fit`` starts from: the model compiled with groups of its own, the
        data checked, unset parameters initialised from them."""
        self._prepare_fit(X, lengths)
        topology, soft_ties = self._model(fresh=True)
        batch = inference.Batch.from_data(topology, X, lengths, state_labels,
                                          unshifted=self._unshifted)
        self._initialize(topology, batch, rng)
        return topology, soft_ties, batch

    # -- streamed training -----------------------------------------------------------------
    def initialize(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> BaseHMM:
        """Initialise the parameters as :meth:`fit` would from ``(X, lengths)``, and run
        no EM: the start of streamed training on a first chunk (or a sample).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations (a first chunk, or a sample of the data).
        lengths : sequence of int, optional
            The length of each sequence.

        Returns
        -------
        self
            With its parameters set.
        """
        topology, _, _ = self._initialized(X, lengths, check_random_state(self.random_state),
                                           None)
        self._store(topology)
        return self

    def statistics(self, X: np.ndarray, lengths: Sequence[int] | None = None, *,
                   state_labels: Sequence[int] | np.ndarray | None = None) -> em.Statistics:
        """One E-step over a chunk of sequences under the current parameters.

        Statistics of chunks add up (``a + b``, ``sum(...)``), and :meth:`update` with
        their sum is one EM iteration over all of them: data that do not fit in memory
        are read a chunk at a time (a memory-mapped ``.npy``, files, a database).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of whole sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence.
        state_labels : array of shape (n_samples,), optional
            Known states, ``-1`` where unknown (see :meth:`fit`).

        Returns
        -------
        tiedhmm.em.Statistics
            The chunk's log-likelihood and each group's expected statistics.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Unset parameters (call :meth:`initialize` first), or data the model
            cannot read.
        tiedhmm.errors.ImpossibleSequenceError
            A sequence the model cannot generate.

        Examples
        --------
        >>> import numpy as np
        >>> import tiedhmm as th
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> model = th.GaussianHMM(2, random_state=0).initialize(X[:100])
        >>> for _ in range(3):   # three EM iterations, 100 frames in memory at a time
        ...     total = sum(model.statistics(X[k:k + 100]) for k in range(0, 300, 100))
        ...     model = model.update(total)
        >>> total.n_sequences
        3
        """
        topology, batch = self._ready(X, lengths, state_labels)
        total, pooled = em.pooled_statistics([inference.statistics_source(topology, batch)])
        return em.Statistics(total, batch.n_sequences,
                             em.keyed_by_position(topology.parameter_groups,
                                                  list(pooled.values())),
                             em.Statistics.layout_of(topology.parameter_groups))

    def update(self, statistics: em.Statistics) -> BaseHMM:
        """The M-step from (summed) :meth:`statistics`: with the statistics of all the
        data, one EM iteration, equal to one iteration of :meth:`fit`.

        Parameters
        ----------
        statistics : tiedhmm.em.Statistics
            From :meth:`statistics` of this model, summed over chunks.

        Returns
        -------
        self
            With updated parameters.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Statistics of another model (groups it does not have).
        """
        topology, soft_ties = self._model(fresh=True)
        groups = topology.parameter_groups
        if statistics.layout != em.Statistics.layout_of(groups):
            raise InvalidDataError("these statistics come from a model with other groups "
                                   "(statistics of another model?)")
        em.m_step({id(groups[k]): (groups[k], stats)
                   for k, stats in statistics.by_group.items()}, soft_ties,
                  self._emission_params())
        self._store(topology)
        return self

    # -- files ---------------------------------------------------------------------------
    def _document(self) -> dict[str, Any]:
        writer = GroupWriter()
        return {"model": hmm_record(self.to_hmm(), writer), "groups": writer.records}

    @classmethod
    def _from_document(cls, document: dict[str, Any], version: int) -> HMM:
        return hmm_from_record(document["model"], GroupReader(document["groups"]))

    # -- model selection ----------------------------------------------------------------
    def n_free_parameters(self) -> int:
        """The free scalars EM fits: every trainable group once, however many states
        share it (tying is what makes a model smaller), restricted to the ``params``
        letters of the estimators.

        Returns
        -------
        int
            The count AIC and BIC use.
        """
        topology, _ = self._model()
        letters = self._emission_params()
        return sum(group.free_parameters(group.param_letters if letters is None else letters)
                   for group in topology.parameter_groups if group.trainable)

    def aic(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> float:
        """Akaike's criterion ``-2 log L + 2 k`` (k: :meth:`n_free_parameters`).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.

        Returns
        -------
        float
            Lower is better; tying lowers ``k``.
        """
        return -2 * self.score(X, lengths) + 2 * self.n_free_parameters()

    def bic(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> float:
        """The Bayesian criterion ``-2 log L + k log(n_samples)``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.

        Returns
        -------
        float
            Lower is better; tying lowers ``k``.
        """
        return float(-2 * self.score(X, lengths)
                     + self.n_free_parameters() * np.log(np.shape(X)[0]))

    # -- inference ----------------------------------------------------------------------
    def _ready(self, X: np.ndarray, lengths: Sequence[int] | None,
               state_labels: Sequence[int] | np.ndarray | None = None
               ) -> tuple[Topology, inference.Batch]:
        """The compiled model and the checked data, for inference under the current
        parameters (an error while any emission group is unset)."""
        topology, _ = self._model()
        uninitialized = [g for g in inference.emission_groups(topology)
                         if not g.is_initialized()]
        if uninitialized:
            raise InvalidDataError(f"emission group(s) {uninitialized} have unset "
                                   f"parameters; fit the model, call initialize(X) on a "
                                   f"first chunk, or give their parameters")
        return topology, inference.Batch.from_data(topology, X, lengths, state_labels,
                                                   unshifted=self._unshifted)

    def score(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> float:
        """The total log-likelihood of the sequences (the forward algorithm).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.

        Returns
        -------
        float
            ``-inf`` if the model cannot generate some sequence.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Data the model cannot read, or a model with unset parameters.
        """
        return float(self.sequence_scores(X, lengths).sum())

    def sequence_scores(self, X: np.ndarray, lengths: Sequence[int] | None = None
                        ) -> np.ndarray:
        """The log-likelihood of each sequence (the forward runs in parallel over them).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence; None: one sequence.

        Returns
        -------
        numpy.ndarray of shape (n_sequences,)
            ``-inf`` where the model cannot generate a sequence.
        """
        topology, batch = self._ready(X, lengths)
        return inference.sequence_logliks(topology, batch)

    def score_samples(self, X: np.ndarray, lengths: Sequence[int] | None = None
                      ) -> tuple[float, np.ndarray]:
        """The total log-likelihood and the state posteriors (forward-backward).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.

        Returns
        -------
        loglik : float
            The total log-likelihood.
        posteriors : ndarray of shape (n_samples, n_states)
            ``P(state at t | sequence)``.

        Raises
        ------
        tiedhmm.errors.ImpossibleSequenceError
            A sequence the model cannot generate.
        """
        topology, batch = self._ready(X, lengths)
        found = inference.expectations(topology, batch)
        _raise_if_impossible(found.loglik)
        return float(found.loglik.sum()), found.posterior

    def predict_proba(self, X: np.ndarray, lengths: Sequence[int] | None = None
                      ) -> np.ndarray:
        """The state posteriors ``P(state at t | sequence)`` (forward-backward).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.

        Returns
        -------
        ndarray of shape (n_samples, n_states)
            Each row sums to one.

        Raises
        ------
        tiedhmm.errors.ImpossibleSequenceError
            A sequence the model cannot generate.
        """
        return self.score_samples(X, lengths)[1]

    def decode(self, X: np.ndarray, lengths: Sequence[int] | None = None,
               algorithm: str | None = None) -> tuple[float, np.ndarray]:
        """The best state sequence: ``"viterbi"`` (joint path) or ``"map"`` (per step).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.
        algorithm : {"viterbi", "map"}, optional
            Default: the model's ``algorithm``.

        Returns
        -------
        logprob : float
            The Viterbi path's log-probability (for ``"map"``, the sum of the per-step
            maximum posteriors, as hmmlearn does).
        states : ndarray of shape (n_samples,)
            The state of every step.

        Raises
        ------
        tiedhmm.errors.ImpossibleSequenceError
            A sequence the model cannot generate.
        """
        algorithm = self.algorithm if algorithm is None else algorithm
        if algorithm not in DECODE_ALGORITHMS:
            raise InvalidDataError(f"algorithm must be one of {DECODE_ALGORITHMS}, "
                                   f"got {algorithm!r}")
        if algorithm == "map":
            _, posterior = self.score_samples(X, lengths)
            return float(posterior.max(axis=1).sum()), posterior.argmax(axis=1)
        topology, batch = self._ready(X, lengths)
        path, logprob = inference.viterbi(topology, batch)
        _raise_if_impossible(logprob)
        return float(logprob.sum()), path

    def predict(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> np.ndarray:
        """The most likely state of every step, by the model's ``algorithm``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int, optional
            The length of each sequence (hmmlearn's convention); None: one sequence.

        Returns
        -------
        ndarray of shape (n_samples,)
            States, as :meth:`decode` gives them.
        """
        return self.decode(X, lengths)[1]

    def sample(self, n_samples: int = 1,
               random_state: int | np.random.RandomState | None = None,
               currstate: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw one sequence of ``n_samples`` steps.

        The length is fixed, so end edges are not taken (each row is renormalised over
        its transitions).

        Parameters
        ----------
        n_samples : int, default 1
            Steps to draw.
        random_state : int, numpy.random.RandomState or None
            Default: the model's ``random_state``.
        currstate : int, optional
            The first state (instead of drawing it), as in hmmlearn.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The observations.
        states : ndarray of shape (n_samples,)
            The states that emitted them.
        """
        topology, _ = self._model()
        rng = check_random_state(self.random_state if random_state is None else random_state)
        startprob, transmat = topology.start_and_transmat()
        cumulative_start, cumulative = np.cumsum(startprob), np.cumsum(transmat, axis=1)
        states = np.empty(n_samples, dtype=np.int64)
        observations = []
        state = currstate
        for t in range(n_samples):  # hmmlearn's order of draws: a state, then its emission
            if t > 0 or state is None:
                row = cumulative_start if state is None else cumulative[state]
                state = min(int(np.searchsorted(row, rng.rand() * row[-1], side="right")),
                            topology.n_states - 1)
            states[t] = state
            observations.append(topology.emission_groups[topology.state_group[state]]
                                .sample(rng, 1))
        return np.concatenate(observations).reshape(n_samples, -1), states



class HMM(BaseHMM):
    """A hidden Markov model whose states share emission and transition groups.

    The structure is validated here: every row must sum to 1 and every group must be
    used with the same outcome multiplicities in all its rows. ``fit`` updates the
    groups in place, so any other model holding one of them sees the change; ``save``
    writes the model's own copy of its groups.

    Parameters
    ----------
    emissions : sequence of EmissionGroup
        ``emissions[i]`` is state ``i``'s emission group; states holding one object are
        tied.
    start : mapping of int to label
        ``start[j]`` labels the edge into state ``j``. A label is ``(TransitionGroup,
        outcome)`` or a fixed probability; absent edges are 0.
    transitions : mapping of (int, int) to label
        ``transitions[(i, j)]`` labels the edge ``i -> j``.
    end : mapping of int to label, optional
        ``end[i]`` labels the exit after state ``i``. Without it a sequence may end after
        any state (as in hmmlearn); with it, only through an end edge (a non-emitting
        exit, as in speech models).
    soft_ties : sequence of SoftTie, default ()
        Groups pulled toward their pooled estimate.
    algorithm : {"viterbi", "map"}, default "viterbi"
        What ``decode`` and ``predict`` use.
    random_state : int, numpy.random.RandomState or None
        Seeds the initialisation of unset emission parameters.
    n_iter : int, default 10
        The most EM iterations.
    tol : float, default 1e-2
        EM stops when the log-likelihood gains less than this.
    verbose : bool, default False
        Print each iteration's log-likelihood to stderr.
    init : {"kmeans", "segments"}, default "kmeans"
        How ``fit`` sets unset emission parameters: k-means over all frames
        (hmmlearn's way) or equal segments of each sequence (left-to-right models).

    Raises
    ------
    tiedhmm.errors.TyingError
        A row that does not sum to 1, or a group used with different multiplicities,
        named with the state, group and numbers.

    Examples
    --------
    Two states share one emission group and one transition group:

    >>> import numpy as np
    >>> import tiedhmm as th
    >>> shared = th.CategoricalEmission([0.5, 0.3, 0.2])
    >>> other = th.CategoricalEmission([0.1, 0.1, 0.8])
    >>> loop = th.TransitionGroup(["stay", "next"], [0.9, 0.1])
    >>> model = th.HMM([shared, shared, other], {0: 1.0},
    ...                {(0, 0): (loop, "stay"), (0, 1): (loop, "next"),
    ...                 (1, 1): (loop, "stay"), (1, 2): (loop, "next"), (2, 2): 1.0})
    >>> X = np.random.RandomState(0).randint(3, size=(50, 1))
    >>> model = model.fit(X)
    >>> model.emissions[0] is model.emissions[1]
    True
    >>> model.n_free_parameters()   # two emission groups of 2 + one transition group of 1
    5
    """

    def __init__(self, emissions: Sequence[EmissionGroup], start: Mapping[int | str, Label],
                 transitions: Mapping[tuple[int, int], Label],
                 end: Mapping[int, Label] | None = None, *,
                 soft_ties: Sequence[SoftTie] = (), algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, init: str = "kmeans") -> None:
        self.emissions = stored_list(emissions)
        self.start = stored_dict(start)
        self.transitions = stored_dict(transitions)
        self.end = None if end is None else stored_dict(end)
        self.soft_ties = stored_list(soft_ties)
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.init = init
        self.topology = Topology(self.emissions, self.start, self.transitions, self.end)
        em.check_soft_ties(self.soft_ties)

    def _model(self, fresh: bool = False) -> tuple[Topology, list[SoftTie]]:
        self.topology.check_rows()
        return self.topology, self.soft_ties

    def _initialize(self, topology: Topology, batch: inference.Batch,
                    rng: np.random.RandomState) -> None:
        inference.initialize(topology, batch, rng, self.init)

    def to_hmm(self) -> HMM:
        return self


def _raise_if_impossible(logprob: np.ndarray) -> None:
    impossible = np.flatnonzero(~np.isfinite(logprob))
    if impossible.size:
        raise ImpossibleSequenceError(f"sequence {int(impossible[0])} has probability 0 under "
                                      f"the model (log-likelihood -inf); it has no posterior "
                                      f"or best path")


def hmm_record(model: HMM, writer: GroupWriter) -> dict[str, Any]:
    """One HMM in a model file: emission group ids per state, edges, ties, settings."""
    return {"states": [writer.id(group) for group in model.emissions],
            "edges": writer.edges(model.start, model.transitions, model.end),
            "free_end": model.end is None,
            "soft_ties": writer.soft_ties(model.soft_ties),
            "settings": {name: getattr(model, name) for name in SETTINGS}}


def hmm_from_record(record: dict[str, Any], reader: GroupReader) -> HMM:
    """The HMM of a record written by :func:`hmm_record` (any file version)."""
    start, transitions, end = reader.edges(record["edges"], bool(record["free_end"]))
    settings = record["settings"]
    if not isinstance(settings, dict) or set(settings) - set(SETTINGS):
        raise TypeError(f"settings must be a mapping of {SETTINGS}, got {settings!r}")
    return HMM([reader.groups[g] for g in record["states"]], start, transitions, end,
               soft_ties=[SoftTie(*tie) for tie in reader.soft_ties(record["soft_ties"])],
               **settings)


def named_hmms_document(models: Mapping[str, BaseHMM]) -> dict[str, Any]:
    """Several named HMMs in one file body: ``{"models": ..., "groups": ...}``, with each
    group shared by several models written once."""
    writer = GroupWriter()
    records = {name: hmm_record(model.to_hmm(), writer) for name, model in models.items()}
    return {"models": records, "groups": writer.records}


def named_hmms_from_document(document: dict[str, Any]) -> dict[str, HMM]:
    """The HMMs of :func:`named_hmms_document`, sharing restored."""
    reader = GroupReader(document["groups"])
    return {str(name): hmm_from_record(record, reader)
            for name, record in document["models"].items()}
