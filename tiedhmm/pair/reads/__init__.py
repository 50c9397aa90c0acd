"""Read likelihoods for variant callers: GATK's pair HMM over reads x haplotypes
(:mod:`~tiedhmm.pair.reads.likelihoods`), its inputs and GATK's quality preprocessing
(:mod:`~tiedhmm.pair.reads.inputs`), and a read model whose gap probabilities are
tied by repeat context and fitted by EM (:mod:`~tiedhmm.pair.reads.contexts`,
:mod:`~tiedhmm.pair.reads.model`).

It may import ``_kernels``, ``tying``, ``em``, ``io``, ``parallel`` and ``errors``.
"""

from .inputs import gatk_qualities
from .likelihoods import read_likelihoods
from .model import ReadContextModel

__all__ = ["ReadContextModel", "gatk_qualities", "read_likelihoods"]
