"""Pair HMMs: states (:mod:`~tiedhmm.pair.states`), the model with its EM and files
(:mod:`~tiedhmm.pair.model`), presets and bundled models (:mod:`~tiedhmm.pair.presets`),
forward, Viterbi and sampling on the compiled state table
(:mod:`~tiedhmm.pair.inference`), posteriors, MEA and the E-step within a memory limit
(:mod:`~tiedhmm.pair.posterior`), alphabets (:mod:`~tiedhmm.pair.alphabets`) and paths
as ``Bio.Align.Alignment`` (:mod:`~tiedhmm.pair.alignment`).

It may import ``_kernels``, ``emissions``, ``tying``, ``em``, ``io``, ``parallel`` and
``errors``; multiple alignment and the CLI build on it.
"""

from .alphabets import DNA, PROTEIN, Alphabet
from .model import PairHMM
from .states import PairState

__all__ = ["DNA", "PROTEIN", "Alphabet", "PairHMM", "PairState"]
