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
    steps = np.asarray(steps, dtype=np.int64).reshape(-1, 2)
    positions = np.vstack([[0, 0], np.cumsum(steps, axis=0)])
    changes = np.flatnonzero(np.any(steps[1:] != steps[:-1], axis=1)) + 1
    ends = np.concatenate(([0], changes, [len(steps)])) if len(steps) else np.array([0])
    return (positions[ends] + np.asarray(origin, dtype=np.int64)).T.copy()


def to_alignment(x, y, steps: np.ndarray, origin: tuple[int, int], score: float) -> Alignment:
    """The alignment of ``x`` and ``y`` that the moves describe from ``origin``, with
    ``.score`` set."""
    alignment = Alignment([as_record(x, "x"), as_record(y, "y")],
                          steps_to_coordinates(steps, origin))
    alignment.score = float(score)
    return alignment
