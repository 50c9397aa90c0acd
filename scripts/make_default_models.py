"""Regenerate the bundled default pair HMMs ``tiedhmm/data/protein.json`` and ``dna.json``.

Protein: ProbCons' bi-phasic gap model (published defaults) with a match table derived
from Biopython's BLOSUM62 scores: ``p(a, b) = q_a q_b exp(λ s_ab)`` with
``λ = ln 2 / 2`` and the background ``q`` solving ``sum_b q_b exp(λ s_ab) = 1`` for
every ``a`` (Karlin-Altschul), renormalised; inserts emit ``q``.
DNA: Pecan / ProbCons-DNA 5-state gaps and match emissions restricted to ACGT and
renormalised; inserts uniform. Usage: ``python scripts/make_default_models.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from Bio.Align import substitution_matrices

from tiedhmm.alphabets import DNA, PROTEIN
from tiedhmm.pairhmm import PairHMM

BLOSUM_LAMBDA = np.log(2) / 2
DATA = Path(__file__).resolve().parent.parent / "tiedhmm" / "data"


def blosum62_tables() -> tuple[np.ndarray, np.ndarray]:
    """Match table and background frequencies implied by BLOSUM62's half-bit scores."""
    blosum = substitution_matrices.load("BLOSUM62")
    scores = np.array([[blosum[a, b] for b in PROTEIN.letters] for a in PROTEIN.letters])
    odds = np.exp(BLOSUM_LAMBDA * scores)
    background = np.linalg.solve(odds, np.ones(len(PROTEIN.letters)))
    match = background[:, None] * background[None, :] * odds
    match = 0.5 * (match + match.T) / match.sum()
    return match, background / background.sum()


def pecan_dna_tables() -> tuple[np.ndarray, np.ndarray]:
    """Published ACGT match probabilities (identical, transition, transversion), renormalised."""
    identical, transition, transversion = 0.12064298, 0.01862248, 0.01036727
    purines = set("AG")
    match = np.empty((4, 4))
    for i, a in enumerate(DNA.letters):
        for j, b in enumerate(DNA.letters):
            same_class = (a in purines) == (b in purines)
            match[i, j] = identical if a == b else transition if same_class else transversion
    return match / match.sum(), np.full(4, 0.25)


def main() -> None:
    protein_match, protein_insert = blosum62_tables()
    protein = PairHMM.probcons("protein", match=protein_match, insert=protein_insert)
    protein.source = ("ProbCons bi-phasic protein gap defaults (Do et al. 2005, "
                         "probcons/Defaults.h); match table from Biopython BLOSUM62, "
                         "p(a,b) = q_a q_b exp(ln2/2 s_ab), Karlin-Altschul background q")
    protein.save(DATA / "protein.json")
    dna_match, dna_insert = pecan_dna_tables()
    dna = PairHMM.probcons("dna", match=dna_match, insert=dna_insert)
    dna.source = ("Pecan / ProbCons DNA 5-state gap and match parameters (Paten et al. "
                         "2009), match restricted to ACGT and renormalised; uniform inserts")
    dna.save(DATA / "dna.json")
    print(f"wrote {DATA / 'protein.json'} and {DATA / 'dna.json'}")


if __name__ == "__main__":
    main()
