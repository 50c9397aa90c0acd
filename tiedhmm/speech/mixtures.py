"""Mixture splitting (HTK's ``HHEd MU``): grow Gaussian mixtures a component at a time.

Splitting the heaviest component of a mixture into two, each with half its weight and
means moved ``± perturbation`` standard deviations apart, then re-estimating, reaches
good mixtures from a one-component start without k-means restarts. A group is one
object however many states share it, so a tied mixture is split once and stays tied.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..emissions import GMMEmission
from ..errors import InvalidDataError

PERTURBATION = 0.2


def split_heaviest(group: GMMEmission, perturbation: float = PERTURBATION) -> None:
    """Split ``group``'s heaviest component in place (its ``n_mix`` grows by one)."""
    if not group.is_initialized():
        raise InvalidDataError(f"{group!r} has unset parameters; fit it before splitting")
    if group.covariance not in ("diag", "spherical"):
        raise InvalidDataError(f"{group!r}: splitting needs diag or spherical covariances, "
                               f"got {group.covariance!r}")
    k = int(np.argmax(group.weights))
    spread = perturbation * np.sqrt(np.broadcast_to(group.covars[k], (group.n_features,)))
    weights = group.weights.copy()
    weights[k] /= 2
    group.weights = np.append(weights, weights[k])
    group.means = np.vstack([group.means, group.means[k] + spread])
    group.means[k] = group.means[k] - spread
    group.covars = np.concatenate([group.covars, group.covars[k:k + 1]])
    group.n_mix += 1


def split_mixtures(groups: Iterable, n_mix: int, perturbation: float = PERTURBATION) -> int:
    """Split the heaviest component of every mixture in ``groups`` until each has
    ``n_mix`` components (non-mixture groups are left alone); returns the splits made."""
    if int(n_mix) < 1:
        raise InvalidDataError(f"n_mix must be a positive integer, got {n_mix!r}")
    splits = 0
    for group in {id(group): group for group in groups}.values():
        if not isinstance(group, GMMEmission) or not group.trainable:
            continue
        while group.n_mix < n_mix:
            split_heaviest(group, perturbation)
            splits += 1
    return splits
