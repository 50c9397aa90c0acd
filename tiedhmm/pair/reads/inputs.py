"""Reads, haplotypes and qualities as the read-likelihood kernel takes them, checked.

Letters become bit sets (A 1, C 2, G 4, T 8, N 15): a read letter and a haplotype letter
match when they share a bit, so ``N`` matches everything, as in GATK. Qualities are
phred integers 0-93. Every error names the read (its index, or its name when names are
given) and what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InvalidDataError

#: The highest phred quality (``~`` in phred+33, as in SAM).
MAX_QUALITY = 93
_BITS = np.zeros(256, dtype=np.uint8)
for _letter, _bit in zip("ACGTN", (1, 2, 4, 8, 15), strict=True):
    _BITS[ord(_letter)] = _BITS[ord(_letter.lower())] = _bit
#: Codes 0-4 (A, C, G, T, N), as some pipelines store letters.
_CODE_BITS = np.array([1, 2, 4, 8, 15], dtype=np.uint8)

Letters = str | bytes | np.ndarray | Any
Qualities = str | bytes | np.ndarray | Sequence[int] | int


def letter_bits(sequence: Letters, what: str) -> np.ndarray:
    """The bit sets of a read or haplotype.

    Parameters
    ----------
    sequence : str, bytes, Bio.Seq.Seq or numpy.ndarray
        Letters ACGTN in either case; a ``uint8`` array holds ASCII letters or codes
        0-4 (A, C, G, T, N).
    what : str
        Names the sequence in errors (``"read 3"``).

    Returns
    -------
    numpy.ndarray
        ``uint8`` bit sets, one per letter.
    """
    if isinstance(sequence, np.ndarray):
        if sequence.dtype != np.uint8 or sequence.ndim != 1:
            raise InvalidDataError(f"{what}: a letter array must be 1-D uint8 (ASCII letters "
                                   f"or codes 0-4), got {sequence.dtype} with shape "
                                   f"{sequence.shape}")
        raw = sequence
        if raw.size and raw.max() < len(_CODE_BITS):
            return _CODE_BITS[raw]
    else:
        text = sequence if isinstance(sequence, bytes) else str(sequence).encode("ascii",
                                                                                "replace")
        raw = np.frombuffer(text, dtype=np.uint8)
    if raw.size == 0:
        raise InvalidDataError(f"{what} is empty")
    bits = _BITS[raw]
    bad = np.flatnonzero(bits == 0)
    if bad.size:
        raise InvalidDataError(f"{what}: letter {chr(raw[bad[0]])!r} at position {bad[0]} is "
                               f"not one of ACGTN")
    return bits


def phred(qualities: Qualities, length: int, what: str) -> np.ndarray:
    """Phred qualities as ``int64``, one per letter of a ``length``-letter read.

    Parameters
    ----------
    qualities : str, bytes, sequence of int, numpy.ndarray or int
        phred+33 text (as in FASTQ and SAM), phred integers, or one integer for every
        position.
    length : int
        The read's length: the qualities must have as many values.
    what : str
        Names the qualities in errors (``"base qualities of read 3"``).

    Returns
    -------
    numpy.ndarray
        ``(length,)`` integers in 0-93.
    """
    if isinstance(qualities, (int, np.integer)) and not isinstance(qualities, bool):
        values = np.full(length, int(qualities), dtype=np.int64)
    elif isinstance(qualities, (str, bytes)):
        text = qualities.encode("ascii", "replace") if isinstance(qualities, str) else qualities
        values = np.frombuffer(text, dtype=np.uint8).astype(np.int64) - 33
    else:
        values = np.asarray(qualities)
        if values.ndim != 1 or not (np.issubdtype(values.dtype, np.integer) or values.size == 0):
            raise InvalidDataError(f"{what} must be phred+33 text or whole numbers, got "
                                   f"{values.dtype} with shape {values.shape}")
        values = values.astype(np.int64)
    if values.shape[0] != length:
        raise InvalidDataError(f"{what}: {values.shape[0]} qualities for {length} letters")
    bad = np.flatnonzero((values < 0) | (values > MAX_QUALITY))
    if bad.size:
        raise InvalidDataError(f"{what}: quality {values[bad[0]]} at position {bad[0]} is "
                               f"outside 0-{MAX_QUALITY}")
    return values


def gatk_qualities(base_quals: Qualities, ins_quals: Qualities | None = None,
                   del_quals: Qualities | None = None, gcp: Qualities | None = None, *,
                   length: int | None = None, min_quality: int = 6,
                   base_quality_threshold: int = 0,
                   mapping_quality: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GATK HaplotypeCaller's preprocessing of one read's qualities.

    What GATK does before its pair HMM (``PairHMMLikelihoodCalculationEngine``), and what
    ``tiedhmm reads`` applies: insertion and deletion qualities default to 45 when the
    read has no BQSR ``BI`` / ``BD`` tags, the gap continuation penalty to 10; base
    qualities are capped at the mapping quality (when given), those below
    ``base_quality_threshold`` become ``min_quality``, and every quality is floored at
    ``min_quality`` (6, GATK's ``MIN_USABLE_Q_SCORE``). :func:`read_likelihoods` itself
    uses qualities as given.

    Parameters
    ----------
    base_quals : str, bytes, sequence of int or numpy.ndarray
        Base qualities (phred+33 text or phred integers).
    ins_quals, del_quals : same, or int, optional
        Insertion and deletion qualities (BQSR's ``BI`` / ``BD``); default 45 each.
    gcp : same, or int, optional
        Gap continuation penalties; default 10.
    length : int, optional
        The read's length (default: the number of base qualities).
    min_quality : int, default 6
        The floor.
    base_quality_threshold : int, default 0
        Base qualities below it become ``min_quality`` (HaplotypeCaller's
        ``--base-quality-score-threshold``, 18 there).
    mapping_quality : int, optional
        Caps the base qualities, as HaplotypeCaller does.

    Returns
    -------
    tuple of numpy.ndarray
        Base, insertion, deletion and gap-continuation qualities, ``uint8``.

    Examples
    --------
    >>> from tiedhmm.pair.reads import gatk_qualities
    >>> base, ins, dele, gcp = gatk_qualities("#5I")
    >>> base.tolist(), ins.tolist(), gcp.tolist()
    ([6, 20, 40], [45, 45, 45], [10, 10, 10])
    """
    n = len(base_quals) if length is None else length  # type: ignore[arg-type]
    base = phred(base_quals, n, "base qualities")
    if mapping_quality is not None:
        base = np.minimum(base, mapping_quality)
    base = np.where(base < base_quality_threshold, min_quality, base)
    filled = [phred(45 if value is None else value, n, what)
              for value, what in ((ins_quals, "insertion qualities"),
                                  (del_quals, "deletion qualities"))]
    continuation = phred(10 if gcp is None else gcp, n, "gap continuation penalties")
    return (np.maximum(base, min_quality).astype(np.uint8),
            np.maximum(filled[0], min_quality).astype(np.uint8),
            np.maximum(filled[1], min_quality).astype(np.uint8),
            continuation.astype(np.uint8))


@dataclass(frozen=True)
class Sequences:
    """Sequences end to end: ``bits[starts[k]:starts[k + 1]]`` is sequence ``k``."""

    bits: np.ndarray
    starts: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """The length of every sequence."""
        return np.diff(self.starts)

    def __len__(self) -> int:
        return len(self.starts) - 1


def sequences(items: Sequence[Letters], kind: str,
              names: Sequence[str] | None = None) -> Sequences:
    """Reads or haplotypes checked and stored end to end (``kind`` names them)."""
    if isinstance(items, (str, bytes)) or not isinstance(items, (Sequence, np.ndarray)):
        raise InvalidDataError(f"{kind}s must be a list of sequences, got {type(items).__name__}")
    if len(items) == 0:
        raise InvalidDataError(f"no {kind}s given")
    bits = [letter_bits(item, label(kind, k, names)) for k, item in enumerate(items)]
    starts = np.zeros(len(bits) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(b) for b in bits])
    return Sequences(np.concatenate(bits), starts)


def label(kind: str, index: int, names: Sequence[str] | None) -> str:
    """How errors name item ``index``: ``read 3`` or ``read 3 ('name')``."""
    return f"{kind} {index}" + (f" ({names[index]!r})" if names is not None else "")


def per_read(values: Sequence[Qualities] | int | None, n_reads: int, what: str
             ) -> Sequence[Qualities]:
    """One entry per read: a list as given (its length checked) or one number for all."""
    if values is None:
        raise InvalidDataError(f"{what} are required (or give a context model)")
    if isinstance(values, (int, np.integer)):
        return [int(values)] * n_reads
    if isinstance(values, (str, bytes)) or len(values) != n_reads:
        given = "one text" if isinstance(values, (str, bytes)) else f"{len(values)} entries"
        raise InvalidDataError(f"{what}: {given} for {n_reads} reads (give one per read, "
                               f"or one number for all)")
    return values
