"""Sequencing reads in: BAM/SAM/CRAM through pysam (the ``[bam]`` extra), FASTQ, FASTA.

Reads come out as :class:`ReadRecord` objects: name, letters, base qualities, and the
BQSR insertion and deletion qualities (``BI`` / ``BD`` tags) where the file has them.
From alignment files, as HaplotypeCaller filters them, unmapped, secondary,
supplementary, QC-failed and duplicate records are skipped, and soft-clipped ends are
dropped unless asked for. FASTA reads carry no qualities: they get a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from .fasta import fasta_records, input_text

#: SAM flags of records HaplotypeCaller does not use: unmapped, secondary, QC-failed,
#: duplicate, supplementary.
SKIPPED_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800


@dataclass(frozen=True)
class ReadRecord:
    """One read: its name and letters, phred base qualities, and the ``BI`` / ``BD``
    insertion and deletion qualities (None when the file has none) and mapping
    quality (None outside alignment files)."""

    name: str
    sequence: str
    base_quals: np.ndarray
    ins_quals: np.ndarray | None = None
    del_quals: np.ndarray | None = None
    mapping_quality: int | None = None


def read_alignments(name: str | Path, region: str | None = None,
                    soft_clipped: bool = False) -> list[ReadRecord]:
    """The reads of a BAM, SAM or CRAM file (a region needs an index beside it).

    Parameters
    ----------
    name : str or pathlib.Path
        The file.
    region : str, optional
        ``chr``, ``chr:start-end`` (1-based, inclusive, as samtools takes it).
    soft_clipped : bool, default False
        Keep soft-clipped ends.

    Returns
    -------
    list of ReadRecord
        In file order.
    """
    try:
        import pysam
    except ImportError:
        raise ImportError("reading BAM files needs the bam extra: "
                          "pip install 'tiedhmm[bam]'") from None
    if not Path(name).is_file():
        raise InvalidDataError(f"{name}: no such file")
    try:
        with pysam.AlignmentFile(str(name)) as handle:
            records = handle.fetch(region=region) if region else handle.fetch(until_eof=True)
            return [_record(read, soft_clipped) for read in records
                    if not read.flag & SKIPPED_FLAGS and read.query_sequence]
    except (ValueError, OSError) as error:
        raise InvalidDataError(f"{name}: cannot read reads{f' in {region}' if region else ''}"
                               f" ({error})") from None


def _record(read: Any, soft_clipped: bool) -> ReadRecord:
    start, end = (0, read.query_length) if soft_clipped else \
        (read.query_alignment_start, read.query_alignment_end)
    tags = {}
    for tag in ("BI", "BD"):
        if read.has_tag(tag):
            text = str(read.get_tag(tag))
            tags[tag] = np.frombuffer(text.encode("ascii"), np.uint8)[start:end] - 33
    return ReadRecord(read.query_name, read.query_sequence[start:end],
                      np.asarray(read.query_qualities, dtype=np.int64)[start:end],
                      tags.get("BI"), tags.get("BD"), int(read.mapping_quality))


def read_sequence_reads(name: str | Path, default_quality: int) -> list[ReadRecord]:
    """The reads of a FASTQ or FASTA file (gzip or plain, ``-`` for stdin); FASTA reads
    get ``default_quality`` at every base.

    Parameters
    ----------
    name : str or pathlib.Path
        The file.
    default_quality : int
        Base quality of reads without qualities.

    Returns
    -------
    list of ReadRecord
        In file order.
    """
    text = input_text(str(name))
    if text.lstrip().startswith(">"):
        return [ReadRecord(record.id, str(record.seq),
                           np.full(len(record.seq), default_quality, dtype=np.int64))
                for record in fasta_records(text, name)]
    if not text.lstrip().startswith("@"):
        raise InvalidDataError(f"{name}: not a FASTQ or FASTA file")
    lines = text.strip().split("\n")
    if len(lines) % 4:
        raise InvalidDataError(f"{name}: FASTQ records must have four lines each "
                               f"({len(lines)} lines)")
    records = []
    for k in range(0, len(lines), 4):
        title, sequence, plus, qualities = (line.rstrip("\r") for line in lines[k:k + 4])
        if not title.startswith("@") or not plus.startswith("+"):
            raise InvalidDataError(f"{name}: FASTQ record {k // 4} is malformed (line "
                                   f"{k + 1} should start with '@', line {k + 3} with '+')")
        records.append(ReadRecord(title[1:].split(None, 1)[0] if title[1:].strip() else "",
                                  sequence, np.frombuffer(qualities.encode("ascii", "replace"),
                                                          np.uint8).astype(np.int64) - 33))
    return records

