"""Pair-HMM paths to ``Bio.Align.Alignment`` objects.

Biopython is imported when an alignment is made, not with this module, so that
``import tiedhmm`` stays light.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def as_record(sequence, default_id: str):
    """A SeqRecord for a ``str``, ``Seq`` or ``SeqRecord`` (kept as given)."""
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord
    if isinstance(sequence, SeqRecord):
        return sequence
    return SeqRecord(Seq(str(sequence)), id=default_id, description="")


def steps_to_coordinates(steps: np.ndarray, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """``(2, k)`` Biopython coordinates from per-column moves ``(dx, dy)`` (runs merged),
    starting at ``origin`` (where a local alignment begins)."""
    steps = np.ascontiguousarray(steps, dtype=np.int64).reshape(-1, 2)
    return _coordinates(steps, int(origin[0]), int(origin[1]))


@njit(cache=True)
def _coordinates(steps, i, j):
    """Positions after each run of equal moves, from ``(i, j)``."""
    n_steps = steps.shape[0]
    coordinates = np.empty((2, n_steps + 1), dtype=np.int64)
    coordinates[0, 0], coordinates[1, 0] = i, j
    count = 1
    for s in range(n_steps):
        i += steps[s, 0]
        j += steps[s, 1]
        if s + 1 == n_steps or steps[s + 1, 0] != steps[s, 0] or steps[s + 1, 1] != steps[s, 1]:
            coordinates[0, count], coordinates[1, count] = i, j
            count += 1
    return coordinates[:, :count].copy()


@njit(cache=True)
def core_steps(path, moves, flank):
    """Moves of a state path's aligned (non-``flank``) states, and the letters of x
    and y the flanks before them consumed (where the aligned part starts)."""
    steps = np.empty((path.shape[0], 2), dtype=np.int64)
    count, start_x, start_y = 0, 0, 0
    for state in path:
        if flank[state]:
            if count == 0:
                start_x += moves[state, 0]
                start_y += moves[state, 1]
        else:
            steps[count] = moves[state]
            count += 1
    return steps[:count].copy(), start_x, start_y


def to_alignment(x, y, steps: np.ndarray, origin: tuple[int, int], score: float):
    """The ``Bio.Align.Alignment`` of ``x`` and ``y`` that the moves describe from
    ``origin``, with ``.score`` set."""
    from Bio.Align import Alignment
    alignment = Alignment([as_record(x, "x"), as_record(y, "y")],
                          steps_to_coordinates(steps, origin))
    alignment.score = float(score)
    return alignment
