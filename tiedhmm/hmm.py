"""HMM models: a general tied HMM built from groups and edges.

``HMM`` holds its parameters in its group objects (tying is identity: states that
reference one group share it, and so do separate models that hold the same group).
The hmmlearn-style classes in :mod:`tiedhmm.estimators` subclass it and rebuild the
groups from array attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from . import em, inference
from ._validation import check_random_state
from .emissions import EmissionGroup
from .tying import Label, SoftTie, Topology

DECODE_ALGORITHMS = ("viterbi", "map")


class HMM:
    """A hidden Markov model whose states share emission and transition groups.

    ``emissions[i]`` is state ``i``'s emission group; ``start[j]``,
    ``transitions[(i, j)]`` and ``end[i]`` label the start, transition and end edges
    with ``(TransitionGroup, outcome)`` or a fixed probability (absent edges are 0).
    Without ``end`` a sequence may end after any state (as in hmmlearn); with it, a
    sequence must end through an end edge (a non-emitting exit, as in speech models).
    The structure is validated here: every row must sum to 1 and every group must be
    used with the same outcome multiplicities in all its rows. ``fit`` updates the
    groups in place, so any other model holding one of them sees the change.
    ``init`` sets unset emission parameters in ``fit``: ``"kmeans"`` over all frames
    (hmmlearn's way) or ``"segments"`` (a flat start for left-to-right models).
    """

    init = "kmeans"

    def __init__(self, emissions: Sequence[EmissionGroup], start: Mapping[int, Label],
                 transitions: Mapping[tuple[int, int], Label],
                 end: Mapping[int, Label] | None = None, *,
                 soft_ties: Sequence[SoftTie] = (), algorithm: str = "viterbi",
                 random_state: int | np.random.RandomState | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, init: str = "kmeans") -> None:
        self.emissions = list(emissions)
        self.start = dict(start)
        self.transitions = dict(transitions)
        self.end = None if end is None else dict(end)
        self.soft_ties = list(soft_ties)
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.init = init
        self.topology = Topology(self.emissions, self.start, self.transitions, self.end)
        em.check_soft_ties(self.soft_ties)

    # -- hooks the array-backed estimators override ---------------------------------
    def _topology(self) -> Topology:
        self.topology.check_rows()
        return self.topology

    def _soft_ties(self, topology: Topology) -> list[SoftTie]:
        return self.soft_ties

    def _emission_params(self) -> str | None:
        return None

    def _store(self, topology: Topology) -> None:
        """Copy fitted group parameters to array attributes (general models have none)."""

    def _initialize(self, topology: Topology, batch: inference.Batch,
                    rng: np.random.RandomState) -> None:
        """Set unset emission parameters from data (``init``: kmeans or segments)."""
        inference.initialize(topology, batch, rng, self.init)

    # -- fitting ------------------------------------------------------------------------
    def fit(self, X: np.ndarray, lengths: Sequence[int] | None = None, *,
            client=None) -> HMM:
        """Estimate the trainable groups by EM (Baum-Welch) with pooled tied statistics.

        With a ``dask.distributed`` ``client`` the E-step runs over chunks of sequences
        on the cluster (see :mod:`tiedhmm.parallel`).
        """
        topology = self._topology()
        batch = inference.Batch.from_data(topology, X, lengths)
        self._initialize(topology, batch, check_random_state(self.random_state))
        self.monitor_ = em.ConvergenceMonitor(self.tol, self.n_iter, self.verbose)
        em.fit([inference.batch_source(topology, batch, client)], self.monitor_,
               soft_ties=self._soft_ties(topology), emission_params=self._emission_params())
        self._store(topology)
        return self

    # -- files ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the model as JSON (its own copy of its groups; see :mod:`tiedhmm.io`)."""
        from .io import save_hmm
        save_hmm(self, path)

    @staticmethod
    def load(path: str | Path) -> HMM:
        """Read a model written by :meth:`save`."""
        from .io import load_hmm
        return load_hmm(path)

    # -- inference ----------------------------------------------------------------------
    def _ready(self, X, lengths) -> tuple[Topology, inference.Batch]:
        topology = self._topology()
        uninitialized = [g for g in topology.emission_groups if not g.is_initialized()]
        if uninitialized:
            raise ValueError(f"emission group(s) {uninitialized} have unset parameters; "
                             f"fit the model or give their parameters")
        return topology, inference.Batch.from_data(topology, X, lengths)

    def score(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> float:
        """Total log-likelihood; ``-inf`` if the model cannot generate some sequence."""
        topology, batch = self._ready(X, lengths)
        return float(inference.sequence_logliks(topology, batch).sum())

    def score_samples(self, X: np.ndarray, lengths: Sequence[int] | None = None
                      ) -> tuple[float, np.ndarray]:
        """Total log-likelihood and state posteriors ``(n_samples, n_states)``."""
        topology, batch = self._ready(X, lengths)
        found = inference.expectations(topology, batch)
        _raise_if_impossible(found.loglik)
        return float(found.loglik.sum()), found.posterior

    def predict_proba(self, X: np.ndarray, lengths: Sequence[int] | None = None
                      ) -> np.ndarray:
        """State posteriors ``P(state at t | sequence)``, shape ``(n_samples, n_states)``."""
        return self.score_samples(X, lengths)[1]

    def decode(self, X: np.ndarray, lengths: Sequence[int] | None = None,
               algorithm: str | None = None) -> tuple[float, np.ndarray]:
        """Best state sequence: ``"viterbi"`` (joint path) or ``"map"`` (per-step argmax).

        Returns hmmlearn's pair: the Viterbi path's log-probability (for ``"map"``,
        the sum of the per-step maximum posteriors, as hmmlearn does) and the states.
        """
        algorithm = self.algorithm if algorithm is None else algorithm
        if algorithm not in DECODE_ALGORITHMS:
            raise ValueError(f"algorithm must be one of {DECODE_ALGORITHMS}, got {algorithm!r}")
        if algorithm == "map":
            _, posterior = self.score_samples(X, lengths)
            return float(posterior.max(axis=1).sum()), posterior.argmax(axis=1)
        topology, batch = self._ready(X, lengths)
        path, logprob = inference.viterbi(topology, batch)
        _raise_if_impossible(logprob)
        return float(logprob.sum()), path

    def predict(self, X: np.ndarray, lengths: Sequence[int] | None = None) -> np.ndarray:
        """Most likely state per step, by ``self.algorithm``."""
        return self.decode(X, lengths)[1]

    def sample(self, n_samples: int = 1,
               random_state: int | np.random.RandomState | None = None,
               currstate: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, states)`` of length ``n_samples``, from ``currstate`` if given.

        The length is fixed, so end edges are not taken (each row is renormalised over
        its transitions).
        """
        topology = self._topology()
        rng = check_random_state(self.random_state if random_state is None else random_state)
        startprob, transmat = topology.start_and_transmat()
        cumulative_start, cumulative = np.cumsum(startprob), np.cumsum(transmat, axis=1)
        states = np.empty(n_samples, dtype=np.int64)
        state = currstate
        for t in range(n_samples):
            row = cumulative_start if state is None else cumulative[state]
            state = min(int(np.searchsorted(row, rng.rand() * row[-1], side="right")),
                        topology.n_states - 1)
            states[t] = state
        observations = [topology.emission_groups[topology.state_group[s]].sample(rng, 1)
                        for s in states]
        return np.concatenate(observations).reshape(n_samples, -1), states


def _raise_if_impossible(logprob: np.ndarray) -> None:
    impossible = np.flatnonzero(~np.isfinite(logprob))
    if impossible.size:
        raise ValueError(f"sequence {int(impossible[0])} has probability 0 under the model "
                         f"(log-likelihood -inf); it has no posterior or best path")
