"""Emission families: each builds its ``(T, G)`` table, pools statistics, fits groups."""

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
