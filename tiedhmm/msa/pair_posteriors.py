"""What each pair of a family gives multiple alignment: its match posteriors and its
expected accuracy, mixed from the global pair HMM and the same model with unaligned
flanks (:meth:`~tiedhmm.pair.model.PairHMM.local`).

A global model must align the whole of both sequences, so a long terminal extension or
a domain one sequence lacks spreads its posteriors over residue pairs that are not
homologous; the local model explains such a region as flank and keeps its posteriors
for the shared core, but is less sure where the core meets the flanks. GLProbs (Ye et
al. 2015) mixes global and local posteriors for this reason, by the family's identity.
Here each pair's posterior is ``(1 - w) P_global + w P_local`` with one weight ``w`` for
the family, entries below the threshold dropped (each model's below-threshold entries
count as 0), and its expected accuracy the same mixture of the two models' MEA scores
over the shorter length. By default (``"auto"``) ``w`` follows the family: a close
family (mean expected accuracy of its pairs under the global model at least
:data:`CLOSE_FAMILY_ACCURACY`) takes :data:`CLOSE_LOCAL_WEIGHT`, where a pair that
differs is an outlier (an orphan, an extension) that the local model keeps apart;
others take :data:`DISTANT_LOCAL_WEIGHT`, where the global model's posteriors over
the whole length carry the weak homology. Both models share their groups (tying is
identity), so a pretrained model carries into its local version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse

from .._kernels.sparse import weighted_csr_sum
from ..errors import InvalidDataError
from ..pair.model import PairHMM

#: The default local weight: chosen per family from its global expected accuracy.
AUTO = "auto"
DEFAULT_LOCAL_WEIGHT = AUTO
#: The local model's share for distant and for close families, and the mean expected
#: accuracy of a family's pairs (global model) from which a family counts as close;
#: measured on the BAliBASE dev cases, see ``docs/msa.rst``.
DISTANT_LOCAL_WEIGHT = 0.3
CLOSE_LOCAL_WEIGHT = 0.7
CLOSE_FAMILY_ACCURACY = 0.78
#: The local model's expected flank length.
LOCAL_FLANK = 100.0

#: One model's results for a family: each pair's CSR match posteriors and accuracy.
PairResults = list[tuple[scipy.sparse.csr_matrix, float]]


def check_local_weight(weight: Any) -> None:
    """InvalidDataError unless ``weight`` is ``"auto"`` or a number in [0, 1]."""
    if weight == AUTO and isinstance(weight, str):
        return
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
            or not 0.0 <= weight <= 1.0:
        raise InvalidDataError(f"local_weight must be {AUTO!r} or a number in [0, 1], "
                               f"got {weight!r}")


def family_local_weight(local_weight: float | str, global_accuracies: Sequence[float]
                        ) -> float:
    """The local share of a family's posteriors: ``local_weight`` itself, or for
    ``"auto"`` :data:`CLOSE_LOCAL_WEIGHT` when the mean of its pairs' expected
    accuracies under the global model is at least :data:`CLOSE_FAMILY_ACCURACY`, else
    :data:`DISTANT_LOCAL_WEIGHT`."""
    if local_weight != AUTO:
        return float(local_weight)
    close = float(np.mean(global_accuracies)) >= CLOSE_FAMILY_ACCURACY
    return CLOSE_LOCAL_WEIGHT if close else DISTANT_LOCAL_WEIGHT


def mixture_parts(model: PairHMM, local_weight: float | str) -> list[PairHMM]:
    """The models whose posteriors a family's pairs mix, global first: one when the
    model is already local (it is its own local version) or a fixed weight leaves
    one out (0: the global model alone; 1: the local one), else the model and its
    local version."""
    check_local_weight(local_weight)
    fixed = None if local_weight == AUTO else float(local_weight)
    if fixed == 0.0 or any(state.flank for state in model.states):
        return [model]
    local = model.local(LOCAL_FLANK)
    return [local] if fixed == 1.0 else [model, local]


def mixed(global_results: PairResults, local_results: PairResults, local_weight: float,
          threshold: float) -> PairResults:
    """Each pair's ``(1 - w) P_global + w P_local`` (entries below ``threshold``
    dropped) and the same mixture of the two expected accuracies."""
    found = []
    for (global_posterior, global_accuracy), (local_posterior, local_accuracy) in zip(
            global_results, local_results):
        arrays = weighted_csr_sum(_csr_arrays(global_posterior), _csr_arrays(local_posterior),
                                  1.0 - local_weight, local_weight, threshold)
        found.append((scipy.sparse.csr_matrix(arrays[::-1], shape=global_posterior.shape),
                      (1.0 - local_weight) * global_accuracy + local_weight * local_accuracy))
    return found


def _csr_arrays(matrix: scipy.sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of a CSR matrix, columns sorted within rows (its own
    arrays, in their own index type: no copies)."""
    if not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()
    return matrix.indptr, matrix.indices, matrix.data
