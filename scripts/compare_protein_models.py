"""Which protein pair HMM to bundle: pairwise accuracy on BAliBASE reference pairs.

Candidates (all ProbCons' five-state bi-phasic topology, symmetric):

- ``blosum``: the bundled model until 0.3 (ProbCons' gap defaults, a match table derived
  from BLOSUM62);
- ``probcons``: ProbCons' own published defaults, gaps *and* emissions
  (``probcons/Defaults.h``: ``emitPairsDefault``, ``emitSingleDefault``, alphabet
  ``ARNDCQEGHILKMFPSTWYV``);
- ``em``: ``probcons`` re-estimated by pooled, symmetric EM (one EM over every pair at
  once) on the *unaligned* sequences of the development cases;
- ``em-gaps``: the same EM with the emissions frozen, transitions only (what ProbCons
  itself trained on BAliBASE).

Each is scored by the pairwise accuracy of its MEA alignments on the cases' reference
pairs: the share of residue pairs that the reference aligns in its core blocks
(``.xml`` ``coreblock`` columns) that the pairwise alignment reproduces; Biopython's
Gotoh aligner (global, BLOSUM62, open -11, extend -1) and each model's Viterbi
alignment are scored beside them. Prints the mean per reference set and writes the
models (``--write FOLDER``) for ``scripts/bench_msa.py --model``.
Usage: ``python scripts/compare_protein_models.py [--sets RV11 RV12 ...] [--pairs 12]
[--em-iterations 8] [--write FOLDER]``.
"""

from __future__ import annotations

import argparse
import itertools
import re
import time
from pathlib import Path

import numpy as np
from Bio import SeqIO
from Bio.Align import PairwiseAligner, substitution_matrices
from make_default_models import blosum62_tables, probcons_tables

import tiedhmm as th

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CASES = SHARED / "data" / "balibase3-dev"
def reference_pairs(case: Path) -> tuple[dict[str, str], set[tuple[str, str, int, int]]]:
    """The case's sequences and its reference residue pairs in core-block columns."""
    aligned = {r.id: str(r.seq).upper().replace(".", "-")
               for r in SeqIO.parse(case.with_suffix(".msf"), "msf")}
    xml = case.with_suffix(".xml").read_text()
    core = re.search(r"<colsco-name>coreblock</colsco-name>.*?<colsco-data>(.*?)"
                     r"</colsco-data>", xml, re.S)
    width = len(next(iter(aligned.values())))
    marks = np.array(core.group(1).split(), dtype=int) if core else np.ones(width, int)
    if marks.size != width:
        marks = np.ones(width, int)
    positions = {name: np.cumsum([c != "-" for c in text]) - 1
                 for name, text in aligned.items()}
    pairs = set()
    for a, b in itertools.combinations(sorted(aligned), 2):
        both = np.flatnonzero((np.array(list(aligned[a])) != "-")
                              & (np.array(list(aligned[b])) != "-") & (marks == 1))
        pairs |= {(a, b, int(positions[a][c]), int(positions[b][c])) for c in both}
    sequences = {name: text.replace("-", "") for name, text in aligned.items()}
    return sequences, pairs


def aligned_pairs(alignment) -> set[tuple[int, int]]:
    """Residue index pairs an alignment of two sequences puts in one column."""
    found = set()
    for (x0, x1), (y0, _) in zip(*alignment.aligned):
        found |= {(x0 + k, y0 + k) for k in range(x1 - x0)}
    return found


def accuracy(align, case_pairs, chosen, sequences) -> float:
    """Reproduced share of the chosen pairs' core reference residue pairs."""
    hit = total = 0
    for a, b in chosen:
        wanted = {(i, j) for x, y, i, j in case_pairs if (x, y) == (a, b)}
        if not wanted:
            continue
        hit += len(wanted & aligned_pairs(align(sequences[a], sequences[b])))
        total += len(wanted)
    return hit / total if total else np.nan


def gotoh() -> PairwiseAligner:
    aligner = PairwiseAligner(mode="global", open_gap_score=-11, extend_gap_score=-1)
    aligner.substitution_matrix = substitution_matrices.load("BLOSUM62")
    return aligner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["RV11", "RV12", "RV20", "RV30",
                                                      "RV40", "RV50"])
    parser.add_argument("--pairs", type=int, default=12, help="pairs per case (seeded)")
    parser.add_argument("--em-iterations", type=int, default=8)
    parser.add_argument("--write", type=Path, help="folder for the candidate models")
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    cases = {name: sorted((CASES / name).glob("*.tfa")) for name in args.sets}
    data = {}
    for name, files in cases.items():
        for case in files:
            sequences, pairs = reference_pairs(case)
            every = list(itertools.combinations(sorted(sequences), 2))
            chosen = [every[k] for k in rng.permutation(len(every))[:args.pairs]]
            data[case] = (name, sequences, pairs, chosen)
    match, insert = probcons_tables()
    blosum_match, blosum_insert = blosum62_tables()
    models = {"blosum": th.PairHMM.probcons("protein", match=blosum_match,
                                            insert=blosum_insert),
              "probcons": th.PairHMM.probcons("protein", match=match, insert=insert)}
    training = [(sequences[a], sequences[b]) for _, sequences, _, chosen in data.values()
                for a, b in chosen]
    for label, frozen in (("em", False), ("em-gaps", True)):
        em = th.PairHMM.probcons("protein", match=match, insert=insert)
        for state in em.states:
            state.emission.trainable = not frozen
        em.n_iter, em.tol = args.em_iterations, -np.inf
        start = time.perf_counter()
        em.fit(training)
        print(f"{label}: {args.em_iterations} EM iterations on {len(training)} unaligned "
              f"dev pairs, {time.perf_counter() - start:.0f} s")
        models[label] = em
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for label, model in models.items():
            model.save(args.write / f"{label}.json")
    biopython = gotoh()
    aligners = {"Gotoh (Biopython)": lambda x, y: biopython.align(x, y)[0]}
    for label, model in models.items():
        aligners[f"{label} MEA"] = lambda x, y, m=model: m.align(x, y, method="mea")
        aligners[f"{label} Viterbi"] = lambda x, y, m=model: m.align(x, y)
    print(f"{'aligner':>20}" + "".join(f"{name:>8}" for name in args.sets) + f"{'mean':>8}")
    for label, align in aligners.items():
        per_set = []
        for name in args.sets:
            scores = [accuracy(align, pairs, chosen, sequences)
                      for set_name, sequences, pairs, chosen in data.values()
                      if set_name == name]
            per_set.append(np.nanmean(scores))
        print(f"{label:>20}" + "".join(f"{value:8.3f}" for value in per_set)
              + f"{np.mean(per_set):8.3f}")


if __name__ == "__main__":
    main()
