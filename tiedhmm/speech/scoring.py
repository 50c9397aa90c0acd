"""Word scoring as HResults does it: edit-distance alignment of hypothesis to reference.

Each hypothesis is aligned to its reference by dynamic programming with HTK's costs
(substitution 10, deletion 7, insertion 7); the counts give ``%Corr = H / N`` and
``Acc = (H - I) / N`` with ``H = N - D - S``; a sentence is correct when it has no
error of any kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidDataError

SUBSTITUTION, DELETION, INSERTION = 10, 7, 7


@dataclass(frozen=True)
class WordScores:
    """HResults' totals over a test set.

    Parameters
    ----------
    sentences, correct_sentences : int
        Utterances, and those heard exactly.
    words : int
        Reference words.
    substitutions, deletions, insertions : int
        Errors of the cheapest alignments.

    Examples
    --------
    >>> from tiedhmm.speech import score_transcripts
    >>> scores = score_transcripts([["one", "two"]], [["one", "three"]])
    >>> scores.substitutions, round(scores.accuracy, 2)
    (1, 0.5)
    """

    sentences: int
    correct_sentences: int
    words: int          # N, reference words
    substitutions: int  # S
    deletions: int      # D
    insertions: int     # I

    @property
    def hits(self) -> int:
        return self.words - self.substitutions - self.deletions

    @property
    def correct(self) -> float:
        """%Corr as a fraction: ``H / N``."""
        return self.hits / self.words if self.words else 1.0

    @property
    def accuracy(self) -> float:
        """Word accuracy as a fraction: ``(H - I) / N``."""
        return (self.hits - self.insertions) / self.words if self.words else 1.0

    @property
    def sentence_accuracy(self) -> float:
        return self.correct_sentences / self.sentences if self.sentences else 1.0

    def __str__(self) -> str:
        return (f"SENT: %Correct={100 * self.sentence_accuracy:.2f} "
                f"[H={self.correct_sentences}, S={self.sentences - self.correct_sentences}, "
                f"N={self.sentences}]  WORD: %Corr={100 * self.correct:.2f}, "
                f"Acc={100 * self.accuracy:.2f} [H={self.hits}, D={self.deletions}, "
                f"S={self.substitutions}, I={self.insertions}, N={self.words}]")


def align_words(reference: Sequence[str], hypothesis: Sequence[str]) -> tuple[int, int, int]:
    """Substitutions, deletions and insertions of the cheapest word alignment.

    HTK's costs; among equal costs, the one HResults prefers (substitution, then
    deletion).

    Parameters
    ----------
    reference, hypothesis : sequence of str
        The words.

    Returns
    -------
    (int, int, int)
        Substitutions, deletions, insertions.

    Examples
    --------
    >>> from tiedhmm.speech import align_words
    >>> align_words(["a", "b", "c"], ["a", "x", "c", "d"])
    (1, 0, 1)
    """
    n, m = len(reference), len(hypothesis)
    cost = np.zeros((n + 1, m + 1), dtype=np.int64)
    counts = np.zeros((n + 1, m + 1, 3), dtype=np.int64)
    cost[1:, 0] = DELETION * np.arange(1, n + 1)
    counts[1:, 0, 1] = np.arange(1, n + 1)
    cost[0, 1:] = INSERTION * np.arange(1, m + 1)
    counts[0, 1:, 2] = np.arange(1, m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = reference[i - 1] == hypothesis[j - 1]
            options = ((cost[i - 1, j - 1] + (0 if same else SUBSTITUTION), i - 1, j - 1,
                        (0 if same else 1, 0, 0)),
                       (cost[i - 1, j] + DELETION, i - 1, j, (0, 1, 0)),
                       (cost[i, j - 1] + INSERTION, i, j - 1, (0, 0, 1)))
            best, a, b, step = min(options, key=lambda option: option[0])
            cost[i, j] = best
            counts[i, j] = counts[a, b] + step
    substitutions, deletions, insertions = (int(c) for c in counts[n, m])
    return substitutions, deletions, insertions


def score_transcripts(references: Sequence[Sequence[str]],
                      hypotheses: Sequence[Sequence[str]]) -> WordScores:
    """HResults' totals of hypotheses against references.

    Parameters
    ----------
    references, hypotheses : sequence of sequence of str
        One word list per utterance (a string is split on whitespace).

    Returns
    -------
    WordScores
        Counts, %Corr, accuracy and sentence accuracy.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        Not one hypothesis per reference.

    Examples
    --------
    >>> from tiedhmm.speech import score_transcripts
    >>> print(score_transcripts(["one two", "three"], ["one two", "three three"]))
    SENT: %Correct=50.00 [H=1, S=1, N=2]  WORD: %Corr=100.00, Acc=66.67 [H=3, D=0, S=0, I=1, N=3]
    """
    if len(references) != len(hypotheses):
        raise InvalidDataError(f"got {len(hypotheses)} hypotheses for {len(references)} "
                               f"references")
    words = substitutions = deletions = insertions = correct = 0
    for reference, hypothesis in zip(references, hypotheses):
        reference = reference.split() if isinstance(reference, str) else list(reference)
        hypothesis = hypothesis.split() if isinstance(hypothesis, str) else list(hypothesis)
        s, d, i = align_words(reference, hypothesis)
        words += len(reference)
        substitutions, deletions, insertions = substitutions + s, deletions + d, insertions + i
        correct += s == d == i == 0
    return WordScores(len(references), correct, words, substitutions, deletions, insertions)
