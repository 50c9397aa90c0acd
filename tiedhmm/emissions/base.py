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

import contextlib
import contextvars
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .._kernels.emissions import scaled_emissions
from ..parameters import ParameterGroup, Stats

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")

#: Rows a block of the parallel statistics kernels holds at least (each block sums its
#: rows, then the blocks are added in order), and the most blocks: the count follows the
#: rows alone, so statistics do not depend on the number of threads.
ROWS_PER_BLOCK = 4096
MAX_BLOCKS = 64


def n_blocks(n_steps: int) -> int:
    """How many row blocks the parallel emission kernels split ``n_steps`` rows into."""
    return max(1, min(MAX_BLOCKS, n_steps // ROWS_PER_BLOCK))


class EmissionGroup(ParameterGroup):
    """One emission distribution of an HMM, shared by every state that references it.

    The base of every emission family. A family computes the ``(T, k)``
    log-likelihood table of ``k`` groups at once, accumulates their pooled statistics
    from a ``(T, k)`` occupancy table and fits each group from them; subclasses
    implement those class methods and ``sample``.

    Parameters
    ----------
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.

    Examples
    --------
    >>> import tiedhmm as th
    >>> isinstance(th.CategoricalEmission([0.5, 0.5]), th.EmissionGroup)
    True
    """

    #: Whether ``probability_table`` gives probabilities without a log/exp round trip.
    direct_probabilities: bool = False

    @abstractmethod
    def observation_kind(self) -> tuple[Any, ...]:
        """What observations look like; all groups of one model must agree."""

    @abstractmethod
    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Validate observations and convert them to the array the family reads."""

    def batch_key(self) -> tuple[Any, ...]:
        """Groups with equal keys are computed together by one family call."""
        return (type(self), self.observation_kind())

    @classmethod
    @abstractmethod
    def log_likelihood_table(cls, groups: Sequence[Self], X: np.ndarray) -> np.ndarray:
        """``(T, len(groups))`` log-likelihood of every observation under every group."""

    @classmethod
    def probability_table(cls, groups: Sequence[Self], X: np.ndarray) -> np.ndarray:
        """``(T, len(groups))`` probabilities; only for ``direct_probabilities`` families."""
        raise TypeError(f"{cls.__name__} gives log-likelihoods only")

    @classmethod
    def scaled_table(cls, groups: Sequence[Self], X: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """``(T, len(groups))`` probabilities scaled so that each row's largest is 1, and
        the log of each row's scale (a family may compute it in one pass)."""
        scaled: tuple[np.ndarray, np.ndarray] = scaled_emissions(
            cls.log_likelihood_table(groups, X))
        return scaled

    @classmethod
    @abstractmethod
    def statistics(cls, groups: Sequence[Self], X: np.ndarray,
                   weights: np.ndarray) -> list[Stats]:
        """Sufficient statistics of each group given ``(T, len(groups))`` occupancies."""

    @abstractmethod
    def is_initialized(self) -> bool:
        """Whether every parameter is set (unset ones are None until ``initialize``)."""

    @classmethod
    @abstractmethod
    def initialize(cls, groups: Sequence[Self], X: np.ndarray,
                   rng: np.random.RandomState) -> None:
        """Set the unset parameters of ``groups`` from data and a seeded generator."""

    @abstractmethod
    def sample(self, rng: np.random.RandomState, n: int) -> np.ndarray:
        """Draw ``n`` observations, shaped as ``prepare`` returns them."""


#: Work that a pass's emission table and its statistics share, while :func:`one_pass`
#: holds it open (per thread of Python: a ``ContextVar``).
_SHARED_WORK: contextvars.ContextVar[dict[tuple[Any, ...], Any] | None] = \
    contextvars.ContextVar("tiedhmm_shared_emission_work", default=None)


@contextlib.contextmanager
def one_pass() -> Iterator[None]:
    """Inside the block (one E-step: the emission table, then the statistics of the same
    groups on the same data, parameters unchanged), a family may compute work both need
    once (:func:`shared_work`); outside it nothing is kept."""
    token = _SHARED_WORK.set({})
    try:
        yield
    finally:
        _SHARED_WORK.reset(token)


def shared_work(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or within :func:`one_pass` the value a call with ``key`` computed
    earlier in the pass."""
    store = _SHARED_WORK.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    found: T = store[key]
    return found


def _by_batch(groups: Sequence[EmissionGroup]) -> dict[tuple[Any, ...], list[int]]:
    batches: dict[tuple[Any, ...], list[int]] = {}
    for index, group in enumerate(groups):
        batches.setdefault(group.batch_key(), []).append(index)
    return batches


def _table(groups: Sequence[EmissionGroup], X: np.ndarray, method: str) -> np.ndarray:
    batches = list(_by_batch(groups).values())
    if len(batches) == 1:
        whole: np.ndarray = getattr(type(groups[0]), method)(groups, X)
        return whole
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

    Families with ``direct_probabilities`` skip the log/exp round trip (scale 1); a model
    of one family asks it for the scaled table (which it may fuse into one pass).
    """
    if all(group.direct_probabilities for group in groups):
        return _table(groups, X, "probability_table"), np.zeros(X.shape[0])
    if len(_by_batch(groups)) == 1:
        return type(groups[0]).scaled_table(groups, X)
    scaled: tuple[np.ndarray, np.ndarray] = scaled_emissions(log_likelihood_table(groups, X))
    return scaled


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
        columns = occupancy if indices == list(range(occupancy.shape[1])) else \
            np.ascontiguousarray(occupancy[:, indices])  # (one family: no copy)
        batch = family.statistics([groups[i] for i in indices], X, columns)
        for i, group_stats in zip(indices, batch):
            stats[i] = group_stats
    return stats


def emission_group_statistics(groups: Sequence[EmissionGroup], X: np.ndarray,
                              occupancy: np.ndarray) -> list[tuple[ParameterGroup, Stats]]:
    """Each group with its statistics from its ``(T, G)`` occupancy column, then each part
    of a group (a shared covariance) with its share, for EM to pool by identity."""
    pairs = list(zip(groups, emission_statistics(groups, X, occupancy)))
    return pairs + [part for group, stats in pairs for part in group.part_statistics(stats)]
