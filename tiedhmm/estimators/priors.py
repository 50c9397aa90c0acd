"""hmmlearn's per-state prior arguments, turned into the pooled prior of each tied group.

hmmlearn gives priors per state (``startprob_prior``, ``transmat_prior``,
``means_prior`` ...), each broadcast to its full shape. A group shared by the states
``rows`` takes the product of their priors (the ``pooled`` constructors), so a tied MAP
fit maximises the untied model's posterior with the tied parameters set equal. A prior
that changes nothing (Dirichlet concentrations of 1, zero pseudo-statistics) becomes
None, which keeps the M-step maximum likelihood.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..emissions.priors import DirichletPrior, GammaPrior, NormalPrior
from ..errors import InvalidDataError


def broadcast(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """An argument as a float array of ``shape``; a clear error when it cannot be."""
    try:
        array = np.array(np.broadcast_to(np.asarray(value, dtype=float), shape))
    except (ValueError, TypeError):
        raise InvalidDataError(f"{name} must be a number or broadcast to shape {shape}, "
                               f"got {np.shape(value)}") from None
    if not np.all(np.isfinite(array)):
        raise InvalidDataError(f"{name} must be finite, got {value!r}")
    return array


def dirichlet(alpha_rows: np.ndarray) -> DirichletPrior | None:
    """The pooled Dirichlet of rows sharing one vector (axis 0: the rows)."""
    alpha = 1.0 + (np.asarray(alpha_rows, dtype=float) - 1.0).sum(axis=0)
    return None if np.all(alpha == 1.0) else DirichletPrior(alpha)


def gamma(alpha: np.ndarray, beta: np.ndarray, rows: np.ndarray) -> GammaPrior | None:
    """The pooled Gamma prior of Poisson rates for the states ``rows``."""
    prior = GammaPrior(alpha[rows].sum(axis=0), beta[rows].sum(axis=0))
    return None if not (prior.alpha.any() or prior.beta.any()) else prior


def normal(means: np.ndarray, weights: np.ndarray, scales: np.ndarray, dofs: np.ndarray,
           rows: np.ndarray, covariance: str) -> NormalPrior | None:
    """The pooled :class:`NormalPrior` of the states ``rows`` (axis 0 of every array)."""
    prior = NormalPrior.pooled([NormalPrior(means[r], weights[r], scales[r], dofs[r])
                                for r in rows], covariance)
    trivial = not (prior.mean_weight.any() or prior.scale.any() or prior.dof.any())
    return None if trivial else prior


def gaussian_arrays(model: Any, n_features: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``GaussianHMM``'s per-state means, weights, scales and dofs (hmmlearn's update:
    ``(covars_prior + ...) / (max(covars_weight - 1, 0) + n)`` for diag and spherical,
    ``max(covars_weight - D, 0)`` for full; a tied matrix's own are
    :func:`gaussian_tied_covariance`'s)."""
    N, D, kind = model.n_components, n_features, model.covariance_type
    means = broadcast(model.means_prior, (N, D), "means_prior")
    weights = broadcast(model.means_weight, (N,), "means_weight")
    if kind == "tied":
        return means, weights, np.zeros((N, D, D)), np.zeros(N)
    weight = broadcast(model.covars_weight, (N,), "covars_weight")
    if kind == "full":
        scales = broadcast(model.covars_prior, (N, D, D), "covars_prior")
        return means, weights, scales, np.maximum(weight - D, 0.0)
    scales = broadcast(model.covars_prior, (N, D), "covars_prior")
    dofs = np.maximum(weight - 1.0, 0.0) * (D if kind == "spherical" else 1)
    return means, weights, scales, dofs


def gaussian_tied_covariance(model: Any, n_features: int) -> NormalPrior | None:
    """The prior of ``GaussianHMM``'s one tied covariance."""
    D = n_features
    scale = broadcast(model.covars_prior, (D, D), "covars_prior")
    dof = max(float(broadcast(model.covars_weight, (), "covars_weight")) - D, 0.0)
    if not (scale.any() or dof):
        return None
    return NormalPrior(np.zeros(D), np.asarray(0.0), scale, np.asarray(dof))


def gmm_arrays(model: Any, n_features: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``GMMHMM``'s per-state arrays (one row per component), with hmmlearn's defaults
    and updates: diag ``c_d = n + 1 + 2 (alpha + 1)``, ``c_n = ... + 2 beta``;
    spherical ``c_d = D (n + 1) + 2 (alpha + 1)``; full ``c_d = n + 1 + nu + D + 1``;
    tied (per state) ``c_d = n + n_mix + nu + D + 1``."""
    N, M, D, kind = model.n_components, model.n_mix, n_features, model.covariance_type
    means = broadcast(model.means_prior, (N, M, D), "means_prior")
    weights = broadcast(model.means_weight, (N, M), "means_weight")
    defaults = {"full": (0.0, -(D + 2.0)), "tied": (0.0, -(M + D + 1.0)),
                "diag": (-1.5, 0.0), "spherical": (-(M + 2.0) / 2.0, 0.0)}[kind]
    prior_value = defaults[0] if model.covars_prior is None else model.covars_prior
    weight_value = defaults[1] if model.covars_weight is None else model.covars_weight
    if kind == "diag":
        alpha = broadcast(prior_value, (N, M, D), "covars_prior")
        beta = broadcast(weight_value, (N, M, D), "covars_weight")
        return means, weights, 2 * beta, 2 * alpha + 3
    if kind == "spherical":
        alpha = broadcast(prior_value, (N, M), "covars_prior")
        beta = broadcast(weight_value, (N, M), "covars_weight")
        return means, weights, np.repeat(2 * beta[..., None] / D, D, axis=2), D + 2 * (alpha + 1)
    if kind == "full":
        psi = broadcast(prior_value, (N, M, D, D), "covars_prior").transpose(0, 1, 3, 2)
        return means, weights, psi, broadcast(weight_value, (N, M), "covars_weight") + D + 2
    psi = broadcast(prior_value, (N, D, D), "covars_prior").transpose(0, 2, 1)
    return means, weights, psi, broadcast(weight_value, (N,), "covars_weight") + M + D + 1
