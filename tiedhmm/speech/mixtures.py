"""Mixture splitting (HTK's ``HHEd MU``): grow Gaussian mixtures a component at a time.

Splitting the heaviest component of a mixture into two, each with half its weight and
means moved ``± perturbation`` standard deviations apart, then re-estimating, reaches
good mixtures from a one-component start without k-means restarts. A group is one
object however many states share it, so a tied mixture is split once and stays tied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..emissions import GMMEmission
from ..errors import InvalidDataError

PERTURBATION = 0.2


def split_heaviest(group: GMMEmission, perturbation: float = PERTURBATION) -> None:
    """Split a mixture's heaviest component in two, in place (HHEd ``MU``).

    The two halves move apart by ``perturbation`` standard deviations and share its
    weight; ``n_mix`` grows by one.

    Parameters
    ----------
    group : GMMEmission
        The mixture.
    perturbation : float, default 0.2
        How far apart the halves' means start, in standard deviations.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> from tiedhmm.speech import split_heaviest
    >>> mixture = th.GMMEmission([1.0], np.zeros((1, 2)), np.ones((1, 2)))
    >>> split_heaviest(mixture)
    >>> mixture.n_mix
    2
    """
    if not group.is_initialized():
        raise InvalidDataError(f"{group!r} has unset parameters; fit it before splitting")
    if group.covariance not in ("diag", "spherical"):
        raise InvalidDataError(f"{group!r}: splitting needs diag or spherical covariances, "
                               f"got {group.covariance!r}")
    weights, means, covars = group.current()
    k = int(np.argmax(weights))
    spread = perturbation * np.sqrt(np.broadcast_to(covars[k], (group.n_features,)))
    weights = weights.copy()
    weights[k] /= 2
    group.weights = np.append(weights, weights[k])
    means = np.vstack([means, means[k] + spread])
    means[k] = means[k] - spread
    group.means = means
    group.covars = np.concatenate([covars, covars[k:k + 1]])
    group.n_mix += 1


def split_mixtures(groups: Iterable[Any], n_mix: int, perturbation: float = PERTURBATION) -> int:
    """Split the heaviest component of every mixture until each has ``n_mix`` components.

    Non-mixture groups are left alone; re-train after splitting.

    Parameters
    ----------
    groups : iterable of EmissionGroup
        Usually ``recognizer.inventory.emission_groups``.
    n_mix : int
        The components each mixture should have.
    perturbation : float, default 0.2
        As for :func:`split_heaviest`.

    Returns
    -------
    int
        The splits made.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> from tiedhmm.speech import split_mixtures
    >>> mixture = th.GMMEmission([1.0], np.zeros((1, 2)), np.ones((1, 2)))
    >>> split_mixtures([mixture, th.GaussianEmission(np.zeros(2), np.ones(2))], 3)
    2
    """
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
