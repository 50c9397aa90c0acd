"""Variational Bayes HMMs with tying: hmmlearn's ``VariationalCategoricalHMM`` and
``VariationalGaussianHMM``, whose tied states share one posterior.

They fit conjugate posteriors by variational Bayes EM and infer through the plain
estimators of :mod:`tiedhmm.estimators` at the posterior means, so this package may
import :mod:`tiedhmm.estimators` and everything below it.
"""

from .categorical import VariationalCategoricalHMM
from .gaussian import VariationalGaussianHMM

__all__ = ["VariationalCategoricalHMM", "VariationalGaussianHMM"]
