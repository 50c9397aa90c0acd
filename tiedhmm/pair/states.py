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
    """A pair-HMM state and the emission group it holds.

    Parameters
    ----------
    name : str
        The state's name (``"M"``, ``"X"``, ``"Y1"``, ...).
    emits : {"match", "x", "y"}
        A letter of each sequence, or of one.
    emission : ParameterGroup
        A :class:`~tiedhmm.MatchEmission` for a match state, a
        :class:`~tiedhmm.CategoricalEmission` for an insert state; states holding one
        object are tied.
    flank : bool, default False
        An unaligned flank of a local model (its letters are outside the reported
        alignment).

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        An unknown ``emits``.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> gap = th.CategoricalEmission(np.full(4, 0.25))
    >>> insert_x, insert_y = th.PairState("X", "x", gap), th.PairState("Y", "y", gap)
    >>> insert_x.emission is insert_y.emission     # symmetric tying
    True
    """

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
