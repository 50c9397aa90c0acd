"""Scoring a multiple alignment against a reference: SP, TC and per-pair Q, as BAliBASE's
official scorer (``bali_score`` 3.01) computes them.

The reference says which columns count:

- a BAliBASE ``.xml`` file marks its **core blocks** (``coreblock`` column scores of 1);
- a FASTA reference in mixed case marks core residues in upper case (PREFAB, SABmark):
  a column counts when its residues are all upper case;
- otherwise (MSF, or FASTA in one case) a column counts when fewer than a fifth of the
  sequences have a gap there (``bali_score``'s rule without core blocks).

A counted column with ``n`` residues holds ``n (n - 1) / 2`` reference residue pairs
(core-block columns count every sequence, gapped or not, as ``bali_score`` does). **SP**
is the share of those pairs the test alignment also puts in one column. **TC** follows
``bali_score`` exactly: of the counted columns where the first reference sequence has a
residue, the share whose residues the test alignment keeps in one column. **Q** of a
sequence pair is the share of its own reference pairs the test reproduces.
``bali_score`` prints SP rounded to 3 decimals and TC truncated to 2
(``official_rounding=True``).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from ..io.fasta import fasta_records, input_text

GAPS = "-.~"
#: Without core blocks, a column counts when fewer than this share of sequences gap it.
GAP_CUTOFF = 0.2


@dataclass(frozen=True)
class Reference:
    """A reference alignment: names, rows (``-`` for gaps) and, per column, how many
    residues its reference pairs come from (0: the column does not count)."""

    names: list[str]
    rows: list[str]
    counted: np.ndarray


@dataclass(frozen=True)
class AlignmentScores:
    """How a test alignment agrees with a reference.

    Attributes
    ----------
    sp : float
        Sum-of-pairs: the share of reference residue pairs the test aligns too.
    tc : float
        Total column: the share of counted reference columns the test reproduces.
    pair_q : dict of (str, str) to float
        Per sequence pair, the share of its reference pairs reproduced (NaN when the
        pair has none).
    counted_columns : int
        Reference columns that count (core columns where the reference marks them).
    """

    sp: float
    tc: float
    pair_q: dict[tuple[str, str], float]
    counted_columns: int


def read_reference(source: str | Path | Any) -> Reference:
    """A reference alignment from a BAliBASE ``.xml`` or ``.msf`` file, an aligned FASTA
    file, or an alignment object (``Bio.Align.Alignment`` or aligned ``SeqRecord``\\ s).

    Parameters
    ----------
    source : str, pathlib.Path, Bio.Align.Alignment or sequence of SeqRecord
        The reference.

    Returns
    -------
    Reference
        Names, rows and the columns that count (see the module docstring).
    """
    if not isinstance(source, (str, Path)):
        names, rows = _rows_of(source, "the reference")
        return _reference(names, rows, None, case_core=True)
    text = input_text(str(source))
    stripped = text.lstrip()
    if stripped.startswith("<?xml") or stripped.startswith("<macsim"):
        return _from_xml(text, str(source))
    names, rows, msf = _rows_of_text(text, str(source))
    return _reference(names, rows, None, case_core=not msf)


def compare(test: str | Path | Any, reference: str | Path | Any | Reference, *,
            official_rounding: bool = False) -> AlignmentScores:
    """Score a test alignment against a reference: SP, TC and per-pair Q.

    Parameters
    ----------
    test : str, pathlib.Path, Bio.Align.Alignment or sequence of SeqRecord
        The alignment to score (a file: aligned FASTA or MSF).
    reference : same, a BAliBASE ``.xml`` file, or Reference
        The reference (see the module docstring for which columns count).
    official_rounding : bool, default False
        Round SP to 3 decimals and truncate TC to 2, as ``bali_score`` prints them.

    Returns
    -------
    AlignmentScores
        ``sp``, ``tc``, ``pair_q`` and ``counted_columns``.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        A reference sequence missing from the test, or a test sequence whose residues
        differ from the reference's.

    Examples
    --------
    >>> from Bio.Seq import Seq
    >>> from Bio.SeqRecord import SeqRecord
    >>> from tiedhmm.msa import compare
    >>> def aligned(*rows):
    ...     return [SeqRecord(Seq(r), id=n) for n, r in zip("abc", rows)]
    >>> reference = aligned("AC-GT", "ACAGT", "A--GT")
    >>> scores = compare(aligned("ACG-T", "ACAGT", "A-G-T"), reference)
    >>> round(scores.sp, 3), round(scores.tc, 3)
    (0.778, 0.667)
    """
    ref = reference if isinstance(reference, Reference) else read_reference(reference)
    if isinstance(test, (str, Path)):
        names, rows, _ = _rows_of_text(input_text(str(test)), str(test))
    else:
        names, rows = _rows_of(test, "the test alignment")
    columns = _test_columns(ref, names, rows)  # (sequences, reference columns)
    has = columns >= 0
    pair_hits = np.zeros((len(ref.names), len(ref.names)))
    pair_totals = np.zeros_like(pair_hits)
    correct_columns = first_columns = 0
    for c in np.flatnonzero(ref.counted > 0):
        present = np.flatnonzero(has[:, c])
        same = columns[present, c][:, None] == columns[present, c][None, :]
        pair_hits[np.ix_(present, present)] += same
        pair_totals[np.ix_(present, present)] += 1
        if has[0, c]:  # bali_score's TC: columns where the first sequence has a residue
            first_columns += 1
            together = int((columns[present, c] == columns[0, c]).sum())
            correct_columns += together >= ref.counted[c]
    reproduced = int(np.triu(pair_hits, 1).sum())
    pairs_total = int((ref.counted * (ref.counted - 1) // 2).sum())
    sp = reproduced / pairs_total if pairs_total else 0.0
    tc = correct_columns / first_columns if first_columns else 0.0
    if official_rounding:  # bali_score divides in single precision, then prints
        sp = round(float(np.float32(reproduced) / np.float32(pairs_total)), 3) \
            if pairs_total else 0.0
        tc = int(np.float32(100) * np.float32(correct_columns) / np.float32(first_columns)) \
            / 100 if first_columns else 0.0
    pair_q = {(ref.names[a], ref.names[b]):
              float(pair_hits[a, b] / pair_totals[a, b]) if pair_totals[a, b] else math.nan
              for a, b in combinations(range(len(ref.names)), 2)}
    return AlignmentScores(float(sp), float(tc), pair_q, int((ref.counted > 0).sum()))


def _rows_of(alignment: Any, where: str) -> tuple[list[str], list[str]]:
    """Names and rows of an alignment object or of aligned records."""
    if hasattr(alignment, "sequences") and hasattr(alignment, "coordinates"):
        names = [getattr(s, "id", str(k)) for k, s in enumerate(alignment.sequences)]
        return names, [str(row) for row in alignment]
    records = list(alignment)
    names = [record.id for record in records]
    rows = [str(record.seq) for record in records]
    if len({len(row) for row in rows}) > 1:
        raise InvalidDataError(f"{where}: rows of different lengths (not an alignment)")
    return names, rows


def _rows_of_text(text: str, where: str) -> tuple[list[str], list[str], bool]:
    """Names and rows of an MSF or aligned FASTA text, and whether it was MSF."""
    if "//" in text and not text.lstrip().startswith(">"):
        return (*_from_msf(text, where), True)
    return (*_rows_of(fasta_records(text, where), where), False)


def _from_msf(text: str, where: str) -> tuple[list[str], list[str]]:
    """Names and rows of a GCG MSF alignment (``.`` and ``~`` are gaps)."""
    header, _, body = text.partition("//")
    names = [line.split()[1] for line in header.splitlines()
             if line.strip().startswith("Name:") and len(line.split()) > 1]
    if not names:
        raise InvalidDataError(f"{where}: no 'Name:' lines (not an MSF file)")
    parts: dict[str, list[str]] = {name: [] for name in names}
    for line in body.splitlines():
        fields = line.split()
        if fields and fields[0] in parts:
            parts[fields[0]].append("".join(fields[1:]))
    return names, ["".join(parts[name]) for name in names]


def _from_xml(text: str, where: str) -> Reference:
    """A BAliBASE XML reference with its core blocks."""
    try:  # the DOCTYPE names a DTD on a server long gone: not needed to read the file
        root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", text))
    except ElementTree.ParseError as error:
        raise InvalidDataError(f"{where}: not a BAliBASE XML file ({error})") from None
    names, rows = [], []
    for sequence in root.iter("sequence"):
        name, data = sequence.findtext("seq-name"), sequence.findtext("seq-data")
        if name is None or data is None:
            raise InvalidDataError(f"{where}: a sequence without seq-name or seq-data")
        names.append(name.strip())
        rows.append("".join(data.split()))
    core = None
    for score in root.iter("column-score"):
        if (score.findtext("colsco-name") or "").strip() == "coreblock":
            core = np.array([int(v) == 1 for v in (score.findtext("colsco-data") or "").split()])
    return _reference(names, rows, core, case_core=False)


def column_agreement(test: str | Path | Any, reference: str | Path | Any | Reference
                     ) -> np.ndarray:
    """Per column of a test alignment: 1 when it reproduces a counted (core) reference
    column exactly (the same residues, no others), 0 when it holds a residue of a
    counted column but is not such a copy, -1 when it holds none (the reference does
    not decide it). What a column confidence is calibrated against.

    Parameters
    ----------
    test : str, pathlib.Path, Bio.Align.Alignment or sequence of SeqRecord
        The alignment to judge.
    reference : same, a BAliBASE ``.xml`` file, or Reference
        The reference (see the module docstring for which columns count).

    Returns
    -------
    numpy.ndarray of shape (test columns,)
        1, 0 or -1 per column.

    Examples
    --------
    >>> from Bio.Seq import Seq
    >>> from Bio.SeqRecord import SeqRecord
    >>> from tiedhmm.msa.compare import column_agreement
    >>> def aligned(*rows):
    ...     return [SeqRecord(Seq(r), id=n) for n, r in zip("ab", rows)]
    >>> column_agreement(aligned("AC-G", "A-CG"), aligned("ACG", "ACG")).tolist()
    [1, 0, 0, 1]
    """
    ref = reference if isinstance(reference, Reference) else read_reference(reference)
    if isinstance(test, (str, Path)):
        names, rows, _ = _rows_of_text(input_text(str(test)), str(test))
    else:
        names, rows = _rows_of(test, "the test alignment")
    columns = _test_columns(ref, names, rows)
    width = max(len(row) for row in rows)
    residues = np.zeros(width, dtype=np.int64)
    for row in rows:
        residues[[k for k, letter in enumerate(row) if letter not in GAPS]] += 1
    agreement = np.full(width, -1, dtype=np.int64)
    copies = np.zeros(width, dtype=bool)
    for c in np.flatnonzero(ref.counted > 0):
        placed = columns[columns[:, c] >= 0, c]
        if placed.size == 0:
            continue
        agreement[placed] = 0
        if np.all(placed == placed[0]) and residues[placed[0]] == placed.size:
            copies[placed[0]] = True
    agreement[copies] = 1
    return agreement


def _reference(names: list[str], rows: list[str], core: np.ndarray | None,
               case_core: bool) -> Reference:
    """Which columns count, and with how many residues (see the module docstring)."""
    if not names:
        raise InvalidDataError("the reference holds no sequences")
    width = max(len(row) for row in rows)
    rows = [row.ljust(width, "-").translate(str.maketrans(".~", "--")) for row in rows]
    grid = np.array([list(row) for row in rows])
    residue = ~np.isin(grid, list(GAPS))
    n = len(rows)
    if core is not None:
        counted = np.where(np.resize(core, width) & (np.arange(width) < len(core)), n, 0)
    elif case_core and np.any(np.char.islower(grid) & residue) and \
            np.any(np.char.isupper(grid) & residue):
        upper = ~(np.char.islower(grid) & residue).any(axis=0)
        counted = np.where(upper, residue.sum(axis=0), 0)
    else:
        gaps = n - residue.sum(axis=0)
        cutoff = max(1, int(n * GAP_CUTOFF))
        counted = np.where(gaps >= cutoff, 0, n - gaps)
    return Reference(names, rows, counted.astype(np.int64))


def _test_columns(ref: Reference, names: Sequence[str], rows: Sequence[str]) -> np.ndarray:
    """``(sequences, reference columns)``: the test column of each residue of each
    reference column (-1 where the reference has a gap)."""
    by_name = {name.lower(): row for name, row in zip(names, rows, strict=True)}
    columns = np.full((len(ref.names), len(ref.rows[0])), -1, dtype=np.int64)
    for s, (name, ref_row) in enumerate(zip(ref.names, ref.rows, strict=True)):
        test_row = by_name.get(name.lower())
        if test_row is None:
            raise InvalidDataError(f"sequence {name!r} of the reference is not in the test "
                                   f"alignment")
        ref_at = [k for k, c in enumerate(ref_row) if c not in GAPS]
        test_at = [k for k, c in enumerate(test_row) if c not in GAPS]
        ref_letters = "".join(ref_row[k] for k in ref_at).upper()
        test_letters = "".join(test_row[k] for k in test_at).upper()
        if ref_letters != test_letters:
            raise InvalidDataError(f"sequence {name!r} has other residues in the test "
                                   f"alignment than in the reference ({len(test_letters)} "
                                   f"against {len(ref_letters)})")
        columns[s, ref_at] = test_at
    return columns
