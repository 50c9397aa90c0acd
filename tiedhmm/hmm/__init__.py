"""Hidden Markov models: the general tied :class:`HMM` and what every HMM does
(:mod:`~tiedhmm.hmm.model`), inference on the kernels (:mod:`~tiedhmm.hmm.inference`),
several models fitted together (:mod:`~tiedhmm.hmm.modelset`) and speech-style
topologies (:mod:`~tiedhmm.hmm.topologies`).

It may import ``_kernels``, ``emissions``, ``tying``, ``em``, ``io``, ``parallel`` and
``errors``; the estimators and speech build on it.
"""

from .model import HMM, BaseHMM
from .modelset import ModelSet
from .topologies import concatenate, left_right

__all__ = ["HMM", "BaseHMM", "ModelSet", "concatenate", "left_right"]
