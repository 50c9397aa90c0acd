"""Pair-HMM paths to ``Bio.Align.Alignment`` objects."""

from __future__ import annotations

import numpy as np
from Bio.Align import Alignment
from Bio.Seq import Seq
from Bio.SeqRecord import SeqRecord


def as_record(sequence, default_id: str) -> SeqRecord:
    """A SeqRecord for a ``str``, ``Seq`` or ``SeqRecord`` (kept as given)."""
    if isinstance(sequence, SeqRecord):
        return sequence
    return SeqRecord(Seq(str(sequence)), id=default_id, description="")


def steps_to_coordinates(steps: np.ndarray, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """``(2, k)`` Biopython coordinates from per-column moves ``(dx, dy)`` (runs merged),
    starting at ``origin`` (where a local alignment begins)."""
    points = [origin]
    previous = None
    for dx, dy in steps:
        move = (int(dx), int(dy))
        i, j = points[-1]
        if move == previous:
            points[-1] = (i + dx, j + dy)
        else:
            points.append((i + dx, j + dy))
        previous = move
    return np.array(points, dtype=np.int64).T


def to_alignment(x, y, steps: np.ndarray, origin: tuple[int, int], score: float) -> Alignment:
    """The alignment of ``x`` and ``y`` that the moves describe from ``origin``, with
    ``.score`` set."""
    alignment = Alignment([as_record(x, "x"), as_record(y, "y")],
                          steps_to_coordinates(steps, origin))
    alignment.score = float(score)
    return alignment
