"""The contract every emission family keeps, and the batching of groups by family.

An emission group is one distribution object; every state that references the
object shares it (tying is identity). A family computes the ``(T, k)`` log-likelihood
table of ``k`` groups at once, accumulates their pooled sufficient statistics from a
``(T, k)`` occupancy table, and fits a group from statistics (its M-step).

Statistics are dicts of arrays that add up across sequences, chunks, models and
machines; ``stats["weight"]`` is the total occupancy, which soft tying uses to turn
pooled statistics into ``strength`` pseudo-observations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numba
import numpy as np

from .._kernels.hmm import scaled_emissions

Stats = dict[str, np.ndarray]

BLOCKS_PER_THREAD = 4


def n_blocks(n_steps: int) -> int:
    """How many row blocks the parallel emission kernels split ``n_steps`` rows into."""
    return max(1, min(n_steps, BLOCKS_PER_THREAD * numba.get_num_threads()))


class ParameterGroup(ABC):
    """A fitted parameter set that several states (or models) may share by identity.

    Every group kind (emission families, match tables, transition groups) keeps one
    protocol: statistics in, ``m_step`` out; ``batch_key`` says which groups are alike;
    ``to_record`` / ``from_record`` write and read its own fields of a model file
    (registered with :func:`tiedhmm._records.group_kind`).
    """

    #: hmmlearn ``params`` letters this group's M-step responds to.
    param_letters: str = ""
    #: The group's kind in model files (set by ``group_kind``).
    record_kind: str = ""

    def __init__(self, *, name: str | None = None, trainable: bool = True) -> None:
        self.name = name
        self.trainable = trainable

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{label} at {id(self):#x}>"

    def batch_key(self) -> tuple:
        """Groups with equal keys are of one family and shape (soft ties need that)."""
        return (type(self),)

    @abstractmethod
    def m_step(self, stats: Stats, params: str) -> None:
        """Refit in place from (pooled) statistics; ``params`` holds the letters to update."""

    def log_prior(self) -> float:
        """The log density of this group's prior at its parameters, up to a constant (0
        without a prior): EM on the posterior must not lower likelihood plus this."""
        return 0.0

    @abstractmethod
    def free_parameters(self, params: str) -> int:
        """How many free scalars the M-step fits for the ``params`` letters (for AIC
        and BIC: a group counts once however many states share it)."""

    @abstractmethod
    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        """The arrays that hold this group's parameters (None where unset): what a
        compiled model depends on."""

    @abstractmethod
    def to_record(self) -> dict:
        """This group's own fields for a model file (JSON types only)."""

    @classmethod
    @abstractmethod
    def from_record(cls, record: dict, *, name: str | None,
                    trainable: bool) -> ParameterGroup:
        """A group from the fields ``to_record`` wrote."""

    def parts(self) -> tuple[ParameterGroup, ...]:
        """Groups this group holds and may share with others (a tied covariance): they
        are fitted, counted and saved once, like any group."""
        return ()

    def part_statistics(self, stats: Stats) -> list[tuple[ParameterGroup, Stats]]:
        """Each part's share of this group's statistics (EM pools them by identity)."""
        return []

    def copy(self) -> ParameterGroup:
        """An independent group with the same parameters (not tied to this one; its
        parts are copied too)."""
        parts = {"parts": [part.copy() for part in self.parts()]} if self.parts() else {}
        return type(self).from_record(self.to_record(), name=self.name,
                                      trainable=self.trainable, **parts)


def listed(value: np.ndarray | None) -> list | None:
    """An optional array as nested lists, for a record."""
    return None if value is None else np.asarray(value).tolist()


def array(value) -> np.ndarray | None:
    """An optional record field as a float array."""
    return None if value is None else np.array(value, dtype=float)


class EmissionGroup(ParameterGroup):
    """One emission distribution of an HMM, shared by every state that references it."""

    #: Whether ``probability_table`` gives probabilities without a log/exp round trip.
    direct_probabilities: bool = False

    @abstractmethod
    def observation_kind(self) -> tuple:
        """What observations look like; all groups of one model must agree."""

    @abstractmethod
    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Validate observations and convert them to the array the family reads."""

    def batch_key(self) -> tuple:
        """Groups with equal keys are computed together by one family call."""
        return (type(self), self.observation_kind())

    @classmethod
    @abstractmethod
    def log_likelihood_table(cls, groups: Sequence[EmissionGroup], X: np.ndarray) -> np.ndarray:
        """``(T, len(groups))`` log-likelihood of every observation under every group."""

    @classmethod
    def probability_table(cls, groups: Sequence[EmissionGroup], X: np.ndarray) -> np.ndarray:
        """``(T, len(groups))`` probabilities; only for ``direct_probabilities`` families."""
        raise TypeError(f"{cls.__name__} gives log-likelihoods only")

    @classmethod
    @abstractmethod
    def statistics(cls, groups: Sequence[EmissionGroup], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        """Sufficient statistics of each group given ``(T, len(groups))`` occupancies."""

    @abstractmethod
    def is_initialized(self) -> bool:
        """Whether every parameter is set (unset ones are None until ``initialize``)."""

    @classmethod
    @abstractmethod
    def initialize(cls, groups: Sequence[EmissionGroup], X: np.ndarray,
                   rng: np.random.RandomState) -> None:
        """Set the unset parameters of ``groups`` from data and a seeded generator."""

    @abstractmethod
    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        """Draw ``n`` observations, shaped as ``prepare`` returns them."""


def _by_batch(groups: Sequence[EmissionGroup]) -> dict[tuple, list[int]]:
    batches: dict[tuple, list[int]] = {}
    for index, group in enumerate(groups):
        batches.setdefault(group.batch_key(), []).append(index)
    return batches


def _table(groups: Sequence[EmissionGroup], X: np.ndarray, method: str) -> np.ndarray:
    batches = list(_by_batch(groups).values())
    if len(batches) == 1:
        return getattr(type(groups[0]), method)(groups, X)
    table = np.empty((X.shape[0], len(groups)))
    for indices in batches:
        family = type(groups[indices[0]])
        table[:, indices] = getattr(family, method)([groups[i] for i in indices], X)
    return table


def log_likelihood_table(groups: Sequence[EmissionGroup], X: np.ndarray) -> np.ndarray:
    """``(T, G)`` log-likelihoods of all groups, one family call per batch of like groups."""
    return _table(groups, X, "log_likelihood_table")


def emission_probabilities(groups: Sequence[EmissionGroup],
                           X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(T, G)`` emission probabilities scaled per row, and the log of each row's scale.

    Families with ``direct_probabilities`` skip the log/exp round trip (scale 1).
    """
    if all(group.direct_probabilities for group in groups):
        return _table(groups, X, "probability_table"), np.zeros(X.shape[0])
    return scaled_emissions(log_likelihood_table(groups, X))


def initialize_groups(groups: Sequence[EmissionGroup], X: np.ndarray,
                      rng: np.random.RandomState) -> None:
    """Initialise every group that has unset parameters, one family call per batch."""
    pending = [group for group in groups if not group.is_initialized()]
    for indices in _by_batch(pending).values():
        type(pending[indices[0]]).initialize([pending[i] for i in indices], X, rng)


def emission_statistics(groups: Sequence[EmissionGroup], X: np.ndarray,
                        occupancy: np.ndarray) -> list[Stats]:
    """Statistics of every group from its ``(T, G)`` occupancy column."""
    stats: list[Stats] = [{} for _ in groups]
    for indices in _by_batch(groups).values():
        family = type(groups[indices[0]])
        batch = family.statistics([groups[i] for i in indices], X, occupancy[:, indices])
        for i, group_stats in zip(indices, batch):
            stats[i] = group_stats
    return stats


def emission_group_statistics(groups: Sequence[EmissionGroup], X: np.ndarray,
                              occupancy: np.ndarray) -> list[tuple[ParameterGroup, Stats]]:
    """Each group with its statistics from its ``(T, G)`` occupancy column, then each part
    of a group (a shared covariance) with its share, for EM to pool by identity."""
    pairs = list(zip(groups, emission_statistics(groups, X, occupancy)))
    return pairs + [part for group, stats in pairs for part in group.part_statistics(stats)]


def add_stats(total: Stats | None, extra: Stats) -> Stats:
    """Sum two statistics dicts (``total`` may be None for a first term)."""
    if total is None:
        return {key: np.array(value, dtype=float, copy=True) for key, value in extra.items()}
    for key, value in extra.items():
        total[key] = total[key] + value
    return total
