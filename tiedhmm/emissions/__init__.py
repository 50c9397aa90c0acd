"""Emission families: each builds its ``(T, G)`` table, pools statistics, fits groups."""

from .base import EmissionGroup, emission_statistics, initialize_groups, log_likelihood_table
from .categorical import CategoricalEmission
from .gaussian import GaussianEmission
from .gmm import GMMEmission
from .poisson import PoissonEmission

__all__ = ["CategoricalEmission", "EmissionGroup", "GMMEmission", "GaussianEmission",
           "PoissonEmission",
           "emission_statistics", "initialize_groups", "log_likelihood_table"]
