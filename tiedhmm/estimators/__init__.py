"""hmmlearn-style estimators with tying (``CategoricalHMM``, ``GaussianHMM``, ``GMMHMM``,
``MultinomialHMM``, ``PoissonHMM``) and the priors their arguments describe.

They compile hmmlearn's array attributes to tied groups and run the general HMM's
machinery, so this package may import :mod:`tiedhmm.hmm` and everything below it;
nothing in tiedhmm but the top-level namespace imports it.
"""

from .categorical import CategoricalHMM, MultinomialHMM
from .gaussian import GMMHMM, GaussianHMM
from .poisson import PoissonHMM

__all__ = ["GMMHMM", "CategoricalHMM", "GaussianHMM", "MultinomialHMM", "PoissonHMM"]
