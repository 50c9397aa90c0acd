"""Large-family multiple alignment: a simulated family of 1,000 proteins of ~300 letters,
aligned by tiedhmm and by the tools a user would pick at that size, in one run.

The family evolves down a random binary tree from one root sequence: per edge, each
site is substituted with probability ``t`` (the new letter drawn from a BLOSUM62-shaped
conditional, ``P(b | a) ∝ exp(S(a, b) ln 2 / 2)``), and insertions and deletions of
geometric length (mean 3) happen at rate ``indel * t`` per site. Every residue keeps the
id of the root (or inserted) position it descends from, so the true alignment is
known: SP is the share of truly homologous residue pairs that an alignment puts in one
column, TC the share of true columns (two residues or more) it reproduces exactly.
tiedhmm runs as ``tiedhmm msa IN.fa -o OUT.fa --quiet`` (the k-mer guide tree and
neighbourhood posteriors beyond 200 sequences); MAFFT ``--auto``, Clustal Omega and
(with ``--tools``) MUSCLE 5 run when found on the PATH. Prints SP, TC and wall time.
Usage: ``python scripts/bench_msa_scale.py [--sequences 1000] [--length 300] [--seed 0]
[--tools NAME ...]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from Bio import SeqIO
from Bio.Align import substitution_matrices

LETTERS = "ACDEFGHIKLMNPQRSTVWY"
TOOLS = {
    "tiedhmm": lambda i, o: [*_tiedhmm(), "msa", i, "-o", o, "--quiet"],
    "MAFFT auto": lambda i, o: ["mafft", "--auto", "--quiet", i],
    "Clustal Omega": lambda i, o: ["clustalo", "-i", i, "-o", o, "--force"],
    "MUSCLE 5": lambda i, o: ["muscle", "-align", i, "-output", o],
}
TO_STDOUT = {"MAFFT auto"}
DEFAULT_TOOLS = ("tiedhmm", "MAFFT auto", "Clustal Omega")


def _tiedhmm() -> list[str]:
    script = Path(sys.executable).with_name("tiedhmm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tiedhmm"]


def substitution_kernel() -> np.ndarray:
    """``(20, 20)`` conditional letter probabilities shaped like BLOSUM62."""
    blosum = substitution_matrices.load("BLOSUM62")
    scores = np.array([[blosum[a][b] for b in LETTERS] for a in LETTERS])
    kernel = np.exp(scores * np.log(2) / 2)
    return kernel / kernel.sum(axis=1, keepdims=True)


def evolve(rng: np.random.RandomState, n_sequences: int, length: int,
           indel: float = 0.1) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(letters, ids)`` of every leaf of a random tree grown from one root."""
    kernel = np.cumsum(substitution_kernel(), axis=1)
    next_id = [length]

    def mutate(letters, ids, t):
        change = rng.rand(letters.size) < t
        draws = rng.rand(int(change.sum()))
        letters = letters.copy()
        letters[change] = np.minimum((kernel[letters[change]] < draws[:, None]).sum(axis=1),
                                     len(LETTERS) - 1)
        for _ in range(rng.poisson(indel * t * letters.size)):
            size = rng.geometric(1 / 3)
            where = rng.randint(letters.size + 1)
            if rng.rand() < 0.5:
                letters, ids = (np.delete(array, np.s_[where:where + size])
                                for array in (letters, ids))
            else:
                new = np.arange(next_id[0], next_id[0] + size)
                next_id[0] += size
                letters = np.insert(letters, where, rng.randint(len(LETTERS), size=size))
                ids = np.insert(ids, where, new)
        return letters, ids

    def grow(letters, ids, leaves):
        if leaves == 1:
            return [(letters, ids)]
        left = rng.randint(1, leaves)
        out = []
        for count in (left, leaves - left):
            out += grow(*mutate(letters, ids, rng.uniform(0.03, 0.12)), count)
        return out

    root = rng.randint(len(LETTERS), size=length)
    return grow(root, np.arange(length), n_sequences)


def scores(aligned: dict[str, str], truth: dict[str, np.ndarray]) -> tuple[float, float]:
    """SP and TC of an alignment (name -> gapped text) against the true residue ids."""
    test_columns, true_ids = [], []
    for name, ids in truth.items():
        text = np.frombuffer(aligned[name].encode(), dtype=np.uint8)
        columns = np.flatnonzero(text != ord("-"))
        if columns.size != ids.size:
            raise ValueError(f"{name}: the alignment holds {columns.size} residues, the "
                             f"family {ids.size}")
        test_columns.append(columns)
        true_ids.append(ids)
    test_columns, true_ids = np.concatenate(test_columns), np.concatenate(true_ids)

    def pairs(counts):
        return float((counts * (counts - 1) / 2).sum())

    ids, id_index, per_id = np.unique(true_ids, return_inverse=True, return_counts=True)
    _, per_both = np.unique(test_columns.astype(np.int64) * ids.size + id_index,
                            return_counts=True)
    low = np.full(ids.size, test_columns.max() + 1)
    high = np.full(ids.size, -1)
    np.minimum.at(low, id_index, test_columns)
    np.maximum.at(high, id_index, test_columns)
    column_size = np.bincount(test_columns)
    reproduced = (low == high) & (column_size[np.minimum(low, column_size.size - 1)] == per_id)
    return pairs(per_both) / pairs(per_id), float(reproduced[per_id >= 2].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=1000)
    parser.add_argument("--length", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tools", nargs="+", default=list(DEFAULT_TOOLS), choices=list(TOOLS))
    args = parser.parse_args()
    family = evolve(np.random.RandomState(args.seed), args.sequences, args.length)
    truth = {f"s{k}": ids for k, (_, ids) in enumerate(family)}
    print(f"{args.sequences} sequences, mean length "
          f"{np.mean([ids.size for ids in truth.values()]):.0f}")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "family.fa"
        source.write_text("".join(f">s{k}\n{''.join(LETTERS[c] for c in letters)}\n"
                                  for k, (letters, _) in enumerate(family)))
        print(f"{'tool':>14} {'SP':>7} {'TC':>7} {'wall s':>9}")
        for name in args.tools:
            if name != "tiedhmm" and shutil.which(TOOLS[name]("", "")[0]) is None:
                print(f"{name:>14}  not installed")
                continue
            out = Path(folder) / "out.fa"
            start = time.perf_counter()
            result = subprocess.run(TOOLS[name](str(source), str(out)), capture_output=True,
                                    text=True)
            wall = time.perf_counter() - start
            if result.returncode:
                print(f"{name:>14}  failed: {result.stderr.strip()[:200]}")
                continue
            if name in TO_STDOUT:
                out.write_text(result.stdout)
            aligned = {r.id: str(r.seq).upper() for r in SeqIO.parse(out, "fasta")}
            sp, tc = scores(aligned, truth)
            print(f"{name:>14} {sp:7.3f} {tc:7.3f} {wall:9.1f}")


if __name__ == "__main__":
    main()
