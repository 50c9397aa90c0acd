"""FASTA input as pipelines write it: gzip or plain, stdin, stop codons, which alphabet.

Reading checks everything a user can get wrong and says so in one line
(:class:`~tiedhmm.errors.InvalidDataError`): a missing file, binary or truncated gzip
data, text that is not FASTA, empty records. A terminal ``*`` (a translated ORF's stop,
as many tools write it) is dropped; a ``*`` inside a sequence is an error naming the
record and position. An aligned file can be read for aligning afresh: ``dealign=True``
removes its gap characters (``-`` and ``.``), as MAFFT and MUSCLE do with aligned input.
Records are parsed here, as Biopython's FASTA reader parses them
(importing ``Bio.SeqIO`` costs a command more than reading a family does); Biopython's
``Seq`` and ``SeqRecord`` are imported when a file is read.
"""

from __future__ import annotations

import gzip
import logging
import sys
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidDataError

log = logging.getLogger(__name__)

#: Letters that make a sequence look like nucleotides, and the share that decides it.
NUCLEOTIDE_LETTERS = frozenset("ACGTUN")
NUCLEOTIDE_SHARE = 0.9
#: What a sequence line may hold besides letters (Biopython drops it too).
WHITESPACE = str.maketrans("", "", " \t\r\n")
#: The gap characters of aligned FASTA, which ``dealign=True`` removes.
GAPS = str.maketrans("", "", "-.")


def read_fasta(name: str | Path, *, dealign: bool = False) -> list[Any]:
    """All records of a FASTA file (gzip or plain; ``"-"`` reads stdin), at least one,
    none empty, as ``SeqRecord`` objects with terminal stops dropped; with ``dealign``,
    without gap characters (an aligned file's letters)."""
    return fasta_records(input_text(str(name)), name, dealign=dealign)


def fasta_records(text: str, name: str | Path, *, dealign: bool = False) -> list[Any]:
    """The records of FASTA ``text`` read from ``name`` (errors name it), checked as
    :func:`read_fasta` checks them."""
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord
    if not text.strip():
        raise InvalidDataError(f"{name}: no FASTA records (the input is empty)")
    if not text.lstrip().startswith(">"):
        raise InvalidDataError(f"{name}: not a FASTA file (no '>' header at the start)")
    records, gapped = [], 0
    for title, sequence in _titles_and_sequences(text):
        identifier = title.split(None, 1)[0] if title.strip() else ""
        letters = sequence.translate(GAPS) if dealign else sequence
        gapped += len(letters) < len(sequence)
        records.append(SeqRecord(Seq(letters), id=identifier, name=identifier,
                                 description=title))
    if gapped:
        log.info("%s: gaps removed from %d of %d records (aligned input): their letters "
                 "are aligned afresh", name, gapped, len(records))
    return [_without_stop(record, name) for record in records]


def _titles_and_sequences(text: str) -> Iterator[tuple[str, str]]:
    """Each record's title line (after ``>``, trailing space stripped) and its letters
    with all whitespace removed: Biopython's ``SeqIO.parse(..., "fasta")`` rules."""
    for chunk in ("\n" + text.lstrip()).split("\n>")[1:]:  # each after its own ">" only:
        title, _, body = chunk.partition("\n")  # a title may begin with ">" (">>x")
        yield title.rstrip(), body.translate(WHITESPACE)


def input_text(name: str) -> str:
    """The text of a file (gzip or plain; ``-`` reads stdin); errors name the file."""
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except FileNotFoundError:
        raise InvalidDataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InvalidDataError(f"{name}: is a folder, not a FASTA file") from None
    except OSError as error:
        raise InvalidDataError(f"{name}: cannot read ({error.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise InvalidDataError(f"{name}: corrupt gzip data ({error})") from None
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise InvalidDataError(f"{name}: not a FASTA file (binary data)") from None
    if "\x00" in text:
        raise InvalidDataError(f"{name}: not a FASTA file (binary data)")
    return text


def _without_stop(record: Any, name: str | Path) -> Any:
    """The record with a terminal ``*`` dropped; an internal one is an error."""
    sequence = str(record.seq)
    core = sequence.rstrip("*")
    if "*" in core:
        raise InvalidDataError(f"{name}: record {record.id!r} has a '*' (stop) at position "
                               f"{core.index('*') + 1}, inside the sequence; only a "
                               f"terminal stop is dropped")
    if not core:
        raise InvalidDataError(f"{name}: record {record.id!r} has an empty sequence")
    return record if core == sequence else record[:len(core)]


def detect_alphabet(records: Sequence[Any]) -> str:
    """``"dna"`` when at least 90 % of the letters are A, C, G, T, U or N (either case),
    else ``"protein"``."""
    letters = "".join(str(record.seq) for record in records).upper()
    if not letters:
        return "protein"
    nucleotides = sum(letters.count(letter) for letter in NUCLEOTIDE_LETTERS)
    return "dna" if nucleotides >= NUCLEOTIDE_SHARE * len(letters) else "protein"
