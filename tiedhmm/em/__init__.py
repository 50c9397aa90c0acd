"""Fitting by EM: the Baum-Welch loop with pooled tied statistics and its convergence
monitor (:mod:`~tiedhmm.em.loop`), and the skeleton every EM-fitted model shares:
settings, the EM driver, files and scikit-learn's parameter protocol
(:mod:`~tiedhmm.em.model`).

It may import :mod:`tiedhmm.parameters`, :mod:`tiedhmm.tying`, :mod:`tiedhmm.io` and
:mod:`tiedhmm.errors`; the model packages (``hmm``, ``pair``, ``speech``) build on it.
"""

from .loop import (
    ConvergenceMonitor,
    GroupStats,
    Statistics,
    StatisticsSource,
    check_soft_ties,
    fit,
    keyed_by_position,
    m_step,
    pooled_statistics,
)
from .model import EMModel

__all__ = ["ConvergenceMonitor", "EMModel", "GroupStats", "Statistics", "StatisticsSource",
           "check_soft_ties", "fit", "keyed_by_position", "m_step", "pooled_statistics"]
