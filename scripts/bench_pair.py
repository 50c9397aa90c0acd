"""Cells per second of tiedhmm's pair forward and Viterbi vs Biopython's PairwiseAligner.

Random protein pairs of 300, 1,000 and 3,000 letters, one pair at a time, one thread;
Biopython: global affine score-only alignment with BLOSUM62 (open -11, extend -1).
tiedhmm: the Durbin 3-state preset (the pair HMM of affine gaps) and the default
5-state protein model. Where parasail is installed, its striped SIMD global aligner
(``nw_striped_16``, score only, same scores) is printed as the ceiling.
Each contender's best time over interleaved rounds is kept (see ``fastest``).
Usage: ``python scripts/bench_pair.py``.
"""

from __future__ import annotations

import time

import numpy as np
from Bio import Align

import tiedhmm as th

ROUNDS = 5


def best_seconds(call, *args, repeats: int = 2, budget: float = 0.1) -> float:
    """Fastest of at least ``repeats`` calls, repeating until ``budget`` seconds are
    spent (short calls need many tries)."""
    best, spent, calls = np.inf, 0.0, 0
    while calls < repeats or spent < budget:
        start = time.perf_counter()
        call(*args)
        elapsed = time.perf_counter() - start
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return best


def fastest(calls: dict, *args) -> dict:
    """Best time of each call over ``ROUNDS`` interleaved rounds: a shared machine's
    speed drifts, and interleaving gives every contender the same conditions."""
    best = dict.fromkeys(calls, np.inf)
    for _ in range(ROUNDS):
        for name, call in calls.items():
            best[name] = min(best[name], best_seconds(call, *args))
    return best


def parasail_scorer():
    """parasail's striped 16-bit global score-only aligner, or None if not installed."""
    try:
        import parasail
    except ImportError:
        return None
    return lambda x, y: parasail.nw_striped_16(x, y, 11, 1, parasail.blosum62).score


def main() -> None:
    th.set_threads(1)
    rng = np.random.RandomState(0)
    letters = list(th.PROTEIN.letters)
    aligner = Align.PairwiseAligner(mode="global", open_gap_score=-11, extend_gap_score=-1)
    aligner.substitution_matrix = Align.substitution_matrices.load("BLOSUM62")
    models = {"durbin": th.PairHMM.durbin("protein"), "probcons": th.PairHMM.load("protein")}
    for model in models.values():
        model.loglik("ACD", "AC")
        model.align("ACD", "AC")
    ceiling = parasail_scorer()
    print(f"{'length':>7}{'model':>10}{'biopython':>12}{'forward':>10}{'viterbi':>10}"
          f"{'fwd/bio':>9}{'vit/bio':>9}{'parasail':>10}   (Mcells/s)")
    for length in (300, 1000, 3000):
        x, y = ("".join(rng.choice(letters, length)) for _ in range(2))
        cells = length * length / 1e6
        calls = {"biopython": aligner.score}
        if ceiling:
            calls["parasail"] = ceiling
        for name, model in models.items():
            calls[f"{name} forward"] = model.loglik
            calls[f"{name} viterbi"] = model.align
        rate = {name: cells / seconds for name, seconds in fastest(calls, x, y).items()}
        bio = rate["biopython"]
        simd = f"{rate['parasail']:>10.0f}" if ceiling else f"{'-':>10}"
        for name in models:
            forward, viterbi = rate[f"{name} forward"], rate[f"{name} viterbi"]
            print(f"{length:>7}{name:>10}{bio:>12.0f}{forward:>10.0f}{viterbi:>10.0f}"
                  f"{forward / bio:>9.2f}{viterbi / bio:>9.2f}{simd}")


if __name__ == "__main__":
    main()
