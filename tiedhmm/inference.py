"""A topology and a batch of observations in, kernel results out.

This is the one place that turns groups into the kernels' arrays: the ``(T, G)``
emission table (computed once per group, not per state), dense start and
transition probabilities, and chunks of sequences for the parallel loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ._kernels import hmm as kernels
from ._validation import lengths_to_offsets
from .emissions import emission_statistics, log_likelihood_table
from .emissions.base import EmissionGroup, Stats, emission_probabilities
from .tying import Group, Topology

CHUNKS_PER_THREAD = 4


@dataclass
class Batch:
    """Validated observations of one model: ``X`` as its emission family reads it."""

    X: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_data(cls, topology: Topology, X, lengths) -> Batch:
        groups = topology.emission_groups
        if not all(isinstance(group, EmissionGroup) for group in groups):
            raise TypeError(f"an HMM needs HMM emission groups, got {groups}")
        kinds = {group.observation_kind() for group in groups}
        if len(kinds) > 1:
            raise ValueError(f"all emission groups of a model must read the same "
                             f"observations; got {sorted(kinds)}")
        prepared = groups[0].prepare(X)
        return cls(prepared, lengths_to_offsets(prepared.shape[0], lengths))

    @property
    def n_sequences(self) -> int:
        return self.offsets.shape[0] - 1

    @property
    def chunks(self) -> np.ndarray:
        return kernels.sequence_chunks(self.offsets,
                                       CHUNKS_PER_THREAD * numba.get_num_threads())


def _probabilities(topology: Topology, batch: Batch):
    emission, log_shift = emission_probabilities(topology.emission_groups, batch.X)
    startprob, transmat = topology.start_and_transmat()
    return (emission, log_shift, topology.state_group, startprob, transmat,
            topology.end_probabilities(), batch.offsets, batch.chunks)


def sequence_logliks(topology: Topology, batch: Batch) -> np.ndarray:
    """Forward log P of every sequence (``-inf`` where the model cannot generate it)."""
    return kernels.forward(*_probabilities(topology, batch))[-1]


@dataclass
class Expectations:
    """The E-step of one batch: per-sequence log P, posteriors and pooled statistics."""

    loglik: np.ndarray
    posterior: np.ndarray
    transitions: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def expectations(topology: Topology, batch: Batch) -> Expectations:
    return Expectations(*kernels.e_step(*_probabilities(topology, batch)))


def group_statistics(topology: Topology, batch: Batch,
                     found: Expectations) -> list[tuple[Group, Stats]]:
    """Each group of the topology with its statistics from this batch."""
    occupancy = kernels.group_occupancy(found.posterior, topology.state_group,
                                        len(topology.emission_groups))
    emission = emission_statistics(topology.emission_groups, batch.X, occupancy)
    transition = topology.transition_statistics(found.transitions, found.starts, found.ends)
    return (list(zip(topology.emission_groups, emission))
            + list(zip(topology.transition_groups, transition)))


def statistics_source(topology: Topology, batch: Batch):
    """An EM statistics source: one E-step of ``batch`` under the current groups."""
    def source():
        found = expectations(topology, batch)
        return found.loglik, group_statistics(topology, batch, found), "sequence"
    return source


def viterbi(topology: Topology, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Most probable state path ``(T,)`` and its log-probability per sequence."""
    table = log_likelihood_table(topology.emission_groups, batch.X)
    startprob, transmat = topology.start_and_transmat()
    with np.errstate(divide="ignore"):
        logs = [np.log(p) for p in (startprob, transmat, topology.end_probabilities())]
    return kernels.viterbi(table, topology.state_group, *logs, batch.offsets, batch.chunks)
