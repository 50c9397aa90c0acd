"""A topology and a batch of observations in, kernel results out.

This is the one place that turns groups into the kernels' arrays: the ``(T, G)``
emission table (computed once per group, not per state), dense start and
transition probabilities, and chunks of sequences for the parallel loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .. import parallel
from .._kernels import hmm as kernels
from .._kernels.emissions import scaled_emissions
from ..em.loop import GroupStats, StatisticsSource
from ..emissions import initialize_groups, log_likelihood_table
from ..emissions.base import (
    EmissionGroup,
    emission_group_statistics,
    emission_probabilities,
    one_pass,
)
from ..errors import InvalidDataError
from ..io.checks import lengths_to_offsets
from ..parameters import ParameterGroup, Stats
from ..tying import Topology

#: hmmlearn's message when its scaling forward underflows.
UNDERFLOW = ("Forward pass failed with underflow; consider using implementation='log' "
             "instead")


@dataclass
class Batch:
    """Validated observations of one model: ``X`` as its emission family reads it, and
    optionally the known state of frames (``state_labels``, ``-1`` where unknown).

    ``unshifted`` keeps hmmlearn's ``implementation="scaling"`` limits: its emission
    probabilities are exponentiated without removing each frame's largest, so a frame
    where every state's probability underflows to 0 raises hmmlearn's ValueError
    (tiedhmm's shifted table would carry on)."""

    X: np.ndarray
    offsets: np.ndarray
    state_labels: np.ndarray | None = None
    unshifted: bool = False

    @classmethod
    def from_data(cls, topology: Topology, X: np.ndarray, lengths: Sequence[int] | None,
                  state_labels: Sequence[int] | np.ndarray | None = None, *,
                  unshifted: bool = False) -> Batch:
        groups = emission_groups(topology)
        kinds = {group.observation_kind() for group in groups}
        if len(kinds) > 1:
            raise InvalidDataError(f"all emission groups of a model must read the same "
                                   f"observations; got {sorted(kinds)}")
        prepared = groups[0].prepare(X)
        labels = None if state_labels is None else \
            checked_state_labels(state_labels, prepared.shape[0], topology.n_states)
        return cls(prepared, lengths_to_offsets(prepared.shape[0], lengths), labels,
                   unshifted)

    @property
    def n_sequences(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def split(self, count: int) -> list[Batch]:
        """Up to ``count`` batches of contiguous sequences (for distributed E-steps)."""
        parts = parallel.split(range(self.n_sequences), count)
        bounds = [(part[0], part[-1] + 1) for part in parts]
        return [Batch(self.X[self.offsets[start]:self.offsets[stop]],
                      self.offsets[start:stop + 1] - self.offsets[start],
                      None if self.state_labels is None else
                      self.state_labels[self.offsets[start]:self.offsets[stop]],
                      self.unshifted)
                for start, stop in bounds]

    def work(self, topology: Topology) -> int:
        """The work of one pass over the batch: frames x states^2 (the threading
        policy's measure, see :mod:`tiedhmm.parallel`)."""
        return int(self.X.shape[0]) * topology.n_states ** 2

    def chunks(self, topology: Topology) -> np.ndarray:
        """Runs of whole sequences for the parallel loops, cut by work alone (so that
        results do not depend on the number of threads)."""
        count = parallel.chunk_count(self.work(topology), self.n_sequences)
        chunks: np.ndarray = kernels.sequence_chunks(self.offsets, count)
        return chunks


INITIALIZATIONS = ("kmeans", "segments")


def emission_groups(topology: Topology) -> list[EmissionGroup]:
    """An HMM topology's emission groups (a pair model's topology holds others: an
    error names them)."""
    groups = topology.emission_groups
    if not all(isinstance(group, EmissionGroup) for group in groups):
        raise TypeError(f"an HMM needs HMM emission groups, got {groups}")
    return cast(list[EmissionGroup], groups)


def initialize(topology: Topology, batch: Batch, rng: np.random.RandomState,
               method: str) -> None:
    """Set unset emission parameters from the data.

    ``"kmeans"`` (hmmlearn's way) clusters all frames; ``"segments"`` (a flat start,
    for left-to-right models) cuts every sequence into equal runs, one per state in
    state order, and initialises each group from the frames of its states' runs.
    """
    if method not in INITIALIZATIONS:
        raise InvalidDataError(f"init must be one of {INITIALIZATIONS}, got {method!r}")
    if method == "kmeans":
        initialize_groups(emission_groups(topology), batch.X, rng)
        return
    rows: list[list[np.ndarray]] = [[] for _ in topology.emission_groups]
    for start, stop in zip(batch.offsets[:-1], batch.offsets[1:]):
        cuts = np.linspace(start, stop, topology.n_states + 1).round().astype(np.int64)
        for state in range(topology.n_states):
            rows[topology.state_group[state]].append(np.arange(cuts[state], cuts[state + 1]))
    for group, parts in zip(emission_groups(topology), rows):
        if group.is_initialized():
            continue
        frames = batch.X[np.concatenate(parts)]
        initialize_groups([group], frames if frames.shape[0] else batch.X, rng)


def checked_state_labels(state_labels: Sequence[int] | np.ndarray, n_samples: int,
                         n_states: int) -> np.ndarray:
    """``state_labels`` as an ``int64`` array: one per sample, a state or ``-1``."""
    labels = np.asarray(state_labels)
    if labels.shape != (n_samples,) or not (np.issubdtype(labels.dtype, np.integer)
                                            or labels.size == 0):
        raise InvalidDataError(f"state_labels must hold one whole number per sample "
                               f"({n_samples}), -1 where the state is unknown; got "
                               f"{labels.dtype} with shape {labels.shape}")
    bad = np.flatnonzero((labels < -1) | (labels >= n_states))
    if bad.size:
        raise InvalidDataError(f"state_labels[{bad[0]}] is {labels[bad[0]]}: not a state of "
                               f"this {n_states}-state model, nor -1 (unknown)")
    return labels.astype(np.int64)


def _probabilities(topology: Topology, batch: Batch) -> tuple[np.ndarray, ...]:
    """The kernels' arrays. With state labels, every state has its own emission
    column, zero where a frame's known state is another (so the forward-backward is
    constrained to the labels), rescaled per frame over the states left."""
    groups, state_group = emission_groups(topology), topology.state_group
    if batch.state_labels is None:
        emission, log_shift = emission_probabilities(groups, batch.X)
    else:
        by_state = log_likelihood_table(groups, batch.X)[:, state_group]
        labels = batch.state_labels[:, None]
        other = (labels >= 0) & (labels != np.arange(topology.n_states))
        emission, log_shift = scaled_emissions(np.where(other, -np.inf, by_state))
        state_group = np.arange(topology.n_states)
    if batch.unshifted and np.any(np.exp(log_shift) == 0.0):
        raise InvalidDataError(f"{UNDERFLOW} (frame {int(np.argmin(log_shift))})")
    startprob, transmat = topology.start_and_transmat()
    return (emission, log_shift, state_group, startprob, transmat,
            topology.end_probabilities(), batch.offsets, batch.chunks(topology))


def sequence_logliks(topology: Topology, batch: Batch) -> np.ndarray:
    """Forward log P of every sequence (``-inf`` where the model cannot generate it)."""
    with parallel.kernel_threads(batch.work(topology)):
        logliks: np.ndarray = kernels.forward(*_probabilities(topology, batch))[-1]
    return logliks


@dataclass
class Expectations:
    """The E-step of one batch: per-sequence log P, posteriors and pooled statistics."""

    loglik: np.ndarray
    posterior: np.ndarray
    transitions: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def expectations(topology: Topology, batch: Batch) -> Expectations:
    """Forward-backward over the batch: log P, posteriors and expected counts."""
    with parallel.kernel_threads(batch.work(topology)):
        return Expectations(*kernels.e_step(*_probabilities(topology, batch)))


def weighted_expectations(log_table: np.ndarray, state_group: np.ndarray,
                          start_weights: np.ndarray, transition_weights: np.ndarray,
                          offsets: np.ndarray) -> Expectations:
    """Forward-backward over any non-negative weights, not only probabilities: a
    ``(T, G)`` log emission table read through ``state_group``, start weights ``(N,)``
    and transition weights ``(N, N)`` (variational Bayes runs it on the
    sub-normalised ``exp E[log theta]``). ``loglik`` is then the log normaliser of
    each sequence's path weights; the posteriors and counts are normalised."""
    n_states = len(start_weights)
    work = log_table.shape[0] * n_states ** 2
    chunks = kernels.sequence_chunks(offsets, parallel.chunk_count(work, len(offsets) - 1))
    with parallel.kernel_threads(work):
        emission, log_shift = scaled_emissions(log_table)
        return Expectations(*kernels.e_step(emission, log_shift, state_group, start_weights,
                                            transition_weights, np.ones(n_states), offsets,
                                            chunks))


def group_occupancy(posterior: np.ndarray, state_group: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """``(T, G)`` posterior mass of each emission group; the posteriors themselves when
    every state has a group of its own, in state order (an untied model)."""
    if n_groups == len(state_group) and np.array_equal(state_group, np.arange(n_groups)):
        return posterior
    occupancy: np.ndarray = kernels.group_occupancy(posterior, state_group, n_groups)
    return occupancy


def group_statistics(topology: Topology, batch: Batch,
                     found: Expectations) -> list[tuple[ParameterGroup, Stats]]:
    """Each group of the topology (and each part of one) with its statistics from this
    batch."""
    with parallel.kernel_threads(batch.work(topology)):
        occupancy = group_occupancy(found.posterior, topology.state_group,
                                    len(topology.emission_groups))
        emission = emission_group_statistics(emission_groups(topology), batch.X, occupancy)
    transition = topology.transition_statistics(found.transitions, found.starts, found.ends)
    return emission + list(zip(topology.transition_groups, transition))


def statistics_source(topology: Topology, batch: Batch) -> StatisticsSource:
    """An EM statistics source: one E-step of ``batch`` under the current groups."""
    def source() -> tuple[np.ndarray, GroupStats, str]:
        with one_pass():
            found = expectations(topology, batch)
            return found.loglik, group_statistics(topology, batch, found), "sequence"
    return source


def batch_source(topology: Topology, batch: Batch, client: Any = None) -> StatisticsSource:
    """The statistics source of ``batch``: in-process, or over a Dask ``client``."""
    if client is None:
        return statistics_source(topology, batch)
    chunks = batch.split(parallel.n_chunks(client, batch.n_sequences))
    return parallel.statistics_source(client, statistics_source, topology, chunks)


def viterbi(topology: Topology, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Most probable state path ``(T,)`` and its log-probability per sequence."""
    startprob, transmat = topology.start_and_transmat()
    with np.errstate(divide="ignore"):
        log_start, log_transmat, log_end = (np.log(p) for p in (
            startprob, transmat, topology.end_probabilities()))
    with parallel.kernel_threads(batch.work(topology)):
        table = log_likelihood_table(emission_groups(topology), batch.X)
        path, logprob = kernels.viterbi(table, topology.state_group, log_start,
                                        log_transmat, log_end, batch.offsets,
                                        batch.chunks(topology))
    return path, logprob
