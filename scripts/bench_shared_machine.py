"""tiedhmm against its peers on an idle machine and on a busy one, in one run.

Every measurement runs twice: on the machine as it is, then with one busy-loop process
per core started by this script (and stopped after), as on a pipeline node running one
job per core or a laptop with other work. Rows:

- EM per iteration against hmmlearn, from identical starts (``bench_hmm.py``'s
  categorical and diagonal-Gaussian models, 8 states, 100 sequences of 1,000 frames);
- one FSDD digit model (6 states, 26 features, 15 iterations) against hmmlearn, when
  ``../shared/data/fsdd`` is there;
- pair forward and Viterbi (with traceback) of random proteins against Biopython's
  Gotoh aligner (score only) at 300, 1,000 and 3,000 letters;
- the posterior path: MEA and one EM iteration as a share of the forward's cells/s,
  Durbin and ProbCons models, 300 to 3,000 letters;
- where a second thread starts to pay: one E-step kernel launch at growing work, on one
  thread and on two (the threading policy's ``SERIAL_WORK`` and chunks).

Ratios are peer time / tiedhmm time (higher is better for tiedhmm), except the
posterior shares (MEA or EM cells/s over forward cells/s) and the thread rows (one
thread's time over two threads'). tiedhmm's EM time is the median of five fits; the
pair and posterior rows take each call's fastest time over five interleaved rounds
(``bench_pair.fastest``), so that every contender sees the same conditions: measured
one after the other, a drift of the machine's speed moved these ratios by up to 0.4.
Usage:
``python scripts/bench_shared_machine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from Bio import Align

import tiedhmm as th
from tiedhmm import parallel
from tiedhmm._kernels import hmm as hmm_kernels
from tiedhmm._kernels.emissions import scaled_emissions

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_hmm
import bench_speech
from bench_pair import fastest
from bench_posterior import best_of
from spoken_digits import DEFAULT_FEATURES, load_features, subset

LENGTHS = (300, 1000, 3000)
POSTERIOR_PAIRS = {300: 24, 1000: 4, 3000: 2}


def _busy() -> None:
    while True:
        pass


def em_rows(quick: bool) -> list[tuple[str, float, float]]:
    """(name, hmmlearn seconds per iteration, tiedhmm seconds per iteration)."""
    rows = []
    for name, case in (("categorical N=8", bench_hmm.categorical_case),
                       ("gaussian N=8", bench_hmm.gaussian_case)):
        X, kwargs, params, ours, theirs = case(np.random.RandomState(0), 8)
        lengths = [bench_hmm.SEQUENCE_LENGTH] * bench_hmm.N_SEQUENCES
        bench_hmm.seconds_per_iteration(ours, kwargs, params, X[:2000], [1000, 1000], 1)
        ours_seconds = _median_per_iteration(ours, kwargs, params, X, lengths, 3, 5)
        theirs_seconds = _median_per_iteration(theirs, kwargs, params, X, lengths, 1,
                                               1 if quick else 3)
        rows.append((name, theirs_seconds, ours_seconds))
    return rows


def _median_per_iteration(cls, kwargs, params, X, lengths, n_iter: int, repeats: int) -> float:
    """The median over ``repeats`` fits of seconds per EM iteration (one fit's time
    swings by tens of per cent while busy loops share the cores)."""
    return float(np.median([bench_hmm.seconds_per_iteration(cls, kwargs, params, X, lengths,
                                                            n_iter)[0]
                            for _ in range(repeats)]))


def threshold_rows() -> list[tuple[int, float, float, float]]:
    """Where a second thread starts to pay (``parallel.SERIAL_WORK``): one launch of the
    8-state E-step kernel at a range of work (frames x states^2), the threading policy
    bypassed: (work, seconds on one thread, on two threads with the policy's chunks,
    on two threads with the work cut in two chunks whatever its size)."""
    n_states, length = 8, 100
    rng = np.random.RandomState(2)
    transmat = rng.dirichlet(np.ones(n_states), size=n_states)
    startprob = np.full(n_states, 1.0 / n_states)
    rows = []
    for frames in (400, 800, 1600, 3200, 6400, 12800, 25600):
        emission, log_shift = scaled_emissions(rng.normal(size=(frames, n_states)))
        offsets = np.arange(0, frames + 1, length)
        work = frames * n_states ** 2
        arguments = (emission, log_shift, np.arange(n_states), startprob, transmat,
                     np.ones(n_states))
        timings = []
        for threads, n_chunks in ((1, 1), (2, parallel.chunk_count(work, len(offsets) - 1)),
                                  (2, 2)):
            chunks = hmm_kernels.sequence_chunks(offsets, n_chunks)
            with parallel.using_threads(threads):  # the kernel itself: no kernel_threads
                timings.append(best_of(lambda chunks=chunks, arguments=arguments, offsets=offsets:
                                       hmm_kernels.e_step(*arguments, offsets, chunks), 50))
        rows.append((work, *timings))
    return rows


def digit_row() -> tuple[str, float, float] | None:
    """One FSDD digit model, 15 iterations of each library from hmmlearn's own start
    (``bench_speech.py``'s left-to-right models)."""
    if not Path(DEFAULT_FEATURES).is_dir():
        return None
    data = load_features(DEFAULT_FEATURES)
    X, lengths, labels = subset(data, data["digit"] == "3")
    theirs, ours = bench_speech.per_digit_systems("gaussian", X, lengths, labels)
    seconds = []
    for systems in (theirs, ours):
        (model, rows, digit_lengths), = systems.values()
        start = time.perf_counter()
        copy.deepcopy(model).fit(rows, digit_lengths)
        seconds.append(time.perf_counter() - start)
    return "FSDD digit (15 iterations)", seconds[0], seconds[1]


def pair_rows() -> list[tuple[str, float, float]]:
    rng = np.random.RandomState(0)
    letters = list(th.PROTEIN.letters)
    aligner = Align.PairwiseAligner(mode="global", open_gap_score=-11, extend_gap_score=-1)
    aligner.substitution_matrix = Align.substitution_matrices.load("BLOSUM62")
    model = th.PairHMM.durbin("protein")
    model.loglik("ACD", "AC")
    model.align("ACD", "AC")
    rows = []
    for length in LENGTHS:
        x, y = ("".join(rng.choice(letters, length)) for _ in range(2))
        best = fastest({"biopython": aligner.score, "forward": model.loglik,
                        "viterbi": model.align}, x, y)
        rows.append((f"forward {length}", best["biopython"], best["forward"]))
        rows.append((f"viterbi {length}", best["biopython"], best["viterbi"]))
    return rows


def posterior_rows() -> list[tuple[str, float, float]]:
    """(name, MEA share, EM share) of the forward's cells/s."""
    rng = np.random.RandomState(1)
    letters = list(th.PROTEIN.letters)
    rows = []
    for length in LENGTHS:
        pairs = [tuple("".join(rng.choice(letters, length)) for _ in range(2))
                 for _ in range(POSTERIOR_PAIRS[length])]
        for name, model in (("durbin", th.PairHMM.durbin("protein")),
                            ("probcons", th.PairHMM.load("protein"))):
            model.align_many([(x[:30], y[:30]) for x, y in pairs], "mea")

            def em_iteration(model=model, pairs=pairs):
                fresh = copy.deepcopy(model)
                fresh.n_iter, fresh.tol = 1, -np.inf
                fresh.fit(pairs)

            calls = {"forward": lambda model=model, pairs=pairs: model.loglik_many(pairs),
                     "mea": lambda model=model, pairs=pairs: model.align_many(pairs, "mea"),
                     "em": em_iteration}
            best = fastest(calls)
            rows.append((f"{name} {length}", best["forward"] / best["mea"],
                         best["forward"] / best["em"]))
    return rows


def measure(quick: bool) -> dict[str, list]:
    found: dict[str, list] = {"em": em_rows(quick)}
    digit = None if quick else digit_row()
    if digit:
        found["em"].append(digit)
    found["pair"] = pair_rows()
    found["posterior"] = posterior_rows()
    found["threshold"] = threshold_rows()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer hmmlearn iterations, "
                        "no FSDD row")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"threads: {th.get_threads()}, OpenMP spin: GOMP_SPINCOUNT="
          f"{os.environ.get('GOMP_SPINCOUNT')}, OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY')}")
    results = {"idle": measure(args.quick)}
    busy = [multiprocessing.Process(target=_busy, daemon=True)
            for _ in range(os.cpu_count() or 1)]
    for process in busy:
        process.start()
    try:
        results["busy"] = measure(args.quick)
    finally:
        for process in busy:
            process.terminate()
    idle, loaded = results["idle"], results["busy"]
    print(f"\n{'EM vs hmmlearn':<30}{'idle':>24}{'one busy loop per core':>28}")
    for (name, peer, ours), (_, peer_busy, ours_busy) in zip(idle["em"], loaded["em"]):
        print(f"{name:<30}{ours * 1e3:>9.1f} ms {peer / ours:>8.1f}x"
              f"{ours_busy * 1e3:>13.1f} ms {peer_busy / ours_busy:>8.1f}x")
    print(f"\n{'pair vs Biopython (score)':<30}{'idle':>24}{'busy':>28}")
    for (name, peer, ours), (_, peer_busy, ours_busy) in zip(idle["pair"], loaded["pair"]):
        print(f"{name:<30}{ours * 1e3:>9.2f} ms {peer / ours:>8.2f}x"
              f"{ours_busy * 1e3:>13.2f} ms {peer_busy / ours_busy:>8.2f}x")
    print(f"\n{'posterior path (x forward)':<30}{'MEA':>8}{'EM':>8}{'MEA busy':>12}"
          f"{'EM busy':>10}   (targets: MEA >= 0.33, EM >= 0.25)")
    for (name, mea, em), (_, mea_busy, em_busy) in zip(idle["posterior"],
                                                        loaded["posterior"]):
        print(f"{name:<30}{mea:>8.2f}{em:>8.2f}{mea_busy:>12.2f}{em_busy:>10.2f}")
    print(f"\none E-step launch, 8 states, 100-frame sequences (SERIAL_WORK = "
          f"{parallel.SERIAL_WORK:,}; 1 thread / 2 threads, policy chunks / 2 threads, "
          f"2 chunks)")
    print(f"{'work':>10}{'1 thread':>12}{'policy':>9}{'2 chunks':>10}{'busy: policy':>15}"
          f"{'2 chunks':>10}")
    for (work, one, policy, halves), (_, one_busy, policy_busy, halves_busy) in zip(
            idle["threshold"], loaded["threshold"]):
        print(f"{work:>10,}{one * 1e6:>9.0f} us{one / policy:>8.2f}x{one / halves:>9.2f}x"
              f"{one_busy / policy_busy:>14.2f}x{one_busy / halves_busy:>9.2f}x")


if __name__ == "__main__":
    main()
