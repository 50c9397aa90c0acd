"""Networks of shared units: the composite HMMs of speech, compiled to sparse edges.

A *unit* is an HMM with a begin and an end (a left-to-right word or phone model built
with ``exit=True``; a unit whose begin row also reaches its end, such as a short
pause, may be skipped). A network is a graph of unit *nodes* joined by *links*; the
same unit may appear in many nodes and every node reads the unit's groups, so a
network's parameters are the units' parameters (tying is identity). Links from a node
leave through its unit's exit edges and arrive at the next unit's entry edges; a
skippable unit (or a null node) is passed through, so one link path becomes one
edge whose probability is the product of all labels on the way.

Edges keep their labels as *slots*: every outcome of every transition group of the
:class:`Inventory` is a slot, and an edge's log-probability is its fixed part plus
the sum of the log-probabilities of its slots (a sparse matrix product). Expected
edge counts go back through the same matrix to each outcome of each group, so EM on
a network pools into the units exactly as EM on the explicit composite HMM would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse

from ..emissions import EmissionGroup
from ..errors import TyingError
from ..hmm.model import HMM
from ..parameters import Stats
from ..tying import TransitionGroup, parameter_groups

BEGIN, END = -1, -2
#: A label in slot form: the parameter slots multiplied in, and the fixed factor.
Factor = tuple[tuple[int, ...], float]


@dataclass(frozen=True)
class UnitArrays:
    """One unit's topology in inventory indices."""

    groups: np.ndarray                      # emission group per state
    internal: list[tuple[int, int, Factor]]
    entries: list[tuple[int, Factor]]
    exits: list[tuple[int, Factor]]
    skip: Factor | None                     # the begin -> end edge, if any

    @property
    def n_states(self) -> int:
        return int(self.groups.shape[0])


NULL_UNIT = UnitArrays(np.zeros(0, dtype=np.int64), [], [], [], ((), 1.0))


def _times(first: Factor, second: Factor) -> Factor:
    return first[0] + second[0], first[1] * second[1]


class Inventory:
    """The units of a recogniser and the index of every group they hold.

    Emission groups and transition groups are numbered by identity in the order the
    units first use them; each outcome of each transition group is one slot.
    """

    def __init__(self, units: Mapping[str, HMM]) -> None:
        self.units = dict(units)
        self.emission_groups: list[EmissionGroup] = []
        self.transition_groups: list[TransitionGroup] = []
        #: The first slot of each transition group (in ``transition_groups`` order).
        self.first_slots: list[int] = []
        self.n_slots = 0
        # Keyed by identity while building only: a pickled copy has other ids.
        self._emission_index: dict[int, int] = {}
        self._slot_index: dict[int, int] = {}
        self.arrays = {name: self._unit_arrays(name, unit) for name, unit in self.units.items()}
        del self._emission_index, self._slot_index

    def _unit_arrays(self, name: str, unit: HMM) -> UnitArrays:
        topology = unit.topology
        if topology.free_end:
            raise TyingError(f"unit {name!r} has no exit (end) edges: a unit of a network "
                             f"must end through them (build it with exit=True)")
        groups = np.array([self._emission(topology.emission_groups[g])
                           for g in topology.state_group], dtype=np.int64)
        first_slot = [self._slots(group) for group in topology.transition_groups]
        internal: list[tuple[int, int, Factor]] = []
        entries: list[tuple[int, Factor]] = []
        exits: list[tuple[int, Factor]] = []
        skip: Factor | None = None
        n = topology.n_states
        for src, dst, g, outcome, fixed in zip(topology.edge_src, topology.edge_dst,
                                               topology.edge_group, topology.edge_outcome,
                                               topology.edge_fixed):
            slots: tuple[int, ...] = (int(first_slot[g] + outcome),) if g >= 0 else ()
            factor = (slots, float(fixed))
            if src == n and dst == n:
                skip = factor
            elif src == n:
                entries.append((int(dst), factor))
            elif dst == n:
                exits.append((int(src), factor))
            else:
                internal.append((int(src), int(dst), factor))
        return UnitArrays(groups, internal, entries, exits, skip)

    def _emission(self, group: Any) -> int:
        if not isinstance(group, EmissionGroup):
            raise TypeError(f"a unit state needs an HMM emission group, got {group!r}")
        if id(group) not in self._emission_index:
            self._emission_index[id(group)] = len(self.emission_groups)
            self.emission_groups.append(group)
        return self._emission_index[id(group)]

    def _slots(self, group: TransitionGroup) -> int:
        if id(group) not in self._slot_index:
            self._slot_index[id(group)] = self.n_slots
            self.transition_groups.append(group)
            self.first_slots.append(self.n_slots)
            self.n_slots += len(group.outcomes)
        return self._slot_index[id(group)]

    @property
    def parameter_groups(self) -> list[Any]:
        """Every group the units fit, each once (what Dask keys statistics by)."""
        return parameter_groups(self.emission_groups, self.transition_groups)

    def log_parameters(self) -> np.ndarray:
        """``(n_slots,)`` log-probability of every slot under the current groups."""
        probs = [group.current() for group in self.transition_groups]
        with np.errstate(divide="ignore"):
            logs: np.ndarray = np.log(np.concatenate(probs) if probs else np.zeros(0))
        return logs

    def transition_statistics(self, slot_counts: np.ndarray) -> list[tuple[TransitionGroup,
                                                                           Stats]]:
        """Each transition group with the expected counts of its outcomes."""
        stats = []
        for group, first in zip(self.transition_groups, self.first_slots):
            counts = slot_counts[first:first + len(group.outcomes)].copy()
            stats.append((group, {"weight": np.array(counts.sum()), "counts": counts}))
        return stats


@dataclass
class EdgeTable:
    """Edges of one kind (start, internal or end) with their labels in slot form."""

    src: np.ndarray        # source state (-1 for start edges)
    dst: np.ndarray        # destination state (-1 for end edges)
    slots: scipy.sparse.csr_matrix
    log_fixed: np.ndarray  # log of the fixed factor plus any link score
    word: np.ndarray       # the word instance the edge enters, or -1

    @classmethod
    def build(cls, rows: list[tuple[int, int, Factor, float, int]], n_slots: int) -> EdgeTable:
        count = len(rows)
        indptr = np.zeros(count + 1, dtype=np.int64)
        indices: list[int] = []
        for k, (_, _, (slots, _), _, _) in enumerate(rows):
            indices.extend(slots)
            indptr[k + 1] = len(indices)
        matrix = scipy.sparse.csr_matrix(
            (np.ones(len(indices)), np.array(indices, dtype=np.int64), indptr),
            shape=(count, n_slots))
        matrix.sum_duplicates()
        with np.errstate(divide="ignore"):
            log_fixed = np.array([np.log(factor[1]) + score for _, _, factor, score, _ in rows])
        return cls(np.array([r[0] for r in rows], dtype=np.int64),
                   np.array([r[1] for r in rows], dtype=np.int64), matrix,
                   log_fixed.reshape(count), np.array([r[4] for r in rows], dtype=np.int64))

    @classmethod
    def stack(cls, tables: Sequence[EdgeTable]) -> EdgeTable:
        return cls(np.concatenate([t.src for t in tables]),
                   np.concatenate([t.dst for t in tables]),
                   scipy.sparse.vstack([t.slots for t in tables], format="csr"),
                   np.concatenate([t.log_fixed for t in tables]),
                   np.concatenate([t.word for t in tables]))

    def log_probabilities(self, log_parameters: np.ndarray) -> np.ndarray:
        logs: np.ndarray = self.log_fixed + self.slots @ log_parameters
        return logs


class Network:
    """A compiled graph of unit nodes: states, and start, internal and end edges.

    ``node_word[n]`` is the word instance node ``n`` belongs to (-1 for silence);
    ``state_node[i]`` and ``state_local[i]`` say which node and which of its unit's
    states composite state ``i`` is.
    """

    def __init__(self, inventory: Inventory, nodes: Sequence[tuple[str | None, int, bool]],
                 links: Sequence[tuple[int, int, float]], words: Sequence[str]) -> None:
        """``nodes``: ``(unit name or None for a null node, word instance, first node of
        that word)``; ``links``: ``(from node or BEGIN, to node or END, log score)``;
        ``words[w]`` is the word of instance ``w``."""
        self.words = list(words)
        self.node_unit = [unit for unit, _, _ in nodes]
        self.node_word = np.array([word for _, word, _ in nodes], dtype=np.int64)
        self._first = [first for _, _, first in nodes]
        self._arrays = [NULL_UNIT if unit is None else inventory.arrays[unit]
                        for unit in self.node_unit]
        sizes = [arrays.n_states for arrays in self._arrays]
        self._offset = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self.state_group = np.concatenate([a.groups for a in self._arrays]).astype(np.int64)
        self.state_node = np.repeat(np.arange(len(nodes)), sizes)
        self.state_local = np.concatenate([np.arange(size) for size in sizes]).astype(np.int64)
        #: States of units that cannot be skipped (what a flat segmentation spreads over).
        self.segmented_states = np.repeat([arrays.skip is None for arrays in self._arrays],
                                          sizes)
        if self.state_group.size == 0:
            raise TyingError("a network needs at least one emitting unit")
        self._out: dict[int, list[tuple[int, float]]] = {}
        for a, b, score in links:
            self._out.setdefault(a, []).append((b, float(score)))
        self._rows: dict[str, list[Any]] = {"start": [], "internal": [], "end": []}
        for node, arrays in enumerate(self._arrays):
            offset = self._offset[node]
            self._rows["internal"] += [(offset + i, offset + j, factor, 0.0, -1)
                                       for i, j, factor in arrays.internal]
            for state, factor in arrays.exits:
                self._follow(node, offset + state, factor, 0.0, 0)
        self._follow(BEGIN, -1, ((), 1.0), 0.0, 0)
        if not self._rows["start"]:
            raise TyingError("the network has no path from its begin into a unit")
        if not self._rows["end"]:
            raise TyingError("the network has no path from a unit to its end")
        tables = {kind: EdgeTable.build(rows, inventory.n_slots)
                  for kind, rows in self._rows.items()}
        self.start, self.internal, self.end = tables["start"], tables["internal"], tables["end"]
        del self._rows, self._out

    @property
    def n_states(self) -> int:
        return int(self.state_group.shape[0])

    def _follow(self, node: int, src: int, factor: Factor, score: float, depth: int) -> None:
        """Edges from state ``src`` (leaving ``node``, or the begin) along every link."""
        if depth > len(self._arrays):
            raise TyingError("the network has a cycle of skippable units or null nodes")
        for target, link_score in self._out.get(node, []):
            total = score + link_score
            if target == END:
                if src >= 0:
                    self._rows["end"].append((src, -1, factor, total, -1))
                continue
            arrays = self._arrays[target]
            word = int(self.node_word[target]) if self._first[target] else -1
            kind = "internal" if src >= 0 else "start"
            self._rows[kind] += [(src, self._offset[target] + j, _times(factor, entry),
                                  total, word) for j, entry in arrays.entries]
            if arrays.skip is not None:
                self._follow(target, src, _times(factor, arrays.skip), total, depth + 1)


class NetworkBatch:
    """Sequences on networks: the kernels' arrays, probabilities and slot counts.

    ``networks[network_of[s]]`` is the network of sequence ``s``.
    """

    def __init__(self, networks: Sequence[Network], network_of: np.ndarray) -> None:
        self.networks = list(networks)
        self.network_of = np.asarray(network_of, dtype=np.int64)
        sizes = [network.n_states for network in self.networks]
        self.state_ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self.state_group = np.concatenate([n.state_group for n in self.networks])
        self.edge_ptr = np.concatenate(
            ([0], np.cumsum([n.internal.src.shape[0] for n in self.networks]))).astype(np.int64)
        self.internal = EdgeTable.stack([n.internal for n in self.networks])
        shift = [self.state_ptr[k] for k in range(len(self.networks))]
        self.start = EdgeTable.stack([n.start for n in self.networks])
        self.start_state = np.concatenate([n.start.dst + s for n, s in zip(self.networks, shift)])
        self.end = EdgeTable.stack([n.end for n in self.networks])
        self.end_state = np.concatenate([n.end.src + s for n, s in zip(self.networks, shift)])

    @cached_property
    def n_states(self) -> int:
        return int(self.state_ptr[-1])

    def probabilities(self, log_parameters: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start and end probability per state (summed over parallel edges) and the
        probability of every internal edge."""
        start = np.exp(self.start.log_probabilities(log_parameters))
        end = np.exp(self.end.log_probabilities(log_parameters))
        return (np.bincount(self.start_state, start, self.n_states),
                np.bincount(self.end_state, end, self.n_states),
                np.exp(self.internal.log_probabilities(log_parameters)))

    def log_weights(self, log_parameters: np.ndarray) -> tuple[tuple[Any, ...], tuple[Any, ...],
                    np.ndarray]:
        """Viterbi weights: the best start and end edge per state and its log-probability,
        and the log-probability of every internal edge."""
        best = []
        for table, state in ((self.start, self.start_state), (self.end, self.end_state)):
            logs = table.log_probabilities(log_parameters)
            order = np.lexsort((-logs, state))
            first = order[np.r_[True, state[order][1:] != state[order][:-1]]]
            per_state = np.full(self.n_states, -np.inf)
            per_state[state[first]] = logs[first]
            chosen = np.full(self.n_states, -1, dtype=np.int64)
            chosen[state[first]] = first
            best.append((per_state, chosen))
        return best[0], best[1], self.internal.log_probabilities(log_parameters)

    def slot_counts(self, log_parameters: np.ndarray, start_counts: np.ndarray,
                    end_counts: np.ndarray, edge_counts: np.ndarray) -> np.ndarray:
        """Expected count of every slot: each edge's count added to each of its slots;
        a state's start (end) count is shared by its parallel start (end) edges in
        proportion to their probabilities."""
        total: np.ndarray = self.internal.slots.T @ edge_counts
        for table, state, counts in ((self.start, self.start_state, start_counts),
                                     (self.end, self.end_state, end_counts)):
            probs = np.exp(table.log_probabilities(log_parameters))
            per_state = np.bincount(state, probs, self.n_states)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(per_state[state] > 0, probs / per_state[state], 0.0)
            total = total + table.slots.T @ (counts[state] * share)
        return total
