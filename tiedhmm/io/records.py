"""Parameter groups <-> JSON records, and the one edge schema every model file uses.

Each group class registers a record kind with :func:`group_kind` and writes its own
fields (``to_record``) and reads them back (``from_record``); this module adds the
fields every group has (``id``, ``kind``, ``name``, ``trainable``) and needs to know
no family. A :class:`GroupWriter` gives every group *object* one id however many
states, edges or models name it, so a reader that makes one object per id restores
the sharing; a group's parts (a covariance several Gaussians share) are records of
their own, written before it and named by id in its ``parts``. Edges are
``[src, dst, label]`` with ``"begin"`` and ``"end"`` for the silent ends; a label is a
number (fixed) or ``{"group": id, "outcome": name}`` with ``"factor"`` when the edge
carries a constant factor other than 1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import ModelFileError

#: Record kind -> group class, filled by the group classes as they are defined.
GROUP_KINDS: dict[str, Any] = {}
GroupClass = TypeVar("GroupClass", bound=type)

#: What a malformed document raises while it is decoded (wrong types, missing keys,
#: values the constructors reject).
DECODE_ERRORS = (KeyError, TypeError, IndexError, ValueError, AttributeError,
                 OverflowError)


def group_kind(kind: str) -> Callable[[GroupClass], GroupClass]:
    """Class decorator: register a group class under record kind ``kind``."""
    def register(cls: GroupClass) -> GroupClass:
        setattr(cls, "record_kind", kind)  # noqa: B010 (set on the class being registered)
        GROUP_KINDS[kind] = cls
        return cls
    return register


@contextlib.contextmanager
def decoding(where: str) -> Iterator[None]:
    """Turn any error raised while decoding a document into one :class:`ModelFileError`."""
    try:
        yield
    except ModelFileError:
        raise
    except DECODE_ERRORS as error:
        raise ModelFileError(f"{where}: malformed model file "
                             f"({type(error).__name__}: {error})") from None


class GroupWriter:
    """Gives every group object one id and one record, however often it is named.

    It holds every group it has seen, so that no id() is reused while it writes (models
    compiled on the fly, like the estimators' ``to_hmm()``, are dropped after use)."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[int, Any]] = {}
        self.records: list[dict[str, Any]] = []

    def id(self, group: Any) -> int:
        if id(group) not in self._seen:
            parts = [self.id(part) for part in group.parts()]  # written before their holder
            self._seen[id(group)] = (len(self.records), group)
            self.records.append({"id": len(self.records), "kind": group.record_kind,
                                 "name": group.name, "trainable": group.trainable,
                                 **({"parts": parts} if parts else {}),
                                 **group.to_record()})
        return self._seen[id(group)][0]

    def label(self, value: Any) -> Any:
        if isinstance(value, tuple):
            record = {"group": self.id(value[0]), "outcome": value[1]}
            if len(value) == 3 and float(value[2]) != 1.0:
                record["factor"] = float(value[2])
            return record
        return float(value)

    def edges(self, start: Mapping[Any, Any], transitions: Mapping[tuple[int, int], Any],
              end: Mapping[int, Any] | None) -> list[list[Any]]:
        """A model's start, transition and end edges in the one edge schema."""
        rows = [["begin", dst, self.label(label)] for dst, label in start.items()]
        rows += [[int(i), int(j), self.label(label)] for (i, j), label in transitions.items()]
        rows += [[int(i), "end", self.label(label)] for i, label in (end or {}).items()]
        return rows

    def soft_ties(self, ties: Sequence[Any]) -> list[dict[str, Any]]:
        return [{"groups": [self.id(g) for g in tie.groups], "strength": tie.strength}
                for tie in ties]


class GroupReader:
    """One group object per id of a document's ``groups``."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.groups: dict[int, Any] = {}
        for record in records:
            kind = record["kind"]
            if kind not in GROUP_KINDS:
                raise ModelFileError(f"unknown group kind {kind!r} (known: "
                                     f"{', '.join(sorted(GROUP_KINDS))})")
            parts = {"parts": [self.groups[i] for i in record["parts"]]} \
                if "parts" in record else {}
            self.groups[record["id"]] = GROUP_KINDS[kind].from_record(
                record, name=record["name"], trainable=bool(record["trainable"]), **parts)

    def label(self, value: Any) -> Any:
        if isinstance(value, dict):
            return (self.groups[value["group"]], str(value["outcome"]),
                    float(value.get("factor", 1.0)))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"an edge label must be a number or a group label, got {value!r}")
        return float(value)

    def edges(self, rows: list[Any], free_end: bool
              ) -> tuple[dict[int | str, Any], dict[tuple[int, int], Any], dict[int, Any] | None]:
        """Start, transition and end edges from the one edge schema."""
        start: dict[int | str, Any] = {}
        transitions: dict[tuple[int, int], Any] = {}
        end: dict[int, Any] = {}
        for src, dst, value in rows:
            label = self.label(value)
            if src == "begin":
                start["end" if dst == "end" else _state(dst)] = label
            elif dst == "end":
                end[_state(src)] = label
            else:
                transitions[(_state(src), _state(dst))] = label
        return start, transitions, None if free_end else end

    def soft_ties(self, records: list[dict[str, Any]]) -> list[tuple[list[Any], float]]:
        """``(groups, strength)`` of every soft tie."""
        return [([self.groups[g] for g in tie["groups"]], float(tie["strength"]))
                for tie in records]


def _state(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a state index must be an integer, got {value!r}")
    return value
