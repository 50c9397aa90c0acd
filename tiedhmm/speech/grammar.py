"""Word-level finite-state grammars: what a recogniser may hear, with log-probabilities.

A grammar is a graph of word nodes (a ``None`` word is a null node that emits nothing)
joined by arcs ``(from, to, log_prob)`` from ``BEGIN`` and to ``END``. A recogniser
expands each word node into its lexicon's units; the same class describes a
transcription (:meth:`Grammar.sequence`), a word loop, digit strings of given
lengths and a word bigram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from .network import BEGIN, END

Arc = tuple[int, int, float]


class Grammar:
    """Word nodes and weighted arcs: what a recogniser may hear.

    Most grammars come from the constructors :meth:`loop`, :meth:`strings`,
    :meth:`bigram` and :meth:`sequence`.

    Parameters
    ----------
    words : sequence of str or None
        The word of each node (None: a null node that emits nothing).
    arcs : iterable of (int, int, float)
        ``(from, to, log_prob)``, from a node or ``BEGIN`` to a node or ``END``.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        An arc to a node that does not exist, or a log-probability above 0.

    Examples
    --------
    >>> from tiedhmm.speech import Grammar
    >>> loop = Grammar.loop(["yes", "no"])
    >>> loop.words            # a null node joins every word to the next
    ['yes', 'no', None]
    """

    def __init__(self, words: Sequence[str | None], arcs: Iterable[Arc]) -> None:
        self.words = [None if word is None else str(word) for word in words]
        self.arcs = [(int(a), int(b), float(p)) for a, b, p in arcs]
        n = len(self.words)
        for a, b, p in self.arcs:
            if not (a == BEGIN or 0 <= a < n) or not (b == END or 0 <= b < n):
                raise InvalidDataError(f"grammar arc {a} -> {b} names no node (nodes are "
                                       f"0..{n - 1}, BEGIN={BEGIN}, END={END})")
            if np.isnan(p) or p > 0:
                raise InvalidDataError(f"grammar arc {a} -> {b}: log-probability {p} is not "
                                       f"<= 0")
        if not any(a == BEGIN for a, _, _ in self.arcs) or \
                not any(b == END for _, b, _ in self.arcs):
            raise InvalidDataError("a grammar needs arcs from BEGIN and arcs to END")

    @property
    def vocabulary(self) -> list[str]:
        return sorted({word for word in self.words if word is not None})

    @classmethod
    def sequence(cls, words: Sequence[str]) -> Grammar:
        """Exactly these words in order (a transcription)."""
        words = list(words)
        if not words:
            return cls([None], [(BEGIN, 0, 0.0), (0, END, 0.0)])
        arcs = [(BEGIN, 0, 0.0)] + [(k, k + 1, 0.0) for k in range(len(words) - 1)]
        return cls(words, [*arcs, (len(words) - 1, END, 0.0)])

    @classmethod
    def loop(cls, words: Sequence[str], probabilities: Mapping[str, float] | None = None
             ) -> Grammar:
        """Any sequence of one or more words, each word chosen with ``probabilities``
        (default uniform) after the begin and after every word."""
        log_p = _log_unigram(words, probabilities)
        hub = len(words)
        arcs = [(BEGIN, hub, 0.0)] + [(hub, w, log_p[w]) for w in range(len(words))]
        arcs += [(w, hub, 0.0) for w in range(len(words))]
        arcs += [(w, END, 0.0) for w in range(len(words))]
        return cls([*words, None], arcs)

    @classmethod
    def strings(cls, words: Sequence[str], lengths: Iterable[int],
                probabilities: Mapping[str, float] | None = None) -> Grammar:
        """Strings of exactly one of ``lengths`` words (digit strings of 1-7 digits)."""
        lengths = sorted({int(n) for n in lengths})
        if not lengths or lengths[0] < 1:
            raise InvalidDataError(f"string lengths must be positive, got {lengths}")
        log_p = _log_unigram(words, probabilities)
        v = len(words)
        node = [[position * v + w for w in range(v)] for position in range(lengths[-1])]
        arcs = [(BEGIN, node[0][w], log_p[w]) for w in range(v)]
        for position in range(lengths[-1] - 1):
            arcs += [(node[position][a], node[position + 1][b], log_p[b])
                     for a in range(v) for b in range(v)]
        for n in lengths:
            arcs += [(node[n - 1][w], END, 0.0) for w in range(v)]
        return cls(list(words) * lengths[-1], arcs)

    @classmethod
    def bigram(cls, words: Sequence[str], probabilities: Mapping[tuple[str, str], float]
               ) -> Grammar:
        """A word bigram: ``probabilities[(a, b)]`` is P(b | a), with ``"<s>"`` before
        the first word and ``"</s>"`` after the last; absent pairs are not allowed."""
        index = {word: k for k, word in enumerate(words)}
        index.update({"<s>": BEGIN, "</s>": END})
        arcs = []
        for (a, b), p in probabilities.items():
            if a not in index or b not in index or a == "</s>" or b == "<s>":
                raise InvalidDataError(f"bigram ({a!r}, {b!r}) names an unknown word")
            if not 0 < p <= 1:
                raise InvalidDataError(f"bigram ({a!r}, {b!r}): probability {p} not in (0, 1]")
            arcs.append((index[a], index[b], float(np.log(p))))
        return cls(list(words), arcs)


def _log_unigram(words: Sequence[str], probabilities: Mapping[str, float] | None) -> list[Any]:
    if not words or len(set(words)) != len(words):
        raise InvalidDataError(f"a grammar needs distinct words, got {list(words)}")
    if probabilities is None:
        return [-float(np.log(len(words)))] * len(words)
    missing = [word for word in words if not probabilities.get(word, 0) > 0]
    if missing:
        raise InvalidDataError(f"words {missing} have no positive probability")
    return [float(np.log(probabilities[word])) for word in words]
