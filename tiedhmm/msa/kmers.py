"""Alignment-free distances, and the pairs a large family's posteriors are computed for.

Beyond :data:`ALL_PAIRS_LIMIT` sequences, all pairs' posteriors cost too much
(quadratic in the family). Multiple alignment then takes QuickProbs 2's route:

- a guide tree by UPGMA on k-mer distances (MUSCLE's first stage): ``d(x, y) = 1 -
  sum_t min(c_x(t), c_y(t)) / (min(L_x, L_y) - k + 1)``, k-mers of the alphabet's own
  letters (2-mers for protein, 4-mers for DNA), all pairs in one parallel kernel;
- posteriors only for each sequence's ``neighbours`` nearest sequences by that distance,
  plus, for every join of the guide tree, the ``per_join`` closest pairs across it, so
  that every profile-profile alignment has posteriors to follow and consistency runs
  within guide-tree neighbourhoods.
"""

from __future__ import annotations

import numpy as np

from .._kernels.kmers import shared_kmers
from ..pair.alphabets import Alphabet
from .guide_tree import Tree

#: Families up to this size compute every pair's posteriors.
ALL_PAIRS_LIMIT = 200
#: Nearest sequences per sequence beyond it.
DEFAULT_NEIGHBOURS = 20
#: Closest pairs across every guide-tree join.
PER_JOIN = 3


def kmer_length(alphabet: Alphabet) -> int:
    """2-mers of a protein alphabet, 4-mers of a nucleotide one (about 400 and 256 kinds)."""
    return 2 if alphabet.size > 4 else 4


def kmer_distances(codes: list[np.ndarray], alphabet: Alphabet) -> np.ndarray:
    """``(N, N)`` k-mer distances of encoded sequences (k-mers holding an ambiguity code
    are not counted)."""
    k, size = kmer_length(alphabet), alphabet.size
    counts = np.zeros((len(codes), size ** k), dtype=np.int32)
    for row, sequence in enumerate(codes):
        if sequence.size < k:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(sequence.astype(np.int64), k)
        clean = windows[np.all(windows < size, axis=1)]
        index = clean @ (size ** np.arange(k - 1, -1, -1))
        counts[row] = np.bincount(index, minlength=size ** k)
    lengths = np.array([max(sequence.size - k + 1, 1) for sequence in codes], dtype=float)
    shared = shared_kmers(counts)
    distances = 1.0 - shared / np.minimum.outer(lengths, lengths)
    np.fill_diagonal(distances, 0.0)
    clipped: np.ndarray = np.clip(distances, 0.0, 1.0)
    return clipped


def neighbourhood_pairs(distances: np.ndarray, tree: Tree, neighbours: int,
                        per_join: int = PER_JOIN) -> list[tuple[int, int]]:
    """Pairs ``(x, y)``, ``x < y``: each sequence with its ``neighbours`` nearest, and the
    ``per_join`` closest pairs across every join of ``tree``."""
    n = distances.shape[0]
    ranked = np.argsort(distances + np.diag(np.full(n, np.inf)), axis=1, kind="stable")
    chosen = {(min(x, int(y)), max(x, int(y))) for x in range(n)
              for y in ranked[x, :min(neighbours, n - 1)]}
    for a, b in tree.merges:
        one, other = np.array(tree.leaves(a)), np.array(tree.leaves(b))
        block = distances[np.ix_(one, other)].ravel()
        for flat in np.argsort(block, kind="stable")[:per_join]:
            x, y = int(one[flat // other.size]), int(other[flat % other.size])
            chosen.add((min(x, y), max(x, y)))
    return sorted(chosen)
