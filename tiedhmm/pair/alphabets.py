"""Alphabets for pair HMMs: letters, ambiguity codes, and encoding with clear errors.

A sequence is encoded to integer codes: the alphabet's letters first, then its
ambiguity letters. ``membership[code, letter]`` is 1 where ``code`` stands for
``letter``; emission tables over codes are the letter tables marginalised over the
letters each code stands for (``N`` aligned with ``A`` has probability
``sum_b p(b, A)`` over ``b`` in ``ACGT``). Lowercase is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InvalidDataError

#: What :meth:`Alphabet.encode`'s byte table gives a byte outside the alphabet (codes are
#: ASCII letters, so there are fewer than 255 of them).
UNKNOWN = 255


@dataclass(frozen=True)
class Alphabet:
    """Named letters plus ambiguity codes, each standing for a set of letters.

    Parameters
    ----------
    name : str
        ``"protein"``, ``"dna"`` or a name of your own.
    letters : str
        The letters, in the order of the model's tables.
    ambiguity : dict of str to str, optional
        Codes and the letters each stands for (``"N": "ACGT"``); a code's likelihood
        is marginalised over its letters.

    Examples
    --------
    >>> import tiedhmm as th
    >>> th.DNA.letters, th.DNA.ambiguity["R"]
    ('ACGT', 'AG')
    """

    name: str
    letters: str
    ambiguity: dict[str, str] = field(default_factory=dict)

    @property
    def codes(self) -> str:
        return self.letters + "".join(self.ambiguity)

    @property
    def size(self) -> int:
        return len(self.letters)

    @property
    def membership(self) -> np.ndarray:
        """``(n_codes, n_letters)`` 0/1 matrix: which letters each code stands for."""
        matrix = np.zeros((len(self.codes), self.size))
        matrix[np.arange(self.size), np.arange(self.size)] = 1.0
        for row, meaning in enumerate(self.ambiguity.values(), start=self.size):
            matrix[row, [self.letters.index(letter) for letter in meaning]] = 1.0
        return matrix

    @cached_property
    def _code_of_byte(self) -> bytes:
        """``bytes.translate`` table: each byte value's code (either case), ``UNKNOWN``
        where none."""
        lookup = bytearray([UNKNOWN]) * 256
        for code, letter in enumerate(self.codes):
            lookup[ord(letter)] = lookup[ord(letter.lower())] = code
        return bytes(lookup)

    def encode(self, sequence: Any, what: str = "sequence") -> np.ndarray:
        """Integer codes of a ``str``, ``Bio.Seq.Seq`` or ``SeqRecord``; errors name the letter."""
        text = str(getattr(sequence, "seq", sequence))
        codes = text.encode("ascii", errors="replace").translate(self._code_of_byte)
        if UNKNOWN in codes:  # (bytes' own search: this is per pair)
            position = codes.index(UNKNOWN)
            raise InvalidDataError(f"{what}: letter {text[position].upper()!r} at position "
                                   f"{position + 1} is not in the {self.name} alphabet "
                                   f"({self.codes})")
        return np.frombuffer(codes, dtype=np.uint8).astype(np.int64)

    def decode(self, codes: np.ndarray) -> str:
        return "".join(self.codes[code] for code in codes)


PROTEIN = Alphabet("protein", "ARNDCQEGHILKMFPSTWYV",
                   {"B": "ND", "Z": "QE", "J": "IL", "U": "C", "O": "K",
                    "X": "ARNDCQEGHILKMFPSTWYV"})
DNA = Alphabet("dna", "ACGT",
               {"U": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
                "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"})

ALPHABETS = {"protein": PROTEIN, "dna": DNA}


def get_alphabet(alphabet: str | Alphabet) -> Alphabet:
    if isinstance(alphabet, Alphabet):
        return alphabet
    try:
        return ALPHABETS[alphabet.lower()]
    except (KeyError, AttributeError):
        raise InvalidDataError(f"unknown alphabet {alphabet!r}; use one of {sorted(ALPHABETS)} "
                               f"or an Alphabet") from None
