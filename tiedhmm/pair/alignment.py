"""Pair-HMM paths to ``Bio.Align.Alignment`` objects.

Biopython is imported when an alignment is made, not with this module, so that
``import tiedhmm`` stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels.paths import run_coordinates


def as_record(sequence: Any, default_id: str) -> Any:
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
    coordinates: np.ndarray = run_coordinates(steps, int(origin[0]), int(origin[1]))
    return coordinates


def to_alignment(x: Any, y: Any, steps: np.ndarray, origin: tuple[int, int],
                 score: float) -> Any:
    """The ``Bio.Align.Alignment`` of ``x`` and ``y`` that the moves describe from
    ``origin``, with ``.score`` set."""
    from Bio.Align import Alignment
    alignment = Alignment([as_record(x, "x"), as_record(y, "y")],
                          steps_to_coordinates(steps, origin))
    alignment.score = float(score)
    return alignment


def gapped_rows(alignment: Any) -> list[str]:
    """Each row of a ``Bio.Align.Alignment`` as text with ``-`` for gaps, in one pass
    over its coordinates (Biopython's own rows cost a Python loop over every column, per
    row: minutes for a family of a thousand sequences)."""
    coordinates = np.asarray(alignment.coordinates)
    steps = np.diff(coordinates, axis=1)
    widths = np.abs(steps).max(axis=0)
    segment = np.repeat(np.arange(widths.size), widths)
    rows = []
    for sequence, row_steps, start in zip(alignment.sequences, steps, coordinates[:, 0]):
        text = np.full(segment.size, ord("-"), dtype=np.uint8)
        occupied = row_steps[segment] != 0
        letters = str(sequence.seq if hasattr(sequence, "seq") else sequence)
        text[occupied] = np.frombuffer(
            letters[start:start + int(occupied.sum())].encode(), dtype=np.uint8)
        rows.append(text.tobytes().decode())
    return rows


def header_description(record: Any) -> str:
    """What a writer must put after the id for the header to read back as it was.

    Biopython's FASTA reader keeps the whole title line as the description (``>a first``
    gives id ``a`` and description ``a first``), while its alignment writers print
    ``>id description``: the id would appear twice. The description without its leading
    id, and nothing for a title that was the id alone.
    """
    description = getattr(record, "description", "") or ""
    identifier = getattr(record, "id", "") or ""
    if description == identifier:
        return ""
    if identifier and description.startswith(identifier) \
            and description[len(identifier)].isspace():
        return description[len(identifier) + 1:]
    return description


def with_headers_as_read(alignment: Any) -> Any:
    """``alignment`` with records whose descriptions are :func:`header_description`'s,
    so that Biopython's writers give back each header as it was read (in place; the
    records are new, so inputs shared with other alignments are not touched)."""
    from Bio.SeqRecord import SeqRecord
    alignment.sequences = [SeqRecord(record.seq, id=record.id,
                                     description=header_description(record))
                           if hasattr(record, "id") else record
                           for record in alignment.sequences]
    return alignment


def for_writing(alignment: Any) -> Any:
    """An alignment that prints as ``alignment`` does, fast: its records hold the gapped
    rows and one ungapped segment each (what Biopython's writers then read at no cost);
    column annotations are kept."""
    from Bio.Align import Alignment
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord
    rows = gapped_rows(alignment)
    records = [SeqRecord(Seq(row), id=sequence.id, description=header_description(sequence))
               for row, sequence in zip(rows, alignment.sequences)]
    display = Alignment(records, np.array([[0, len(rows[0])]] * len(rows)))
    display.column_annotations = getattr(alignment, "column_annotations", {})
    return display
