"""Small families without the start-up: tiedhmm's work per family in one process
against ProbCons' whole run, on the BAliBASE 3 dev cases.

A user with many families aligns them in one process (``tiedhmm msa A.fa B.fa ... -o
OUTDIR/``, ``tiedhmm.msa_many``), which pays the start-up once (``bench_startup.py``
measures it); what is left per family is ``tiedhmm.msa`` in-process with the bundled
model read once, as ``msa_many`` reads it. Each case runs ``tiedhmm.msa`` on one thread
in this process and ``probcons`` as its own process (its
whole run, start-up included), each the fastest of ``--repeats`` runs for cases of at
most ``SMALL_RESIDUES`` residues in all (one run for larger ones). Prints every small
case and, per set, how many cases tiedhmm took longer on and by how much at most.
Needs ``../shared/data/balibase3-dev`` and ``probcons`` on the PATH.
Usage: ``python scripts/bench_small_families.py [RV11 RV12 RV50 ...] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from Bio import SeqIO

os.environ.setdefault("TIEDHMM_NUM_THREADS", "1")
import tiedhmm as th  # (after the thread count is set)

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "balibase3-dev"
#: Cases of at most this many residues in all count as small: timed as the fastest of
#: several runs and printed.
SMALL_RESIDUES = 3000


def fastest(call: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` wall times of ``call()``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["RV11", "RV12", "RV50"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not CASES.is_dir() or shutil.which("probcons") is None:
        sys.exit(f"needs {CASES} and probcons on the PATH (Debian: apt-get install probcons)")
    print(f"{'case':>10}{'sequences':>10}{'residues':>9}{'tiedhmm ms':>12}{'ProbCons ms':>13}"
          f"{'difference':>12}")
    model = th.PairHMM.load("protein")  # read once, as msa_many reads each alphabet's
    th.msa(list(SeqIO.parse(sorted(CASES.glob("RV*/*.tfa"))[0], "fasta")), model)  # kernels
    for name in args.sets:
        slower = []
        paths = sorted((CASES / name).glob("*.tfa"))
        for path in paths:
            records = list(SeqIO.parse(path, "fasta"))
            residues = sum(len(record.seq) for record in records)
            repeats = args.repeats if residues <= SMALL_RESIDUES else 1
            ours = fastest(lambda records=records: th.msa(records, model), repeats)
            probcons = fastest(lambda path=path: subprocess.run(["probcons", str(path)],
                                                                capture_output=True,
                                                                check=True), repeats)
            if ours > probcons:
                slower.append(ours - probcons)
            if residues <= SMALL_RESIDUES:
                print(f"{path.stem:>10}{len(records):>10}{residues:>9}{1e3 * ours:>12.1f}"
                      f"{1e3 * probcons:>13.1f}{1e3 * (ours - probcons):>+12.1f}", flush=True)
        worst = f", by {1e3 * max(slower):.1f} ms at most" if slower else ""
        print(f"{name}: tiedhmm took longer than ProbCons on {len(slower)} of {len(paths)} "
              f"cases{worst}", flush=True)


if __name__ == "__main__":
    main()
