"""Baum-Welch with tied groups: pooled E-step, tied M-step, convergence monitor.

EM reads its data through *statistics sources*: callables that run one E-step and
return the log-likelihood of each item, the statistics of each group they touch, and
the name of their items ("sequence", "pair"). HMMs and pair HMMs each provide one.
Statistics are pooled by group *identity*, so a group object used by several states
or several models is fitted once from all of their data.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import EMDecreaseError, ImpossibleSequenceError, InvalidDataError, TyingError
from ..parameters import ParameterGroup, Stats, add_stats
from ..tying import SoftTie

GroupStats = list[tuple[ParameterGroup, Stats]]
StatisticsSource = Callable[[], tuple[np.ndarray, GroupStats, str]]

#: A log-likelihood may fall by this much (relative) between iterations: rounding. A
#: constant feature held at the collapse guard leaves full covariances with condition
#: numbers near 1e10, and hmmlearn's zero-variance example then falls by up to 3e-8.
DECREASE_TOLERANCE = 1e-6


class ConvergenceMonitor:
    """hmmlearn's convergence monitor: stops after ``n_iter`` or when the gain is below ``tol``.

    Parameters
    ----------
    tol : float
        The smallest log-likelihood gain that keeps EM going.
    n_iter : int
        The most iterations.
    verbose : bool
        Print each iteration's log-likelihood to stderr.
    callback : callable, optional
        ``callback(iteration, loglik)`` hears every iteration (progress bars).

    Attributes
    ----------
    history : list of float
        The log-likelihood (plus log prior) of every iteration.
    iter : int
        Iterations run.

    Examples
    --------
    >>> import tiedhmm as th
    >>> monitor = th.ConvergenceMonitor(tol=0.1, n_iter=10, verbose=False)
    >>> monitor.report(-10.0); monitor.report(-9.95)
    >>> monitor.converged
    True
    """

    def __init__(self, tol: float, n_iter: int, verbose: bool,
                 callback: Callable[[int, float], None] | None = None) -> None:
        self.tol = tol
        self.n_iter = n_iter
        self.verbose = verbose
        self.callback = callback
        self.history: list[float] = []
        self.iter = 0

    def reset(self) -> None:
        """Forget the history before a new fit."""
        self.history = []
        self.iter = 0

    #: hmmlearn's name for :meth:`reset` (hmmlearn's code and tests call it).
    _reset = reset

    def __repr__(self) -> str:
        return (f"ConvergenceMonitor(tol={self.tol}, n_iter={self.n_iter}, "
                f"iter={self.iter}, history={self.history[-2:]})")

    def report(self, logprob: float) -> None:
        if self.verbose:
            delta = logprob - self.history[-1] if self.history else np.nan
            print(f"{self.iter + 1:>10d} {logprob:>16.6f} {delta:>+16.6f}", file=sys.stderr)
        self.history.append(logprob)
        self.iter += 1
        if self.callback is not None:
            self.callback(self.iter, logprob)

    @property
    def converged(self) -> bool:
        return self.iter >= self.n_iter or (
            len(self.history) >= 2 and self.history[-1] - self.history[-2] < self.tol)


def pooled_statistics(sources: Sequence[StatisticsSource]
                      ) -> tuple[float, dict[int, tuple[ParameterGroup, Stats]]]:
    """One E-step over every source: total log P and statistics pooled by group identity.

    Raises ImpossibleSequenceError naming the first item the model cannot generate.
    """
    pooled: dict[int, tuple[ParameterGroup, Stats]] = {}
    total = 0.0
    for source_index, source in enumerate(sources):
        loglik, group_stats, unit = source()
        impossible = np.flatnonzero(~np.isfinite(loglik))
        if impossible.size:
            where = f"model {source_index}, " if len(sources) > 1 else ""
            raise ImpossibleSequenceError(f"{where}{unit} {int(impossible[0])} has probability 0 "
                                          f"under the current parameters (log-likelihood "
                                          f"-inf); EM cannot fit it")
        total += float(loglik.sum())
        for group, stats in group_stats:
            previous = pooled.get(id(group), (group, None))[1]
            pooled[id(group)] = (group, add_stats(previous, stats))
    return total, pooled


def keyed_by_position(groups: Sequence[ParameterGroup],
                      group_stats: GroupStats) -> dict[int, Stats]:
    """Statistics keyed by each group's position in ``groups`` (summed per group): how
    they travel between processes or calls, where group identities differ."""
    position = {id(group): k for k, group in enumerate(groups)}
    keyed: dict[int, Stats] = {}
    for group, stats in group_stats:
        keyed[position[id(group)]] = add_stats(keyed.get(position[id(group)]), stats)
    return keyed


@dataclass
class Statistics:
    """Expected sufficient statistics of data seen so far, keyed by the position of
    each group in its model (so that they add across chunks, calls and processes).

    Attributes
    ----------
    loglik : float
        The total log-likelihood of the data under the parameters the E-step used.
    n_sequences : int
        How many sequences they cover.
    by_group : dict of int to dict
        Each group's statistics, by its position in the model's groups.
    layout : tuple of str
        The kind of every group of the model, in order: statistics of models with
        other groups do not add.
    """

    loglik: float
    n_sequences: int
    by_group: dict[int, Stats]
    layout: tuple[str, ...]

    @staticmethod
    def layout_of(groups: Sequence[ParameterGroup]) -> tuple[str, ...]:
        """The ``layout`` of a model with ``groups``."""
        return tuple(str(group.batch_key()) for group in groups)

    def __add__(self, other: Statistics) -> Statistics:
        if other.layout != self.layout:
            raise InvalidDataError("statistics of models with different groups do not add "
                                   "(statistics of another model?)")
        by_group = {k: add_stats(None, stats) for k, stats in self.by_group.items()}
        for k, stats in other.by_group.items():
            by_group[k] = add_stats(by_group.get(k), stats)
        return Statistics(self.loglik + other.loglik, self.n_sequences + other.n_sequences,
                          by_group, self.layout)

    def __radd__(self, other: object) -> Statistics:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented


def m_step(pooled: dict[int, tuple[ParameterGroup, Stats]], soft_ties: Sequence[SoftTie],
           emission_params: str | None) -> None:
    """Refit every trainable group; soft-tied groups blend in their pooled statistics."""
    blended = {key: stats for key, (_, stats) in pooled.items()}
    for tie in soft_ties:
        members = [id(group) for group in tie.groups if id(group) in pooled]
        if not members:
            continue
        together: Stats | None = None
        for key in members:
            together = add_stats(together, pooled[key][1])
        if together is None:
            continue
        for key in members:
            blended[key] = tie.blend(pooled[key][1], together)
    parts = {id(part) for group, _ in pooled.values() for part in group.parts()}
    # Parts (a shared covariance) are fitted after the groups that hold them.
    for key, (group, _) in sorted(pooled.items(), key=lambda item: item[0] in parts):
        if not group.trainable:
            continue
        letters = group.param_letters if emission_params is None else emission_params
        group.m_step(blended[key], letters)


def _starting_groups(pooled: dict[int, tuple[ParameterGroup, Stats]]
                     ) -> dict[int, ParameterGroup]:
    """Copies of the trainable groups as they are, for an anchored fit; an error naming
    a group that cannot be pulled back (before anything is fitted)."""
    for group, _ in pooled.values():
        if group.trainable and not group.pullable:
            raise InvalidDataError(f"{group!r} cannot be anchored: only probability groups "
                                   f"(categorical, match, transition) can")
    return {key: group.copy() for key, (group, _) in pooled.items() if group.trainable}


def check_soft_ties(soft_ties: Sequence[SoftTie]) -> None:
    seen: set[int] = set()
    for tie in soft_ties:
        for group in tie.groups:
            if id(group) in seen:
                raise TyingError(f"{group!r} is in more than one soft tie")
            seen.add(id(group))


def fit(sources: Sequence[StatisticsSource], monitor: ConvergenceMonitor, *,
        soft_ties: Sequence[SoftTie] = (), emission_params: str | None = None,
        anchor: float = 0.0) -> None:
    """Run EM in place on the groups behind ``sources`` until ``monitor`` says it converged.

    As in hmmlearn, every iteration does an E-step, an M-step, then reports the
    E-step's log-likelihood; ``n_iter=0`` runs none. Without soft ties EM cannot lower
    the log-likelihood plus the groups' log priors (the MAP objective; with no priors,
    the likelihood), so a fall beyond rounding raises :class:`EMDecreaseError`; with
    soft ties the update is a shrinkage, not an EM step, and with a group whose M-step
    is not exact (``exact_m_step``), no such check applies either. ``anchor`` in
    ``[0, 1)`` pulls every M-step's estimate that share of the way back to the
    parameters the fit started from (:meth:`ParameterGroup.pull_toward`): a soft tie to
    the starting model, so little data cannot drag it far; a shrinkage too, unchecked.
    """
    check_soft_ties(soft_ties)
    if isinstance(anchor, bool) or not isinstance(anchor, (int, float, np.floating)) or \
            not 0.0 <= anchor < 1.0:
        raise InvalidDataError(f"anchor must be a number in [0, 1), got {anchor!r}")
    if monitor.n_iter <= 0:
        return
    previous = None
    start: dict[int, ParameterGroup] | None = None
    while True:  # ``converged`` is asked after a report only, as hmmlearn's monitors expect
        total, pooled = pooled_statistics(sources)
        objective = total + sum(group.log_prior() for group, _ in pooled.values()
                                if group.trainable)
        exact = all(group.exact_m_step for group, _ in pooled.values() if group.trainable)
        if anchor and start is None:
            start = _starting_groups(pooled)
        m_step(pooled, soft_ties, emission_params)
        for key, (group, _) in pooled.items():
            if start and key in start:
                group.pull_toward(start[key], anchor)
        if previous is not None and exact and not soft_ties and not anchor and \
                np.isfinite(objective) and \
                previous - objective > DECREASE_TOLERANCE * max(1.0, abs(objective)):
            raise EMDecreaseError(f"log-likelihood plus log prior fell from {previous!r} to "
                                  f"{objective!r} at EM iteration {monitor.iter + 1}")
        previous = objective
        monitor.report(total)
        if monitor.converged:
            return
