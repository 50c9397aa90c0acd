"""HResults-style scoring against brute force over all alignments, and grammars' checks."""

import functools
import itertools

import numpy as np
import pytest

import tiedhmm as th
from tiedhmm.speech import BEGIN, END, Grammar, align_words, score_transcripts


def _cheapest(reference, hypothesis):
    """The least HTK cost over every alignment, by exhaustive recursion."""
    @functools.cache
    def cost(i, j):
        if i == len(reference):
            return 7 * (len(hypothesis) - j)
        if j == len(hypothesis):
            return 7 * (len(reference) - i)
        step = 0 if reference[i] == hypothesis[j] else 10
        return min(step + cost(i + 1, j + 1), 7 + cost(i + 1, j), 7 + cost(i, j + 1))
    return cost(0, 0)


def test_alignment_cost_equals_brute_force():
    words = "abc"
    for n, m in itertools.product(range(4), range(4)):
        for reference in itertools.product(words, repeat=n):
            for hypothesis in itertools.product(words, repeat=m):
                s, d, i = align_words(reference, hypothesis)
                assert 10 * s + 7 * (d + i) == _cheapest(reference, hypothesis)
                assert n - d + i == m  # every hypothesis word is a hit, a substitution or
                # an insertion


def test_hresults_totals():
    scores = score_transcripts(["a b c", ["a", "b"], "c"], ["a x c d", ["a", "b"], ""])
    assert (scores.words, scores.substitutions, scores.deletions, scores.insertions) == \
        (6, 1, 1, 1)
    assert scores.correct == pytest.approx(4 / 6)
    assert scores.accuracy == pytest.approx(3 / 6)
    assert scores.sentence_accuracy == pytest.approx(1 / 3)
    assert "%Corr=66.67, Acc=50.00 [H=4, D=1, S=1, I=1, N=6]" in str(scores)
    with pytest.raises(th.InvalidDataError, match="2 hypotheses for 1 references"):
        score_transcripts(["a"], ["a", "b"])


def test_grammars_check_their_arcs():
    with pytest.raises(th.InvalidDataError, match="names no node"):
        Grammar(["a"], [(BEGIN, 0, 0.0), (0, 3, 0.0)])
    with pytest.raises(th.InvalidDataError, match="not <= 0"):
        Grammar(["a"], [(BEGIN, 0, 0.5), (0, END, 0.0)])
    with pytest.raises(th.InvalidDataError, match="arcs from BEGIN"):
        Grammar(["a"], [(0, END, 0.0)])
    with pytest.raises(th.InvalidDataError, match="distinct words"):
        Grammar.loop(["a", "a"])
    with pytest.raises(th.InvalidDataError, match="unknown word"):
        Grammar.bigram(["a"], {("a", "b"): 0.5})
    strings = Grammar.strings(["a", "b"], [1, 3])
    assert len(strings.words) == 6
    assert sum(b == END for _, b, _ in strings.arcs) == 4
    loop = Grammar.loop(["a", "b"], {"a": 0.25, "b": 0.75})
    assert sorted(p for a, _, p in loop.arcs if a == 2) == pytest.approx(
        sorted(np.log([0.25, 0.75])))
