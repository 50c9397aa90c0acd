"""Tied transition groups, soft ties, and the compiled topology the kernels read.

A transition group is a probability vector over named outcomes. Every edge ``i -> j``
(and every start edge ``begin -> j``) is labelled ``(group, outcome)`` or is a fixed
constant. A row may use an outcome several times (a pair HMM's ``M -> X`` and
``M -> Y`` are both ``open``); with multiplicity ``k_o`` every row of the group sums to
``sum_o k_o theta_o = 1``, and the tied maximum-likelihood update is

    theta_o = N_o / (k_o * sum_o' N_o')        (N_o: expected count of all edges labelled o)

A label may carry a constant factor, ``(group, outcome, factor)``: the edge has
probability ``factor * theta_o``. That lets a model route one outcome through several
edges (an end edge split between exiting and entering a flank) or scale a whole row
next to fixed edges (a begin row that may also enter a flank), with the group still
tied. A row's multiplicity of ``o`` is then the sum of the factors of its edges
labelled ``o`` divided by the share of the row that is not fixed; it must be the same
in every row, and the tied update above is unchanged (factors are constants of the
likelihood).

Tying is identity: rows share parameters when they name the *same* group object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .emissions.priors import (
    DirichletPrior,
    dirichlet_update,
    log_prior_of,
    prior_record,
    read_prior,
)
from .errors import InvalidDataError, TyingError
from .io.records import group_kind
from .parameters import ParameterGroup, Stats, listed

ROW_SUM_TOLERANCE = 1e-8


@group_kind("transition")
class TransitionGroup(ParameterGroup):
    """Probabilities over named outcomes, shared by every row that uses the group.

    An edge is labelled ``(group, outcome)``; rows that use one group share its
    parameters although their destinations differ. A row may use an outcome ``k_o``
    times; each row then sums to ``sum_o k_o theta_o = 1`` and the tied update is
    ``theta_o = N_o / (k_o sum_o' N_o')``. The group is updated whole (hmmlearn's
    ``params`` letters do not apply to it).

    Parameters
    ----------
    outcomes : sequence of str
        The outcome names (``"stay"``, ``"next"``; ``"open"``, ``"extend"``, ...).
    probs : sequence of float, optional
        Their probabilities; by default every outcome starts at ``1 / sum_o k_o`` once
        a model fixes the multiplicities.
    name : str, optional
        A name for messages and files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.
    prior : DirichletPrior, optional
        Makes the update MAP; an outcome at probability 0 then stays 0, as in hmmlearn.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        Repeated or missing outcomes, or probabilities that are not a distribution.

    Examples
    --------
    >>> import tiedhmm as th
    >>> loop = th.TransitionGroup(["stay", "next"], [0.9, 0.1], name="loop")
    >>> loop.prob("next")
    0.1
    """

    pullable = True

    def __init__(self, outcomes: Sequence[str], probs: Sequence[float] | np.ndarray | None = None,
                 *,
                 name: str | None = None, trainable: bool = True,
                 prior: DirichletPrior | None = None) -> None:
        self.outcomes = tuple(str(outcome) for outcome in outcomes)
        if not self.outcomes or len(set(self.outcomes)) != len(self.outcomes):
            raise InvalidDataError(f"transition group {name!r}: outcomes must be distinct and "
                                   f"non-empty, got {self.outcomes}")
        super().__init__(name=name, trainable=trainable)
        self.multiplicity: np.ndarray | None = None
        self.probs: np.ndarray | None = None
        if probs is not None:
            given = np.array(probs, dtype=float)
            if given.shape != (len(self.outcomes),) or not np.all(np.isfinite(given)) \
                    or np.any(given < 0):
                raise InvalidDataError(f"{self!r}: probs must be {len(self.outcomes)} non-negative "
                                       f"numbers (one per outcome {self.outcomes}), got {given}")
            self.probs = given
        self.prior = DirichletPrior.sized(prior, len(self.outcomes))

    def index(self, outcome: str) -> int:
        """Position of ``outcome``; a clear error names the group's outcomes."""
        try:
            return self.outcomes.index(outcome)
        except ValueError:
            raise TyingError(f"unknown outcome {outcome!r} for {self!r}; its outcomes are "
                             f"{self.outcomes}") from None

    def prob(self, outcome: str) -> float:
        """The probability of ``outcome`` (an error before a model sets the group's
        starting values)."""
        return float(self.current()[self.index(outcome)])

    def current(self) -> np.ndarray:
        """The outcome probabilities; an error while they are unset (a group without
        ``probs`` gets them from the first model that uses it)."""
        if self.probs is None:
            raise TyingError(f"{self!r} has no probabilities yet: give probs or build a "
                             f"model with it")
        return self.probs

    def batch_key(self) -> tuple[Any, ...]:
        return (type(self), self.outcomes)

    def m_step(self, stats: Stats, params: str = "") -> None:
        """Tied update ``theta_o = N_o / (k_o * sum N)`` (MAP with a prior); an unused
        group keeps its values."""
        support = None if self.prior is None or self.probs is None else self.probs > 0
        multiplicity = 1.0 if self.multiplicity is None else self.multiplicity
        probs = dirichlet_update(stats["counts"], self.prior, multiplicity, support)
        if probs is not None:
            self.probs = probs

    def log_prior(self) -> float:
        return log_prior_of(self.prior, self.probs)

    def pull_toward(self, reference: TransitionGroup, share: float) -> None:
        self.probs = (1.0 - share) * self.current() + share * reference.current()

    def free_parameters(self, params: str = "") -> int:
        return len(self.outcomes) - 1

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return (self.probs,)

    def to_record(self) -> dict[str, Any]:
        return {"outcomes": list(self.outcomes), "probs": listed(self.probs),
                "prior": prior_record(self.prior)}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> TransitionGroup:
        if not isinstance(record["outcomes"], list):
            raise TypeError(f"outcomes must be a list, got {record['outcomes']!r}")
        return cls(record["outcomes"], record["probs"], name=name, trainable=trainable,
                   prior=read_prior(DirichletPrior, record))


Label = tuple[TransitionGroup, str] | tuple[TransitionGroup, str, float] | float


def scaled(label: Label, factor: float) -> Label:
    """``label`` times a constant: a fixed value, or a group label with the constant
    in its factor."""
    if isinstance(label, tuple):
        own = label[2] if len(label) == 3 else 1.0
        return (label[0], label[1], own * factor)
    return float(label) * factor
MULTIPLICITY_TOLERANCE = 1e-9


class SoftTie:
    """Pull several groups of one family toward their pooled estimate with strength λ.

    Each member keeps its own parameters; its M-step sees its own statistics plus λ
    pseudo-observations distributed as the pooled statistics of all members, e.g. for
    categorical emissions ``theta_s = (n_s + λ theta_pooled) / (N_s + λ)``. λ = 0 is
    untied; λ → ∞ is hard tying.

    Parameters
    ----------
    groups : sequence of ParameterGroup
        At least two distinct groups of one family and shape.
    strength : float
        λ >= 0.

    Raises
    ------
    tiedhmm.errors.TyingError
        Fewer than two distinct groups, groups of different families, or λ < 0.

    Examples
    --------
    >>> import tiedhmm as th
    >>> a = th.CategoricalEmission([0.5, 0.5])
    >>> b = th.CategoricalEmission([0.5, 0.5])
    >>> tie = th.SoftTie([a, b], strength=20.0)
    >>> model = th.HMM([a, b], {0: 0.5, 1: 0.5}, {(0, 0): 0.9, (0, 1): 0.1,
    ...                                           (1, 1): 0.9, (1, 0): 0.1},
    ...                soft_ties=[tie])
    """

    def __init__(self, groups: Sequence[ParameterGroup], strength: float) -> None:
        self.groups = list(groups)
        self.strength = float(strength)
        if len(self.groups) < 2 or len({id(group) for group in self.groups}) != len(self.groups):
            raise TyingError("a soft tie needs at least two distinct groups")
        if not self.strength >= 0:
            raise TyingError(f"soft-tie strength must be >= 0, got {strength}")
        kinds = {group.batch_key() for group in self.groups}
        if len(kinds) != 1:
            raise TyingError(f"soft-tied groups must be of one family and shape, got {kinds}")

    def blend(self, own: Stats, pooled: Stats) -> Stats:
        """Own statistics plus ``strength`` pseudo-observations shaped like ``pooled``."""
        weight = float(pooled["weight"])
        if weight <= 0:
            return own
        return {key: own[key] + self.strength * pooled[key] / weight for key in own}


class Topology:
    """A validated model: states with emission groups and labelled edges, compiled.

    Compiles to the arrays the kernels read: ``state_group`` (state → emission group
    index), and edge lists from which ``start_and_transmat`` and ``end_probabilities``
    assemble dense probabilities and ``transition_statistics`` pools expected counts
    per outcome. Rows sum to 1 over their transitions and end edge; a model with no
    end edges ends freely after any state (as hmmlearn's HMMs do).

    Parameters
    ----------
    emissions : sequence of ParameterGroup
        State ``i``'s emission group.
    start : mapping of int or "end" to label
        Start edges; ``start["end"]`` labels the begin → end edge (the empty path),
        which lets a begin row share the group of a state row that can end.
    transitions : mapping of (int, int) to label
        Transition edges; a label is ``(TransitionGroup, outcome)`` or a number.
    end : mapping of int to label, optional
        End edges.

    Raises
    ------
    tiedhmm.errors.TyingError
        A row that does not sum to 1, or a group whose rows use its outcomes with
        different multiplicities (naming the state, group and numbers).

    Examples
    --------
    >>> import tiedhmm as th
    >>> loop = th.TransitionGroup(["stay", "next"], [0.8, 0.2])
    >>> emission = th.CategoricalEmission([0.5, 0.5])
    >>> topology = th.Topology([emission, emission], {0: 1.0},
    ...                        {(0, 0): (loop, "stay"), (0, 1): (loop, "next"),
    ...                         (1, 1): (loop, "stay"), (1, 0): (loop, "next")})
    >>> topology.state_group.tolist()
    [0, 0]
    """

    def __init__(self, emissions: Sequence[ParameterGroup], start: Mapping[int | str, Label],
                 transitions: Mapping[tuple[int, int], Label],
                 end: Mapping[int, Label] | None = None) -> None:
        self.n_states = len(emissions)
        if self.n_states == 0:
            raise TyingError("a model needs at least one state")
        self.emission_groups, self.state_group = _index_emissions(emissions)
        edges: list[tuple[int, int | str, Label]] = [
            (self.n_states, self.n_states if j == "end" else j, label)
            for j, label in start.items()]
        edges += [(i, j, label) for (i, j), label in transitions.items()]
        edges += [(i, self.n_states, label) for i, label in (end or {}).items()]
        self.free_end = not end
        self.transition_groups: list[TransitionGroup] = []
        group_index: dict[int, int] = {}
        sources: list[int] = []
        destinations: list[int] = []
        edge_groups: list[int] = []
        outcomes: list[int] = []
        fixed: list[float] = []
        for src, dst, label in edges:
            if dst != self.n_states:
                self._check_state(dst, f"edge {self._row_name(src)} -> {dst}")
            if src != self.n_states:
                self._check_state(src, f"edge {src} -> {self._column_name(dst)}")
            sources.append(src)
            destinations.append(int(dst))  # (checked above)
            if isinstance(label, tuple):
                group, outcome, factor = (*label, 1.0) if len(label) == 2 else label
                if not isinstance(group, TransitionGroup):
                    raise TypeError(f"edge {self._row_name(src)} -> {dst}: expected "
                                    f"(TransitionGroup, outcome[, factor]), got {label!r}")
                if not 0.0 < float(factor) <= 1.0:
                    raise TyingError(f"edge {self._row_name(src)} -> {dst}: factor {factor} "
                                     f"is not in (0, 1]")
                if id(group) not in group_index:
                    group_index[id(group)] = len(self.transition_groups)
                    self.transition_groups.append(group)
                edge_groups.append(group_index[id(group)])
                outcomes.append(group.index(outcome))
                fixed.append(float(factor))
            else:
                value = float(label)
                if not 0.0 <= value <= 1.0:
                    raise TyingError(f"edge {self._row_name(src)} -> {dst}: fixed probability "
                                     f"{value} is not in [0, 1]")
                edge_groups.append(-1)
                outcomes.append(-1)
                fixed.append(value)
        self.edge_src: np.ndarray = np.array(sources, dtype=np.int64)
        self.edge_dst: np.ndarray = np.array(destinations, dtype=np.int64)
        self.edge_group: np.ndarray = np.array(edge_groups, dtype=np.int64)
        self.edge_outcome: np.ndarray = np.array(outcomes, dtype=np.int64)
        self.edge_fixed: np.ndarray = np.array(fixed, dtype=float)
        pairs = set(zip(self.edge_src.tolist(), self.edge_dst.tolist()))
        if len(pairs) != len(self.edge_src):
            raise TyingError("an edge is given twice (start and transition keys must be unique)")
        self._set_multiplicities()
        self.check_rows()

    def _check_state(self, state: object, where: str) -> None:
        if not (isinstance(state, (int, np.integer)) and 0 <= state < self.n_states):
            raise TyingError(f"{where}: state {state!r} is not in 0..{self.n_states - 1}")

    def _row_name(self, row: int) -> str:
        return "begin" if row == self.n_states else f"state {row}"

    def _column_name(self, column: int | str) -> str:
        return "end" if column == self.n_states else str(column)

    def _set_multiplicities(self) -> None:
        """Find each group's outcome multiplicities and check every row agrees.

        ``edge_fixed`` holds a labelled edge's factor (1 unless given); a row's
        multiplicity of an outcome is the sum of its factors, divided by the share of
        the row that is not fixed (rows sum to 1), so a scaled row counts like a full one.
        """
        for g, group in enumerate(self.transition_groups):
            factors: dict[int, np.ndarray] = {}
            shares: dict[int, float] = {}
            for row in np.unique(self.edge_src[self.edge_group == g]).tolist():
                in_row = self.edge_src == row
                other = np.unique(self.edge_group[in_row & (self.edge_group >= 0)])
                if other.size > 1:
                    raise TyingError(f"{self._row_name(row)} uses {group!r} and another "
                                     f"group; a row uses at most one group")
                shares[row] = 1.0 - float(self.edge_fixed[in_row & (self.edge_group < 0)].sum())
                if shares[row] <= 0:
                    raise TyingError(f"{self._row_name(row)}: fixed edges sum to "
                                     f"{1 - shares[row]:.10g}, leaving nothing for {group!r}")
                mine = in_row & (self.edge_group == g)
                factors[row] = np.bincount(self.edge_outcome[mine],
                                           weights=self.edge_fixed[mine],
                                           minlength=len(group.outcomes))
            # The row with the largest share defines the multiplicities most accurately;
            # the others must match it on the probability scale of their own mass.
            first_row = max(shares, key=lambda row: shares[row])
            first = factors[first_row] / shares[first_row]
            for row, counts in factors.items():
                if not np.allclose(counts, first * shares[row], rtol=MULTIPLICITY_TOLERANCE,
                                   atol=ROW_SUM_TOLERANCE):
                    raise TyingError(
                        f"{group!r} is used with different outcome multiplicities: "
                        f"{self._row_name(first_row)} has {_describe(group, first)}, "
                        f"{self._row_name(row)} has "
                        f"{_describe(group, counts / shares[row])}")
            unused = [o for o, k in zip(group.outcomes, first) if k == 0]
            if unused:
                raise TyingError(f"{group!r}: outcome(s) {unused} label no edge")
            if group.multiplicity is not None and not np.allclose(
                    group.multiplicity, first, rtol=MULTIPLICITY_TOLERANCE, atol=0):
                raise TyingError(f"{group!r} is shared with a model that uses it with "
                                 f"multiplicities {_describe(group, group.multiplicity)}, "
                                 f"here {_describe(group, first)}")
            group.multiplicity = first
            if group.probs is None:
                group.probs = np.full(len(group.outcomes), 1.0 / first.sum())

    def check_rows(self) -> None:
        """Every row (begin and each state) must sum to 1; the error names the numbers."""
        sums = self._dense().sum(axis=1)
        for row in np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE).tolist():
            groups = {self.transition_groups[g]
                      for g in self.edge_group[self.edge_src == row].tolist() if g >= 0}
            used = f" (using {', '.join(map(repr, groups))})" if groups else ""
            raise TyingError(f"{self._row_name(row)}: outgoing probabilities sum to "
                             f"{sums[row]:.10g}, not 1{used}")

    def edge_probabilities(self) -> np.ndarray:
        """Current probability of every edge: factor times its group's outcome, or fixed."""
        probs: np.ndarray = self.edge_fixed.copy()
        for g, group in enumerate(self.transition_groups):
            mask = self.edge_group == g
            probs[mask] *= group.current()[self.edge_outcome[mask]]
        return probs

    def _dense(self) -> np.ndarray:
        """``(N + 1, N + 1)`` edge probabilities: rows are states then begin, the last
        column is end."""
        rows = np.zeros((self.n_states + 1, self.n_states + 1))
        rows[self.edge_src, self.edge_dst] = self.edge_probabilities()
        return rows

    def start_and_transmat(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``startprob (N,)`` and ``transmat (N, N)`` from the current groups."""
        rows = self._dense()
        return rows[-1, :-1].copy(), rows[:-1, :-1].copy()

    def end_probabilities(self) -> np.ndarray:
        """``(N,)`` probability of ending after each state (all ones for a free end)."""
        if self.free_end:
            return np.ones(self.n_states)
        ends: np.ndarray = self._dense()[:-1, -1].copy()
        return ends

    @property
    def parameter_groups(self) -> list[ParameterGroup]:
        """Every group the model fits, each once: emission groups, their parts (a shared
        covariance), transition groups."""
        return parameter_groups(self.emission_groups, self.transition_groups)

    def transition_statistics(self, transitions: np.ndarray, starts: np.ndarray,
                              ends: np.ndarray | None = None) -> list[Stats]:
        """Pool expected counts of transitions ``(N, N)``, starts and ends ``(N,)`` per outcome."""
        dense = np.zeros((self.n_states + 1, self.n_states + 1))
        dense[:-1, :-1] = transitions
        dense[-1, :-1] = starts
        if ends is not None:
            dense[:-1, -1] = ends
        counts = dense[self.edge_src, self.edge_dst]
        stats = []
        for g, group in enumerate(self.transition_groups):
            mask = self.edge_group == g
            per_outcome = np.bincount(self.edge_outcome[mask], weights=counts[mask],
                                      minlength=len(group.outcomes))
            stats.append({"weight": np.array(per_outcome.sum()), "counts": per_outcome})
        return stats


def parameter_groups(emission_groups: Sequence[ParameterGroup],
                     transition_groups: Sequence[TransitionGroup]) -> list[ParameterGroup]:
    """Every group a model fits, each once: emission groups, their parts (a shared
    covariance), transition groups."""
    parts = {id(part): part for group in emission_groups for part in group.parts()}
    return [*emission_groups, *parts.values(), *transition_groups]


def _index_emissions(emissions: Sequence[ParameterGroup]) -> tuple[list[ParameterGroup],
                                                                   np.ndarray]:
    groups: list[ParameterGroup] = []
    index: dict[int, int] = {}
    state_group = np.empty(len(emissions), dtype=np.int64)
    for state, group in enumerate(emissions):
        if not isinstance(group, ParameterGroup):
            raise TypeError(f"state {state} has no emission group (got {group!r})")
        if id(group) not in index:
            index[id(group)] = len(groups)
            groups.append(group)
        state_group[state] = index[id(group)]
    return groups, state_group


def _describe(group: TransitionGroup, multiplicity: np.ndarray) -> str:
    return "{" + ", ".join(f"{o}: {k:g}" for o, k in zip(group.outcomes, multiplicity)) + "}"
