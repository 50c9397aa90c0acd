"""The parameter group: what tying, EM and every emission family build on.

A parameter group is one set of fitted parameters (an emission distribution, a match
table, a transition group) that several states or models share by **identity**: every
state that references the object uses it, and EM pools the statistics of all of them
into it. This module holds the protocol every group keeps (statistics in, ``m_step``
out, its own record in a model file) and the statistics arithmetic. It imports only
numpy; everything else in tiedhmm that fits parameters builds on it.

Statistics are dicts of arrays that add up across sequences, chunks, models and
machines; ``stats["weight"]`` is the total occupancy, which soft tying uses to turn
pooled statistics into ``strength`` pseudo-observations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidDataError

if TYPE_CHECKING:
    from typing_extensions import Self

Stats = dict[str, np.ndarray]


class ParameterGroup(ABC):
    """A fitted parameter set that several states (or models) may share by identity.

    Every group kind (emission families, match tables, transition groups) keeps one
    protocol: statistics in, ``m_step`` out; ``batch_key`` says which groups are alike;
    ``to_record`` / ``from_record`` write and read its own fields of a model file
    (registered with :func:`tiedhmm.io.records.group_kind`).
    """

    #: hmmlearn ``params`` letters this group's M-step responds to.
    param_letters: str = ""
    #: Whether the M-step maximises EM's objective exactly (then EM cannot lower the
    #: likelihood, and the EM loop checks that it does not).
    exact_m_step: bool = True
    #: The group's kind in model files (set by ``group_kind``).
    record_kind: str = ""
    #: Whether :meth:`pull_toward` works (an anchored fit needs it).
    pullable: bool = False

    def __init__(self, *, name: str | None = None, trainable: bool = True) -> None:
        self.name = name
        self.trainable = trainable

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{label} at {id(self):#x}>"

    def batch_key(self) -> tuple[Any, ...]:
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
    def to_record(self) -> dict[str, Any]:
        """This group's own fields for a model file (JSON types only)."""

    @classmethod
    @abstractmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> Self:
        """A group from the fields ``to_record`` wrote."""

    def pull_toward(self, reference: Self, share: float) -> None:
        """Move the parameters ``share`` of the way toward ``reference``'s (a group of the
        same kind and shape), in place: an anchored fit's pull back to where it started.
        Probability groups mix linearly, which keeps them distributions (and a
        symmetric table symmetric); other kinds do not support it (:attr:`pullable`)."""
        raise TypeError(f"{self!r} cannot be pulled toward a reference")

    def parts(self) -> tuple[ParameterGroup, ...]:
        """Groups this group holds and may share with others (a tied covariance): they
        are fitted, counted and saved once, like any group."""
        return ()

    def part_statistics(self, stats: Stats) -> list[tuple[ParameterGroup, Stats]]:
        """Each part's share of this group's statistics (EM pools them by identity)."""
        return []

    def copy(self) -> Self:
        """An independent group with the same parameters (not tied to this one; its
        parts are copied too)."""
        parts = {"parts": [part.copy() for part in self.parts()]} if self.parts() else {}
        return type(self).from_record(self.to_record(), name=self.name,
                                      trainable=self.trainable, **parts)


def listed(value: np.ndarray | None) -> list[Any] | None:
    """An optional array as nested lists, for a record."""
    return None if value is None else np.asarray(value).tolist()


def required(value: np.ndarray | None, what: str) -> np.ndarray:
    """A parameter array that must be set by now: a group's unset parameters are set
    when a model is fitted, and using them before is an error naming the group."""
    if value is None:
        raise InvalidDataError(f"{what} is unset: fit a model that holds it, or give it")
    return value


def array(value: Any) -> np.ndarray | None:
    """An optional record field as a float array."""
    return None if value is None else np.array(value, dtype=float)


def add_stats(total: Stats | None, extra: Stats) -> Stats:
    """Sum two statistics dicts (``total`` may be None for a first term)."""
    if total is None:
        return {key: np.array(value, dtype=float, copy=True) for key, value in extra.items()}
    for key, value in extra.items():
        total[key] = total[key] + value
    return total
