"""Cells per second of tiedhmm's posterior work as a ratio to its score-only forward.

For 300, 1,000 and 3,000 letters (random protein pairs) and 20,000 (a DNA pair and a
copy with 15 % of its letters changed), both presets (Durbin's 3 states and the bundled
5-state ProbCons-style model), one thread and two: Mcells/s of the forward
(``loglik_many``), dense and sparse (``threshold=0.01``) posteriors (``posterior_many``),
MEA alignment (``align_many(method="mea")``) and one EM iteration (``fit``, ``n_iter=1``),
each over the same batch of pairs (each call's fastest over interleaved rounds, so a
drift of the machine's speed hits every call alike), and the peak resident memory of
all of it. Each (length, model) runs in a fresh process, so its peak is its own; dense
posteriors of 20,000-letter pairs (3.2 GB each) exceed the default 2 GiB limit and are
skipped.
With ``--related``, the protein pairs are related instead: x and a copy with 30 % of
its letters changed, 3 % deleted and 3 % with a letter inserted after them (pairs
whose posteriors lie in a band, as in alignments of a family; see banding in
:func:`tiedhmm._kernels.pair.posterior_pass`).
Usage: ``python scripts/bench_posterior.py [--related] [LENGTH ...]`` (``--help``).
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import subprocess
import sys
import time

import numpy as np

import tiedhmm as th

LENGTHS = (300, 1000, 3000, 20000)
PAIRS = {300: 24, 1000: 4, 3000: 2, 20000: 2}
REPEATS = {300: 5, 1000: 5, 3000: 3, 20000: 1}
COLUMNS = ("posterior", "sparse", "mea", "em")


def _related(x: np.ndarray, rng: np.random.RandomState, letters: list[str]) -> str:
    """A copy of x with 30 % of its letters changed, 3 % deleted, and after 3 % of them
    a random letter inserted."""
    copy = []
    for letter in x:
        draw = rng.rand()
        if draw < 0.03:
            continue
        copy.append(rng.choice(letters) if draw < 0.33 else letter)
        if draw > 0.97:
            copy.append(rng.choice(letters))
    return "".join(copy)


def _pairs(length: int, related: bool = False) -> tuple[str, list[tuple[str, str]]]:
    rng = np.random.RandomState(length)
    if length < 20000:
        letters = list(th.PROTEIN.letters)
        pairs = []
        for _ in range(PAIRS[length]):
            x = rng.choice(letters, length)
            y = _related(x, rng, letters) if related else "".join(rng.choice(letters, length))
            pairs.append(("".join(x), y))
        return "protein", pairs
    pairs = []
    for _ in range(PAIRS[length]):
        x = rng.choice(list("ACGT"), length)
        y = x.copy()
        changed = rng.rand(length) < 0.15
        y[changed] = rng.choice(list("ACGT"), changed.sum())
        pairs.append(("".join(x), "".join(y)))
    return "dna", pairs


def _model(name: str, alphabet: str) -> th.PairHMM:
    return th.PairHMM.durbin(alphabet) if name == "durbin" else th.PairHMM.load(alphabet)


def best_of(call, repeats: int = 3) -> float:
    """The fastest of ``repeats`` wall times of ``call()``."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def measure(length: int, name: str, related: bool = False) -> dict:
    """Mcells/s of every call at one and two threads, and this process's peak memory."""
    alphabet, pairs = _pairs(length, related)
    model = _model(name, alphabet)
    cells = sum(len(x) * len(y) for x, y in pairs) / 1e6

    def em_iteration():
        fresh = copy.deepcopy(model)
        fresh.n_iter, fresh.tol = 1, -np.inf
        fresh.fit(pairs)

    calls = {"forward": lambda: model.loglik_many(pairs),
             "posterior": lambda: model.posterior_many(pairs),
             "sparse": lambda: model.posterior_many(pairs, threshold=0.01),
             "mea": lambda: model.align_many(pairs, "mea"),
             "em": em_iteration}
    if length >= 20000:
        del calls["posterior"]
    rates = {}
    for threads in (1, 2):
        th.set_threads(threads)
        warm = _model(name, alphabet)  # compile, or load from the cache, on short pairs
        short = [(x[:50], y[:50]) for x, y in pairs]
        warm.loglik_many(short)
        warm.posterior_many(short)
        warm.posterior_many(short, threshold=0.01)
        warm.align_many(short, "mea")
        warm.fit(short)
        best = dict.fromkeys(calls, np.inf)
        for _ in range(REPEATS[length]):  # interleaved: a drift of speed hits every call
            for key, call in calls.items():
                best[key] = min(best[key], best_of(call, 1))
        for key, seconds in best.items():
            rates[f"{key} {threads}"] = cells / seconds
    rates["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return rates


def main(lengths: list[int], related: bool) -> None:
    if related:
        print("related protein pairs (30 % of letters changed, 6 % inserted or deleted)")
    print(f"{'length':>7}{'model':>10}{'threads':>8}{'forward':>9}"
          + "".join(f"{c:>11}" for c in COLUMNS) + f"{'peak':>10}")
    print(f"{'':>25}{'Mcells/s':>9}" + f"{'x forward':>11}" * len(COLUMNS) + f"{'GiB':>10}")
    for length in lengths:
        for name in ("durbin", "probcons"):
            command = [sys.executable, __file__, "--one", str(length), name]
            result = subprocess.run(command + ["--related"] * related, capture_output=True,
                                    text=True, check=True)
            rates = json.loads(result.stdout.splitlines()[-1])
            for threads in (1, 2):
                forward = rates[f"forward {threads}"]
                ratios = "".join(f"{rates[f'{c} {threads}'] / forward:>11.2f}"
                                 if f"{c} {threads}" in rates else f"{'-':>11}"
                                 for c in COLUMNS)
                print(f"{length:>7}{name:>10}{threads:>8}{forward:>9.0f}{ratios}"
                      f"{rates['peak'] / 2**30:>10.2f}", flush=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lengths", nargs="*", type=int, default=list(LENGTHS),
                        metavar="LENGTH", help="letters of each sequence (default: %(default)s)")
    parser.add_argument("--related", action="store_true",
                        help="related protein pairs instead of random ones")
    parser.add_argument("--one", nargs=2, metavar=("LENGTH", "MODEL"),
                        help=argparse.SUPPRESS)  # one (length, model) in its own process
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1], args.related)))
    else:
        main(args.lengths, args.related)
