"""Dask distributed execution: the EM E-step and batch pair scoring over a cluster.

In-process work already runs in parallel on Numba threads; this module spreads it over
the workers of a ``dask.distributed`` cluster (the ``[distributed]`` extra). Data are
split into chunks (of sequences or of pairs) and scattered once; every EM iteration
ships the current model to the workers, each worker runs the ordinary in-process
E-step on its chunks, and the statistics come back keyed by the position of each
group in the model, so the driver adds them into its own group objects. The numbers
equal the in-process ones up to the order of summation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .em.loop import GroupStats, StatisticsSource
from .errors import InvalidDataError
from .parameters import ParameterGroup, Stats, add_stats

CHUNKS_PER_WORKER = 2

# Data go to the cluster with ``hash=False``: a content-hashed key is shared by two
# scatters of equal objects, and releasing the first one's futures could drop the data
# the second one's tasks still need ("lost dependencies").


def connect(address: str) -> Any:
    """A ``distributed.Client`` for a scheduler address (e.g. ``tcp://host:8786``)."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("Dask support needs the distributed extra: "
                          "pip install 'tiedhmm[distributed]'") from None
    try:
        return Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except OSError as error:
        raise InvalidDataError(f"cannot reach the Dask scheduler at {address!r}: {error}") from None


def n_chunks(client: Any, n_items: int) -> int:
    """How many chunks to cut ``n_items`` into for the client's workers."""
    workers = max(1, len(client.scheduler_info()["workers"]))
    return max(1, min(n_items, CHUNKS_PER_WORKER * workers))


def split(items: Sequence[Any], count: int) -> list[Sequence[Any]]:
    """``items`` cut into ``count`` contiguous, nearly equal chunks."""
    bounds = np.linspace(0, len(items), count + 1).round().astype(int)
    return [items[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _groups_of(owner: Any) -> list[ParameterGroup]:
    groups: list[ParameterGroup] = getattr(owner, "topology", owner).parameter_groups
    return groups


def _chunk_statistics(make_source: Callable[..., Any], owner: Any,
                      payload: Any) -> tuple[np.ndarray, dict[int, Stats], str]:
    """On a worker: one E-step of a chunk, statistics keyed by group position."""
    loglik, group_stats, unit = make_source(owner, payload)()
    position = {id(group): k for k, group in enumerate(_groups_of(owner))}
    keyed: dict[int, Stats] = {}
    for group, stats in group_stats:
        keyed[position[id(group)]] = add_stats(keyed.get(position[id(group)]), stats)
    return loglik, keyed, unit


def statistics_source(client: Any, make_source: Callable[..., Any], owner: Any,
                      payloads: Sequence[Any]) -> StatisticsSource:
    """An EM statistics source whose E-step runs ``make_source(owner, payload)()`` for
    every payload on the cluster and reduces the results into ``owner``'s groups."""
    scattered = client.scatter(list(payloads), hash=False)

    def source() -> tuple[np.ndarray, GroupStats, str]:
        shipped = client.scatter(owner, broadcast=True, hash=False)
        futures = [client.submit(_chunk_statistics, make_source, shipped, chunk, pure=False)
                   for chunk in scattered]
        results: list[tuple[np.ndarray, dict[int, Stats], str]] = client.gather(futures)
        groups = _groups_of(owner)
        pooled: dict[int, Stats] = {}
        for _, keyed, _ in results:
            for position, stats in keyed.items():
                pooled[position] = add_stats(pooled.get(position), stats)
        loglik = np.concatenate([result[0] for result in results])
        return loglik, [(groups[k], stats) for k, stats in sorted(pooled.items())], \
            results[0][2]
    return source


def map_chunks(client: Any, function: Callable[..., Any], owner: Any,
               chunks: Sequence[Sequence[Any]]) -> list[Any]:
    """``function(owner, chunk)`` for every chunk as Dask tasks, results in order."""
    shipped = client.scatter(owner, broadcast=True, hash=False)
    futures = [client.submit(function, shipped, chunk, pure=False) for chunk in chunks]
    results: list[Any] = client.gather(futures)
    return results
