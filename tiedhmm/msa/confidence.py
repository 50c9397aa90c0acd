"""Column confidence that means what it says, and trimming by it.

A column's raw score is the mean posterior of the residue pairs it aligns (0 for a
column with one residue). Its *confidence* is the chance that it is a correct column:
the raw score mapped through a non-decreasing (isotonic) fit of correctness on the
BAliBASE 3 development cases, where a column is correct when it reproduces a core
column of the structural reference exactly (``scripts/calibrate_msa_confidence.py``
fits it and writes ``tiedhmm/data/msa_confidence.json``). So of the columns with
confidence at least ``c``, about a share ``c`` or more are correct; the reliability
curve is in the documentation (multiple alignment page).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import numpy as np

from ..errors import InvalidDataError

#: The bundled map from raw scores to confidence.
TABLE = "msa_confidence.json"


@functools.cache
def _table() -> tuple[np.ndarray, np.ndarray]:
    text = resources.files("tiedhmm").joinpath("data").joinpath(TABLE).read_text()
    found = json.loads(text)
    return np.array(found["raw"], dtype=float), np.array(found["calibrated"], dtype=float)


def calibrated(raw: np.ndarray) -> np.ndarray:
    """The confidence of columns with raw scores ``raw`` (NaN, a column with one
    residue, reads as 0).

    Parameters
    ----------
    raw : array of float
        Mean posteriors of the residue pairs each column aligns.

    Returns
    -------
    numpy.ndarray
        The chance that each column is correct, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from tiedhmm.msa.confidence import calibrated
    >>> low, high = calibrated(np.array([0.1, 0.99]))
    >>> bool(0 <= low < high <= 1)
    True
    """
    breaks, values = _table()
    result: np.ndarray = np.interp(np.nan_to_num(np.asarray(raw, dtype=float)), breaks,
                                   values)
    return result


def trim(alignment: Any, minimum: float) -> Any:
    """The alignment's columns with confidence at least ``minimum``, as users keep
    before building trees.

    Parameters
    ----------
    alignment : Bio.Align.Alignment
        An alignment from :func:`tiedhmm.msa` (with ``.confidence``).
    minimum : float
        The least confidence a kept column has, in [0, 1].

    Returns
    -------
    Bio.Align.Alignment
        The kept columns (each sequence keeps its residues in them), with
        ``.confidence`` and ``.tree`` carried over.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        ``minimum`` outside [0, 1], or an alignment without ``.confidence``.
    """
    from Bio.Align import Alignment
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord
    if not (isinstance(minimum, (int, float)) and 0.0 <= minimum <= 1.0):
        raise InvalidDataError(f"the trimming threshold must be a number in [0, 1], got "
                               f"{minimum!r}")
    confidence = getattr(alignment, "confidence", None)
    if confidence is None:
        raise InvalidDataError("trimming needs an alignment from tiedhmm.msa (with "
                               ".confidence)")
    keep = np.asarray(confidence) >= minimum
    rows = [np.array(list(str(row))) for row in alignment]
    records = []
    for record, row in zip(alignment.sequences, rows):
        kept = row[keep]
        residues = "".join(kept[kept != "-"])
        records.append(SeqRecord(Seq(residues), id=record.id, name=record.name,
                                 description=record.description))
    occupied = np.array([row[keep] != "-" for row in rows], dtype=np.int64).reshape(
        len(rows), int(keep.sum()))
    coordinates = np.hstack([np.zeros((len(rows), 1), dtype=np.int64),
                             np.cumsum(occupied, axis=1)])
    trimmed = Alignment(records, coordinates)
    trimmed.confidence = np.asarray(confidence)[keep]
    trimmed.column_annotations = {name: "".join(np.array(list(text))[keep])
                                  for name, text in (alignment.column_annotations or {}).items()}
    trimmed.tree = getattr(alignment, "tree", None)
    return trimmed
