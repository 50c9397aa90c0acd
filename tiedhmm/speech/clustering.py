"""Data-driven state tying: merge emission groups whose data one Gaussian explains well.

Bottom-up clustering in the spirit of HTK's ``HHEd TC``, with the likelihood criterion
of its tree-based tying: every diagonal Gaussian group starts as its own cluster with
the statistics one E-step gave it; the pair whose merge loses the least training
log-likelihood (each cluster's data modelled by one Gaussian fitted to them) is merged,
until the cheapest merge would lose more than ``threshold`` nats or ``n_groups``
clusters remain. Each merged cluster becomes one new group, fitted from the pooled
statistics, that every state of its members now references: the tied model trains,
decodes and saves like any other.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import em
from ..emissions import GaussianEmission
from ..errors import InvalidDataError
from ..hmm.model import HMM, SETTINGS
from ..parameters import Stats, add_stats
from .recognizer import Recognizer

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass
class _Cluster:
    members: list[GaussianEmission]
    weight: float
    sum: np.ndarray
    squares: np.ndarray
    covar_floor: float

    def loglik(self) -> float:
        """Log-likelihood of the cluster's frames under their own diagonal Gaussian."""
        if self.weight <= 0:
            return 0.0
        mean = self.sum / self.weight
        variance = np.maximum(self.squares / self.weight - mean ** 2, self.covar_floor)
        return -0.5 * self.weight * float(np.sum(np.log(variance)) + mean.size * (_LOG_2PI + 1))

    def merged(self, other: _Cluster) -> _Cluster:
        return _Cluster(self.members + other.members, self.weight + other.weight,
                        self.sum + other.sum, self.squares + other.squares,
                        max(self.covar_floor, other.covar_floor))


def cluster_groups(statistics: dict[int, tuple[Any, ...]], candidates: Sequence[GaussianEmission],
                   *,
                   threshold: float = np.inf, n_groups: int = 1) -> list[list[GaussianEmission]]:
    """Clusters of Gaussian groups that one Gaussian explains (see
    :mod:`tiedhmm.speech.clustering`).

    Parameters
    ----------
    statistics : dict
        Pooled E-step statistics by group id (:func:`tiedhmm.em.pooled_statistics`).
    candidates : sequence of GaussianEmission
        Diagonal Gaussian groups that may be merged; one without data joins nothing.
    threshold : float, default inf
        The most log-likelihood a merge may lose.
    n_groups : int, default 1
        Stop merging at this many clusters.

    Returns
    -------
    list of list of GaussianEmission
        The clusters.
    """
    clusters = []
    for group in {id(g): g for g in candidates}.values():
        if not isinstance(group, GaussianEmission) or group.covariance != "diag":
            raise InvalidDataError(f"state clustering needs diagonal Gaussian groups, got "
                                   f"{group!r}")
        stats = statistics.get(id(group), (group, None))[1]
        if stats is not None and float(stats["weight"]) > 0:
            clusters.append(_Cluster([group], float(stats["weight"]), stats["sum"],
                                     stats["squares"], group.covar_floor))
    own = [cluster.loglik() for cluster in clusters]
    while len(clusters) > max(n_groups, 1):
        best, pair = np.inf, None
        for a, b in itertools.combinations(range(len(clusters)), 2):
            loss = own[a] + own[b] - clusters[a].merged(clusters[b]).loglik()
            if loss < best:
                best, pair = loss, (a, b)
        if pair is None or best > threshold:
            break
        i, j = pair
        clusters[i] = clusters[i].merged(clusters.pop(j))
        own.pop(j)
        own[i] = clusters[i].loglik()
    return [cluster.members for cluster in clusters]


def tie_states(recognizer: Recognizer, X: np.ndarray, lengths: Sequence[int] | None,
               transcripts: Sequence[Any], candidates: Sequence[GaussianEmission] | None = None,
               *, threshold: float = np.inf, n_groups: int = 1) -> list[GaussianEmission]:
    """Tie states that one Gaussian explains, in place (HHEd ``TC``/``TB``-style).

    Clusters ``candidates`` on one E-step of the data and ties each cluster into one new
    group: the recogniser's units are rebuilt to reference the new groups.

    Parameters
    ----------
    recognizer : Recognizer
        The recogniser whose units are tied.
    X : array of shape (n_frames, n_features)
        Frames of all utterances, end to end.
    lengths : sequence of int or None
        Frames per utterance.
    transcripts : sequence
        One transcription per utterance.
    candidates : sequence of GaussianEmission, optional
        Default: every diagonal Gaussian group of the units.
    threshold : float, default inf
        The most log-likelihood a merge may lose.
    n_groups : int, default 1
        Stop merging at this many groups.

    Returns
    -------
    list of GaussianEmission
        The new groups.
    """
    inventory = recognizer.inventory
    if candidates is None:
        candidates = [g for g in inventory.emission_groups if isinstance(g, GaussianEmission)]
    _, statistics = em.pooled_statistics([recognizer.statistics_source(X, lengths,
                                                                       transcripts)])
    replacement, created = {}, []
    for members in cluster_groups(statistics, candidates, threshold=threshold,
                                  n_groups=n_groups):
        if len(members) < 2:
            continue
        first = members[0]
        tied = GaussianEmission(first.mean, first.covar, covariance="diag",
                                covar_floor=first.covar_floor,
                                name=" + ".join(str(m.name or "?") for m in members))
        pooled: Stats | None = None
        for member in members:
            pooled = add_stats(pooled, statistics[id(member)][1])
        if pooled is not None:
            tied.m_step(pooled, tied.param_letters)
        created.append(tied)
        replacement.update({id(member): tied for member in members})
    recognizer.units = {name: _retied(unit, replacement)
                        for name, unit in recognizer.units.items()}
    return created


def _retied(unit: HMM, replacement: dict[int, GaussianEmission]) -> HMM:
    """The unit with its emission groups replaced (edges and transition groups kept)."""
    if not any(id(group) in replacement for group in unit.emissions):
        return unit
    settings = {name: getattr(unit, name) for name in SETTINGS}
    return HMM([replacement.get(id(group), group) for group in unit.emissions], unit.start,
               unit.transitions, unit.end, soft_ties=unit.soft_ties, **settings)
