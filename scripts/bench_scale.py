"""Benchmark: all-vs-all scoring of random proteins, pairs per second.

tiedhmm's forward (``PairHMM.loglik_many``, the bundled protein model) with one and two
Numba threads and on a 2-worker Dask ``LocalCluster`` (one thread per worker; cluster
start-up not timed), against Biopython's ``PairwiseAligner`` (global affine BLOSUM62,
score only, one thread) on the same pairs. Prints the table and the ratios.
Usage: python scripts/bench_scale.py [--n 200] [--length 300]
"""

from __future__ import annotations

import argparse
import time
from itertools import combinations

import numpy as np
from Bio.Align import PairwiseAligner, substitution_matrices

import tiedhmm as th


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="sequences")
    parser.add_argument("--length", type=int, default=300, help="mean length")
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    letters = np.array(list(th.PROTEIN.letters))
    sequences = ["".join(rng.choice(letters, max(10, int(rng.normal(args.length, 30)))))
                 for _ in range(args.n)]
    pairs = list(combinations(sequences, 2))
    model = th.PairHMM.load("protein")
    model.loglik_many(pairs[:4])  # compile or load the kernels
    aligner = PairwiseAligner(mode="global", open_gap_score=-11, extend_gap_score=-1,
                              substitution_matrix=substitution_matrices.load("BLOSUM62"))
    rows = []
    start = time.perf_counter()
    for x, y in pairs:
        aligner.score(x, y)
    rows.append(("biopython score-only, 1 thread", len(pairs) / (time.perf_counter() - start)))
    available = th.get_threads()
    for threads in sorted({1, min(2, available)}):
        th.set_threads(threads)
        start = time.perf_counter()
        model.loglik_many(pairs)
        rows.append((f"tiedhmm forward, {threads} thread(s)",
                     len(pairs) / (time.perf_counter() - start)))
    th.set_threads(available)
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        model.loglik_many(pairs[:4], client=client)  # workers load the kernels
        start = time.perf_counter()
        model.loglik_many(pairs, client=client)
        rows.append(("tiedhmm forward, Dask 2 workers", len(pairs) / (time.perf_counter() - start)))
    print(f"all-vs-all of {args.n} proteins (~{args.length} letters): {len(pairs)} pairs")
    print(f"{'':36}{'pairs/s':>10}{'vs biopython':>14}")
    for name, rate in rows:
        print(f"{name:36}{rate:>10.0f}{rate / rows[0][1]:>13.2f}x")


if __name__ == "__main__":
    main()
