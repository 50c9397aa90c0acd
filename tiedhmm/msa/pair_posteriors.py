"""What each pair of a family gives multiple alignment: its match posteriors and its
expected accuracy, mixed from the global pair HMM and the same model with unaligned
flanks (:meth:`~tiedhmm.pair.model.PairHMM.local`).

A global model must align the whole of both sequences, so a long terminal extension or
a domain one sequence lacks spreads its posteriors over residue pairs that are not
homologous; the local model explains such a region as flank and keeps its posteriors
for the shared core, but is less sure where the core meets the flanks. GLProbs (Ye et
al. 2015) mixes global and local posteriors for this reason. Here each pair's posterior
is ``(1 - w) P_global + w P_local`` with one weight ``w`` for all pairs, entries below
the threshold dropped (each model's below-threshold entries count as 0), and its
expected accuracy the same mixture of the two models' MEA scores over the shorter
length. Both models share their groups (tying is identity), so a pretrained model
carries into its local version.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse

from ..errors import InvalidDataError
from ..pair import posterior as pair_posterior
from ..pair.inference import CompiledPair
from ..pair.model import PairHMM

#: The local model's share of each pair's posteriors (measured on the BAliBASE dev
#: cases, see ``docs/msa.rst``).
DEFAULT_LOCAL_WEIGHT = 0.3
#: The local model's expected flank length.
LOCAL_FLANK = 100.0

Encoded = Sequence[tuple[np.ndarray, np.ndarray]]


def check_local_weight(weight: float) -> None:
    """InvalidDataError unless ``weight`` is a number in [0, 1]."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
            or not 0.0 <= weight <= 1.0:
        raise InvalidDataError(f"local_weight must be a number in [0, 1], got {weight!r}")


def mixture(model: PairHMM, local_weight: float) -> list[tuple[CompiledPair, float]]:
    """The compiled models whose posteriors a pair mixes, each with its weight (a
    weight of 0 leaves its model out, so the global model alone costs one pass; a model
    that is already local is its own local version and runs alone)."""
    check_local_weight(local_weight)
    if any(state.flank for state in model.states):
        return [(model.compiled(), 1.0)]
    parts = [(model, 1.0 - local_weight), (model.local(LOCAL_FLANK), float(local_weight))]
    return [(part.compiled(), weight) for part, weight in parts if weight > 0.0]


def mixed_posteriors_and_accuracies(
        models: Sequence[tuple[CompiledPair, float]], pairs: Encoded, *, threshold: float,
        memory: int | str | None) -> list[tuple[scipy.sparse.csr_matrix, float]]:
    """Each encoded pair's mixed CSR match posteriors (entries at least ``threshold``)
    and mixed expected accuracy."""
    found = [pair_posterior.sparse_posteriors_and_accuracies(compiled, pairs,
                                                              threshold=threshold,
                                                              memory=memory)
             for compiled, _ in models]
    if len(models) == 1:
        return found[0]
    weights = [weight for _, weight in models]
    mixed = []
    for parts in zip(*found):
        posterior = sum((weight * part for weight, (part, _) in zip(weights, parts)),
                        scipy.sparse.csr_matrix(parts[0][0].shape))
        posterior.data[posterior.data < threshold] = 0.0
        posterior.eliminate_zeros()
        mixed.append((posterior, sum(weight * accuracy
                                     for weight, (_, accuracy) in zip(weights, parts))))
    return mixed
