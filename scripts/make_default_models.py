"""Regenerate the bundled default pair HMMs ``tiedhmm/data/protein.json`` and ``dna.json``.

Protein: ProbCons' published defaults, its bi-phasic gap model and its emission tables
(``emitPairsDefault``, ``emitSingleDefault``); ``blosum62_tables`` gives the alternative
match table derived from BLOSUM62 that ``scripts/compare_protein_models.py`` compares
(``p(a, b) = q_a q_b exp(λ s_ab)``, ``λ = ln 2 / 2``, Karlin-Altschul background).
DNA: Pecan / ProbCons-DNA 5-state gaps and match emissions restricted to ACGT and
renormalised; inserts uniform. Usage: ``python scripts/make_default_models.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from Bio.Align import substitution_matrices

from tiedhmm.pair.alphabets import DNA, PROTEIN
from tiedhmm.pair.model import PairHMM

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


PROBCONS_ALPHABET = "ARNDCQEGHILKMFPSTWYV"
#: ProbCons' emitSingleDefault and the lower triangle of emitPairsDefault
#: (``probcons/Defaults.h``, Do et al. 2005), in PROBCONS_ALPHABET order.
PROBCONS_SINGLE = [
    0.07831005, 0.05246024, 0.04433257, 0.05130349, 0.02189704, 0.03585766, 0.05615771,
    0.07783433, 0.02601093, 0.06511648, 0.09716489, 0.05877077, 0.02438117, 0.04463228,
    0.03940142, 0.05849916, 0.05115306, 0.01203523, 0.03124726, 0.07343426]
PROBCONS_PAIRS = """
0.02373072
0.00244502 0.01775118
0.00210228 0.00207782 0.01281864
0.00223549 0.00161657 0.00353540 0.01911178
0.00145515 0.00044701 0.00042479 0.00036798 0.01013470
0.00219102 0.00253532 0.00158223 0.00176784 0.00032102 0.00756604
0.00332218 0.00268865 0.00224738 0.00496800 0.00037956 0.00345128 0.01676565
0.00597898 0.00194865 0.00288882 0.00235249 0.00071206 0.00142432 0.00214860 0.04062876
0.00114353 0.00132105 0.00141205 0.00097077 0.00026421 0.00113901 0.00131767 0.00103704
 0.00867996
0.00318853 0.00138145 0.00104273 0.00105355 0.00094040 0.00100883 0.00124207 0.00142520
 0.00059716 0.01778263
0.00449576 0.00246811 0.00160275 0.00161966 0.00138494 0.00180553 0.00222063 0.00212853
 0.00111754 0.01071834 0.03583921
0.00331693 0.00595650 0.00257310 0.00252518 0.00046951 0.00312308 0.00428420 0.00259311
 0.00121376 0.00157852 0.00259626 0.01612228
0.00148878 0.00076734 0.00063401 0.00047808 0.00037421 0.00075546 0.00076105 0.00066504
 0.00042237 0.00224097 0.00461939 0.00096120 0.00409522
0.00165004 0.00090768 0.00084658 0.00069041 0.00052274 0.00059248 0.00078814 0.00115204
 0.00072545 0.00279948 0.00533369 0.00087222 0.00116111 0.01661038
0.00230618 0.00106268 0.00100282 0.00125381 0.00034766 0.00090111 0.00151550 0.00155601
 0.00049078 0.00103767 0.00157310 0.00154836 0.00046718 0.00060701 0.01846071
0.00631752 0.00224540 0.00301397 0.00285226 0.00094867 0.00191155 0.00293898 0.00381962
 0.00116422 0.00173565 0.00250962 0.00312633 0.00087787 0.00119036 0.00180037 0.01346609
0.00389995 0.00186053 0.00220144 0.00180488 0.00073798 0.00154526 0.00216760 0.00214841
 0.00077747 0.00248968 0.00302273 0.00250862 0.00093371 0.00107595 0.00147982 0.00487295
 0.01299436
0.00039119 0.00029139 0.00021006 0.00016015 0.00010666 0.00020592 0.00023815 0.00038786
 0.00019097 0.00039549 0.00076736 0.00028448 0.00016253 0.00085751 0.00015674 0.00026525
 0.00024961 0.00563625
0.00131840 0.00099430 0.00074960 0.00066005 0.00036626 0.00070192 0.00092548 0.00089301
 0.00131038 0.00127857 0.00219713 0.00100817 0.00054105 0.00368739 0.00047608 0.00102648
 0.00094759 0.00069226 0.00999315
0.00533241 0.00169359 0.00136609 0.00127915 0.00119152 0.00132844 0.00178697 0.00194579
 0.00071553 0.01117956 0.00914460 0.00210897 0.00197461 0.00256159 0.00135781 0.00241601
 0.00343452 0.00038538 0.00148001 0.02075171
"""


def probcons_tables() -> tuple[np.ndarray, np.ndarray]:
    """ProbCons' match table (symmetric, summing to 1) and insert frequencies, in
    tiedhmm's letter order."""
    values = [float(v) for v in PROBCONS_PAIRS.split()]
    lower = np.zeros((20, 20))
    lower[np.tril_indices(20)] = values
    table = lower + np.tril(lower, -1).T
    order = [PROBCONS_ALPHABET.index(letter) for letter in PROTEIN.letters]
    single = np.array(PROBCONS_SINGLE)[order]
    return table[np.ix_(order, order)] / table.sum(), single / single.sum()


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
    protein_match, protein_insert = probcons_tables()
    protein = PairHMM.probcons("protein", match=protein_match, insert=protein_insert)
    protein.source = ("ProbCons' published protein defaults (Do et al. 2005, "
                      "probcons/Defaults.h): bi-phasic gaps, emitPairsDefault and "
                      "emitSingleDefault (chosen over a BLOSUM62-derived table and EM "
                      "re-estimates by scripts/compare_protein_models.py)")
    protein.save(DATA / "protein.json")
    dna_match, dna_insert = pecan_dna_tables()
    dna = PairHMM.probcons("dna", match=dna_match, insert=dna_insert)
    dna.source = ("Pecan / ProbCons DNA 5-state gap and match parameters (Paten et al. "
                         "2009), match restricted to ACGT and renormalised; uniform inserts")
    dna.save(DATA / "dna.json")
    print(f"wrote {DATA / 'protein.json'} and {DATA / 'dna.json'}")


if __name__ == "__main__":
    main()
