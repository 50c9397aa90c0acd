"""The match posteriors of every pair of a family as one sparse matrix, and what
multiple alignment asks of it: consistency, column-pair scores, objective, confidence.

Residues of all sequences are numbered end to end (sequence ``s`` owns residues
``offsets[s] .. offsets[s + 1] - 1``). ``matrix[r, q]`` is the posterior that residues
r and q (of different sequences) are aligned; it holds both triangles (the block of
``(y, x)`` is that of ``(x, y)`` transposed) and no diagonal blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse

from .. import parallel
from .._kernels.consistency import consistency_upper, mirrored
from .._kernels.hmm import sequence_chunks
from .._kernels.profile import column_pair_scores, join_profiles


@dataclass
class FamilyPosteriors:
    """Sparse pair posteriors of a family, the map from residues to sequences, and the
    pairs whose posteriors were computed (``(k, 2)``, x < y)."""

    matrix: scipy.sparse.csr_matrix
    offsets: np.ndarray
    pairs: np.ndarray

    @cached_property
    def sequence_of(self) -> np.ndarray:
        """The sequence each residue belongs to."""
        return np.repeat(np.arange(self.offsets.size - 1), np.diff(self.offsets))

    @classmethod
    def from_pairs(cls, lengths: Sequence[int], pairs: Sequence[tuple[int, int]],
                   blocks: Sequence[scipy.sparse.spmatrix]) -> FamilyPosteriors:
        """``blocks[k]``: the ``(len x, len y)`` posteriors of ``pairs[k] = (x, y)``."""
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        rows, columns, values = [], [], []
        for (x, y), block in zip(pairs, blocks):
            block = scipy.sparse.csr_matrix(block)  # (no copy for a CSR matrix)
            row = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
            rows += [row + offsets[x], block.indices + offsets[y]]
            columns += [block.indices + offsets[y], row + offsets[x]]
            values += [block.data, block.data]
        size = int(offsets[-1])
        matrix = scipy.sparse.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
            shape=(size, size))
        return cls(matrix, offsets, np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2),
                                            axis=1))

    def consistency(self, threshold: float, weights: np.ndarray | None = None
                    ) -> FamilyPosteriors:
        """One pass of probabilistic consistency, kept sparse, with sequence weights
        ``w`` (MSAProbs' weighted form; all ones is ProbCons'):
        ``P'(x, y) = sum_z w_z P(x, z) P(z, y) / sum_z w_z`` with ``P(x, x) = P(y, y) = I``,
        so ``P' = ((w_x + w_y) P + sum_{z != x, y} w_z P(x, z) P(z, y)) / sum_z w_z``: the
        weighted square of the whole matrix (its diagonal blocks are empty) kept where
        ``P`` has entries (as ProbCons masks it), entries below ``threshold`` dropped
        (:func:`~tiedhmm._kernels.consistency.consistency_upper`: once per pair of
        residues, then mirrored). When only some pairs were computed (a large family's
        neighbourhoods), the sum for a pair runs over x, y and the sequences z computed
        with both, so the mean is over the terms that exist."""
        matrix = self.matrix
        n = self.offsets.size - 1
        weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        indptr, indices = matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)
        chunks, work = self._balanced_chunks()
        with parallel.kernel_threads(work):
            upper = consistency_upper(indptr, indices, matrix.data, self.sequence_of, weights,
                                      self._contributors(weights), threshold, chunks)
        out_indptr, out_indices, out_data = mirrored(indptr, indices, upper)
        return FamilyPosteriors(scipy.sparse.csr_matrix((out_data, out_indices, out_indptr),
                                                        shape=matrix.shape),
                                self.offsets, self.pairs)

    def _balanced_chunks(self) -> tuple[np.ndarray, int]:
        """Row bounds that split consistency's work (per row, the entries of the rows its
        upper entries point to) evenly over chunks (their count follows the work, see
        :func:`tiedhmm.parallel.chunk_count`), and that work."""
        matrix = self.matrix
        row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        above = matrix.indices > row_of
        work = np.bincount(row_of[above], np.diff(matrix.indptr)[matrix.indices[above]],
                           minlength=matrix.shape[0])
        cumulative = np.concatenate(([0], np.cumsum(work))).astype(np.int64)
        total = int(cumulative[-1])
        chunks = sequence_chunks(cumulative, parallel.chunk_count(total, matrix.shape[0]))
        return chunks, total

    def _contributors(self, weights: np.ndarray) -> np.ndarray:
        """``(N, N)``: the weights of x and y plus those of the sequences whose
        posteriors with both x and y were computed (the sum of all weights for every
        pair when all pairs were)."""
        n = self.offsets.size - 1
        paired = np.zeros((n, n))
        paired[self.pairs[:, 0], self.pairs[:, 1]] = 1.0
        paired[self.pairs[:, 1], self.pairs[:, 0]] = 1.0
        result: np.ndarray = weights[:, None] + weights[None, :] + (paired * weights) @ paired
        return result

    @cached_property
    def upper(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each residue pair once (first residue's sequence before the second's), and
        their posteriors."""
        coo = self.matrix.tocoo()
        owner = self.sequence_of
        keep = owner[coo.row] < owner[coo.col]
        return coo.row[keep], coo.col[keep], coo.data[keep]

    @cached_property
    def _pair_slices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The upper entries sorted by sequence pair: the order, each present pair's key
        ``x * N + y`` (x < y), and where its entries start and stop in that order."""
        first, _, _ = self.upper
        owner, n = self.sequence_of, self.offsets.size - 1
        keys = owner[first] * n + owner[self.upper[1]]
        order = np.argsort(keys, kind="stable")
        present, starts = np.unique(keys[order], return_index=True)
        stops = np.append(starts[1:], order.size)
        return order, present, starts, stops

    def column_scores(self, columns: np.ndarray, side: np.ndarray, widths: tuple[int, int]
                      ) -> np.ndarray:
        """``scores[a, b]``: summed posteriors of the residue pairs that aligning column a
        of profile 0 with column b of profile 1 would align. ``side[s]`` is the profile
        of sequence s (0, 1, or -1 for neither) and ``columns[r]`` residue r's column in
        its profile."""
        scores: np.ndarray = column_pair_scores(columns, side, self.sequence_of, self.upper,
                                                self._pair_slices,
                                                (int(widths[0]), int(widths[1])))
        return scores

    def join(self, columns: np.ndarray, side: np.ndarray, widths: tuple[int, int]) -> int:
        """Align profiles 0 and 1 (as for :meth:`column_scores`) by the best total of
        their column-pair scores and move their residues' ``columns`` to the joined
        profile's, in place; returns its width."""
        return int(join_profiles(columns, side, self.sequence_of, self.upper,
                                 self._pair_slices, (int(widths[0]), int(widths[1]))))

    def objective(self, columns: np.ndarray) -> float:
        """Summed posteriors of the residue pairs an alignment (``columns[r]``: the column
        of residue r) aligns: what progressive alignment and refinement maximise."""
        first, second, value = self.upper
        return float(value[columns[first] == columns[second]].sum())

    def column_confidence(self, columns: np.ndarray, width: int) -> np.ndarray:
        """Per column, the mean posterior of the residue pairs it aligns (NaN for a column
        with fewer than two residues)."""
        first, second, value = self.upper
        aligned = columns[first] == columns[second]
        sums = np.bincount(columns[first[aligned]], value[aligned], minlength=width)
        residues = np.bincount(columns, minlength=width)
        pairs = residues * (residues - 1) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pairs > 0, sums / pairs, np.nan)
