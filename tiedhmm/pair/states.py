"""The states of a pair HMM and the kind of its model files (below the model and its
presets, which both build states)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidDataError
from ..parameters import ParameterGroup

MOVES = {"match": (1, 1), "x": (1, 0), "y": (0, 1)}
PAIR_FORMAT = "tiedhmm.PairHMM"


@dataclass(frozen=True)
class PairState:
    """A pair-HMM state: ``emits`` is ``"match"``, ``"x"`` or ``"y"``."""

    name: str
    emits: str
    emission: ParameterGroup
    #: An unaligned flank of a local model: left out of the alignment it reports.
    flank: bool = False

    @property
    def move(self) -> tuple[int, int]:
        try:
            return MOVES[self.emits]
        except (KeyError, TypeError):
            raise InvalidDataError(f"state {self.name!r}: emits must be one of "
                                   f"{sorted(MOVES)}, got {self.emits!r}") from None
