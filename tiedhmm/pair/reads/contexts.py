"""Short tandem repeat contexts of haplotype positions: what a context model ties by.

A letter lies in a *tract* of period ``p`` when the sequence repeats itself ``p``
letters back over a run; the tract's repeat length is its whole units
(``letters // p``), at least 2. Each letter takes the tract with the most letters that
holds it (the shorter period on a tie: ``AAAAAA`` is period 1 x 6, not period 2 x 3),
or is a non-repeat. Repeat lengths above ``max_repeat`` count as ``max_repeat``.

Context indices: 0 is the non-repeat; period ``p`` (1 to ``max_period``) with repeat
length ``n`` (2 to ``max_repeat``) is ``1 + (p - 1) * (max_repeat - 1) + (n - 2)``.
A *column* ``j`` of the pair HMM (``j`` haplotype letters consumed) takes the context
of the next letter, ``j`` (0-based), and the last column that of the last letter: an
insertion after column ``j`` or a deletion of the next letter happens there.
"""

from __future__ import annotations

import numpy as np


def context_count(max_period: int, max_repeat: int) -> int:
    """How many contexts there are: the non-repeat and every (period, repeat length)."""
    return 1 + max_period * (max_repeat - 1)


def context_label(context: int, max_repeat: int) -> str:
    """A context's name: ``"non-repeat"`` or ``"period 2 x 5"``."""
    if context == 0:
        return "non-repeat"
    period, repeat = divmod(context - 1, max_repeat - 1)
    return f"period {period + 1} x {repeat + 2}"


def letter_contexts(letters: np.ndarray, max_period: int, max_repeat: int) -> np.ndarray:
    """The context index of every letter of one sequence (any integer codes).

    Parameters
    ----------
    letters : numpy.ndarray
        The sequence as integer codes.
    max_period, max_repeat : int
        The longest period looked for, and the repeat length longer tracts count as.

    Returns
    -------
    numpy.ndarray
        ``int64`` context indices, one per letter.
    """
    n = len(letters)
    best_span = np.zeros(n, dtype=np.int64)
    contexts = np.zeros(n, dtype=np.int64)
    for period in range(1, max_period + 1):
        if n < 2 * period:
            break
        same = np.concatenate(([False], letters[period:] == letters[:-period], [False]))
        edges = np.flatnonzero(same[1:] != same[:-1])
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            span = stop - start + period  # letters start .. stop + period - 1
            if span < 2 * period:
                continue
            tract = slice(start, stop + period)
            longer = span > best_span[tract]
            best_span[tract][longer] = span
            repeat = min(span // period, max_repeat)
            contexts[tract][longer] = 1 + (period - 1) * (max_repeat - 1) + repeat - 2
    return contexts


def column_contexts(letters: np.ndarray, max_period: int, max_repeat: int) -> np.ndarray:
    """The context of every column ``0 .. len(letters)`` of one haplotype."""
    by_letter = letter_contexts(letters, max_period, max_repeat)
    return np.concatenate((by_letter, by_letter[-1:]))
