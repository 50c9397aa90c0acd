"""Emission families, one module each (categorical, Gaussian, Gaussian mixture,
multinomial, Poisson, and the pair HMM's match table), on the contract of
:mod:`~tiedhmm.emissions.base`: a family computes the ``(T, G)`` log-likelihood table of
its groups, pools their statistics from occupancies and fits each group (its M-step),
with the priors of :mod:`~tiedhmm.emissions.priors`.

It may import :mod:`tiedhmm.parameters`, :mod:`tiedhmm.io`, :mod:`tiedhmm.errors` and the
kernels; tying, EM and every model package build on it.
"""

from .base import (
    EmissionGroup,
    emission_statistics,
    initialize_groups,
    log_likelihood_table,
)
from .categorical import CategoricalEmission
from .gaussian import GaussianEmission
from .gmm import GMMEmission
from .multinomial import MultinomialEmission
from .poisson import PoissonEmission
from .priors import DirichletPrior, GammaPrior, NormalPrior

__all__ = ["CategoricalEmission", "DirichletPrior", "EmissionGroup", "GMMEmission",
           "GammaPrior", "GaussianEmission", "MultinomialEmission", "NormalPrior",
           "PoissonEmission",
           "emission_statistics", "initialize_groups", "log_likelihood_table"]
