"""Start-up cost of the command line, and what aligning many families in one process saves.

Prints the median of ``--repeats`` wall times (default 5) of:

1. ``python -c "import kernel; kernel.f(1)"``: a script that only imports numba and loads
   one cached kernel (the floor any numba program pays);
2. ``tiedhmm msa`` on three short proteins (the first three bundled example proteins,
   cut to 60 letters);
3. ``tiedhmm msa`` on 100 small families (three sequences of about 60 letters each,
   sampled from the Durbin protein preset) in one call, against 100 separate calls.

Every program runs once before timing, so numba's on-disk cache is warm in all of them.
Usage: ``python scripts/bench_startup.py [--repeats 5] [--families 100]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from Bio import SeqIO

import tiedhmm as th

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "from numba import njit\n\n\n@njit(cache=True)\ndef f(x):\n    return x + 1\n"
LETTERS = 60


def tiedhmm_command() -> list[str]:
    found = shutil.which("tiedhmm")
    return [found] if found else [sys.executable, "-m", "tiedhmm"]


def wall_time(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_time(commands: list[list[str]], cwd: Path, repeats: int) -> float:
    """The median over ``repeats`` of the time to run all ``commands`` one after another."""
    for command in commands[:1]:
        wall_time(command, cwd)  # warm the caches
    return statistics.median(sum(wall_time(c, cwd) for c in commands)
                             for _ in range(repeats))


def write_families(folder: Path, n_families: int) -> list[Path]:
    model = th.PairHMM.durbin("protein")  # (the bundled model has free ends: no sampling)
    pairs = [(x[:LETTERS], y[:LETTERS]) for x, y in model.sample(2 * n_families, 0)
             if len(x) >= 20 and len(y) >= 20]
    paths = []
    for k in range(n_families):
        (x, y), (z, _) = pairs[2 * k % len(pairs)], pairs[(2 * k + 1) % len(pairs)]
        path = folder / f"family{k:03d}.fa"
        path.write_text(f">a\n{x}\n>b\n{y}\n>c\n{z}\n")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--families", type=int, default=100)
    args = parser.parse_args()
    tiedhmm = tiedhmm_command()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "kernel.py").write_text(KERNEL)
        records = list(SeqIO.parse(ROOT / "data" / "example_proteins.fa", "fasta"))[:3]
        (folder / "three.fa").write_text("".join(f">{r.id}\n{str(r.seq)[:LETTERS]}\n"
                                                 for r in records))
        floor = median_time([[sys.executable, "-c", "import kernel; kernel.f(1)"]], folder,
                            args.repeats)
        small = median_time([[*tiedhmm, "msa", "three.fa", "-q"]], folder, args.repeats)
        print(f"numba + one cached kernel      {floor:7.3f} s")
        print(f"tiedhmm msa, three proteins    {small:7.3f} s  ({small - floor:+.3f} s above "
              f"the floor; target +0.300)")
        families = [str(p) for p in write_families(folder, args.families)]
        together = median_time([[*tiedhmm, "msa", *families, "-o", "together", "-q"]],
                               folder, args.repeats)
        apart = median_time([[*tiedhmm, "msa", f, "-o", f"{f}.out", "-q"] for f in families],
                            folder, args.repeats)
        print(f"{args.families} families, one call      {together:7.3f} s")
        print(f"{args.families} families, one call each {apart:7.3f} s  "
              f"({apart / together:.1f}x the one call)")


if __name__ == "__main__":
    main()
