"""Read likelihoods against Intel GKL's AVX pair HMM (what GATK calls), on GKL's workload.

Generates the workload with ``../shared/data/gatk-pairhmm/gen_workload.py`` (64
haplotypes of 300-494 bases x 512 reads of 150 bases, 1.98e9 cells), applies GATK's
preprocessing (base qualities floored at 6, as GKL's recorded results assume) and runs
``tiedhmm.read_likelihoods`` on one thread and on two, mixed precision (float32 with the
float64 rescue, GATK's default) and double, best of three. Prints cells/s, the ratio to
GKL's recorded speed on one core of this machine type (1.1e9 mixed, 6.7e8 double: the
folder's README) and the largest |difference| to GKL's double results over every pair.
Then the same with one busy-loop process per core (a shared machine), and a region
with few haplotypes (4 haplotypes x 512 reads: lanes partly empty).

Usage: ``python scripts/bench_reads.py [--repeats N] [--no-busy]``.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tiedhmm as th

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gatk-pairhmm"
GKL_CELLS_PER_SECOND = {"mixed": 1.1e9, "double": 6.7e8}


def load_workload() -> tuple[list[str], list[str], list[tuple[np.ndarray, ...]], np.ndarray]:
    """Haplotypes, reads, GATK-preprocessed qualities, and GKL's double results."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "workload.txt"
        subprocess.run([sys.executable, str(DATA / "gen_workload.py"), "-o", str(path)],
                       check=True, stderr=subprocess.DEVNULL)
        lines = [line.split() for line in path.read_text().splitlines()
                 if not line.startswith("#")]
    haplotypes: list[str] = []
    for line in lines:
        if line[0] in haplotypes:
            break
        haplotypes.append(line[0])
    rows = lines[::len(haplotypes)]
    reads = [row[1] for row in rows]
    qualities = [th.gatk_qualities(*row[2:6]) for row in rows]
    with gzip.open(DATA / "workload.results.double_native.txt.gz", "rt") as text:
        expected = np.loadtxt(text).reshape(len(reads), len(haplotypes))
    return haplotypes, reads, qualities, expected


def best_of(call, repeats: int) -> tuple[float, np.ndarray]:
    """The fastest wall time of ``repeats`` calls, and the last result."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(haplotypes, reads, qualities, expected, repeats: int, label: str) -> None:
    columns = [[q[k] for q in qualities] for k in range(4)]
    cells = sum(len(r) for r in reads) * sum(len(h) for h in haplotypes)
    print(f"\n{label}: {len(reads)} reads x {len(haplotypes)} haplotypes, {cells:.3g} cells")
    print(f"{'precision':<10}{'threads':>8}{'seconds':>10}{'cells/s':>12}"
          f"{'x GKL 1 core':>14}{'max |diff| to GKL double':>27}")
    for precision in ("mixed", "double"):
        for threads in (1, 2):
            def call(threads=threads, precision=precision):
                return th.read_likelihoods(haplotypes, reads, *columns, precision=precision,
                                           threads=threads)
            call()  # compile
            seconds, result = best_of(call, repeats)
            diff = "" if expected is None else f"{np.abs(result - expected).max():.2e}"
            print(f"{precision:<10}{threads:>8}{seconds:>10.3f}{cells / seconds:>12.3g}"
                  f"{cells / seconds / GKL_CELLS_PER_SECOND[precision]:>14.2f}{diff:>27}")


def _busy() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-busy", action="store_true", help="skip the busy-machine run")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs {DATA}")
    haplotypes, reads, qualities, expected = load_workload()
    measure(haplotypes, reads, qualities, expected, args.repeats, "GKL workload, idle")
    few = [0, 1, 2, 3]
    measure([haplotypes[k] for k in few], reads, qualities, expected[:, few], args.repeats,
            "few haplotypes, idle")
    if args.no_busy:
        return
    busy = [multiprocessing.Process(target=_busy, daemon=True)
            for _ in range(os.cpu_count() or 1)]
    for process in busy:
        process.start()
    try:
        measure(haplotypes, reads, qualities, expected, args.repeats,
                "GKL workload, one busy loop per core")
    finally:
        for process in busy:
            process.terminate()


if __name__ == "__main__":
    main()
