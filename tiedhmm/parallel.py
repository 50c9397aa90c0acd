"""The threading policy every kernel follows, and Dask distributed execution.

**Threads.** Kernels run in parallel on Numba's threads. One control sets how many:
:func:`set_threads` (or :func:`using_threads` for a block, ``threads=`` where a function
takes it, ``TIEDHMM_NUM_THREADS`` in the environment, ``--threads`` on the command line);
by default every thread Numba has (``NUMBA_NUM_THREADS``, the cores). The policy:

- *Waiting threads do not spin for long.* Numba's OpenMP layer keeps idle workers
  spinning; on a machine whose cores other processes also use, spinning workers steal
  each other's time (an EM iteration measured 8x slower with one busy process per core).
  Before the layer starts, tiedhmm sets a short spin (``GOMP_SPINCOUNT=3000``, Intel's
  ``KMP_BLOCKTIME=0``) unless the user set ``OMP_WAIT_POLICY`` or those variables
  themselves (``tiedhmm._kernels.SPIN_DEFAULTS``). A short spin, not a passive wait: a
  passive wait made every launch wake sleeping threads, 40-60 µs each, which made a
  100-sequence E-step of 800 frames four times slower on an idle machine.
- *Small work runs on one thread.* A launch whose work (frames x states^2 for an HMM,
  cells x states for a pair HMM) is below :data:`SERIAL_WORK` runs on the calling thread
  (:func:`kernel_threads`), where waking a second thread costs more than it saves.
- *Chunks follow the work, not the thread count* (:func:`chunk_count`), and per-chunk
  sums are added in chunk order, so results are bit-identical whatever the number of
  threads.
- *Dask workers run kernels on one thread* (one worker per core is the usual layout);
  ``TIEDHMM_WORKER_THREADS`` changes that.
- *threadpoolctl's limits hold* (``threadpool_limits(1)``, as scikit-learn uses it, or
  ``user_api="openmp"``): tiedhmm registers its kernels with threadpoolctl when it is
  installed, and a limit goes through :func:`set_threads`.

**Dask.** This module spreads work over the workers of a ``dask.distributed`` cluster
(the ``[distributed]`` extra). Data are
split into chunks (of sequences or of pairs) and scattered once; every EM iteration
ships the current model to the workers, each worker runs the ordinary in-process
E-step on its chunks, and the statistics come back keyed by the position of each
group in the model, so the driver adds them into its own group objects. The numbers
equal the in-process ones up to the order of summation.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numba
import numpy as np

from .em.loop import GroupStats, StatisticsSource, keyed_by_position
from .errors import InvalidDataError
from .parameters import ParameterGroup, Stats, add_stats

CHUNKS_PER_WORKER = 2
#: Work below which a kernel launch runs on one thread: frames x states^2 of an HMM batch
#: (800 frames of an 8-state model is 51,200) or cells x states of pairs. Measured by
#: ``scripts/bench_shared_machine.py`` (one 8-state E-step launch, 2 cores): cut into two
#: chunks, two threads beat one by 1.1-1.3x at 25,600 and 1.5x at 51,200 on the idle
#: machine and with a busy loop per core; a launch with one chunk only pays for waking
#: the second thread (0.7-0.9x).
SERIAL_WORK = 50_000
#: Work a chunk of a parallel loop holds at least (25,600 is about 50 us on one core),
#: and the most chunks a launch is cut into: enough for load balance on a many-core
#: machine. Chunks of 500,000 left every launch below 10^6 on one chunk, so on one
#: thread: two threads were 0.8-1.0x one where two chunks gave 1.2-2.0x.
WORK_PER_CHUNK = 25_000
MAX_CHUNKS = 256

_threads: int | None = None


def available_threads() -> int:
    """The threads Numba has (``NUMBA_NUM_THREADS``, by default the cores)."""
    return int(numba.config.NUMBA_NUM_THREADS)


def set_threads(n: int | None) -> None:
    """Set how many threads tiedhmm's kernels use from now on.

    Parameters
    ----------
    n : int or None
        At least 1; more than Numba has are capped at :func:`available_threads`. None
        goes back to the default: ``TIEDHMM_NUM_THREADS`` if set, else every thread.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        ``n`` is not a positive whole number.

    Examples
    --------
    >>> import tiedhmm as th
    >>> th.set_threads(1)
    >>> th.get_threads()
    1
    >>> th.set_threads(None)
    """
    global _threads
    _threads = None if n is None else _checked_threads(n, "threads")
    numba.set_num_threads(get_threads())  # (for this thread's launches outside the policy)


def get_threads() -> int:
    """How many threads tiedhmm's kernels use (see :func:`set_threads`).

    Returns
    -------
    int
        Between 1 and :func:`available_threads`.

    Examples
    --------
    >>> import tiedhmm as th
    >>> 1 <= th.get_threads() <= th.parallel.available_threads()
    True
    """
    if _threads is not None:
        return min(_threads, available_threads())
    from_environment = os.environ.get("TIEDHMM_NUM_THREADS")
    if from_environment:
        return min(_checked_threads(from_environment, "TIEDHMM_NUM_THREADS"),
                   available_threads())
    return available_threads()


@contextlib.contextmanager
def using_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` threads inside the block, then what was set before (None: no change).

    Parameters
    ----------
    n : int or None
        As for :func:`set_threads`.

    Yields
    ------
    None
        The block runs with ``n`` threads.

    Examples
    --------
    >>> import tiedhmm as th
    >>> with th.using_threads(1):
    ...     th.get_threads()
    1
    """
    global _threads
    if n is None:
        yield
        return
    previous, launches = _threads, numba.get_num_threads()
    _threads = _checked_threads(n, "threads")
    numba.set_num_threads(get_threads())
    try:
        yield
    finally:
        _threads = previous
        numba.set_num_threads(launches)


@contextlib.contextmanager
def kernel_threads(work: float) -> Iterator[int]:
    """Run the kernel launches inside the block on :func:`get_threads` threads, or on
    the calling thread alone when ``work`` is below :data:`SERIAL_WORK`; yields the
    count (Numba's setting is per calling thread, and is put back after)."""
    count = 1 if work < SERIAL_WORK else get_threads()
    previous = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(previous)


def chunk_count(work: float, items: int) -> int:
    """How many chunks a parallel loop over ``items`` (sequences, pairs, rows) cuts
    ``work`` into: one per :data:`WORK_PER_CHUNK`, at most ``items`` and
    :data:`MAX_CHUNKS`. It depends on the work alone, never on the thread count."""
    return int(max(1, min(items, MAX_CHUNKS, work // WORK_PER_CHUNK)))


def chunk_bounds(work: np.ndarray) -> np.ndarray:
    """Boundaries of :func:`chunk_count` runs of items with ``work`` each, cut at even
    shares of the cumulative work (so they depend on the work alone)."""
    cumulative = np.cumsum(work)
    count = chunk_count(float(cumulative[-1]), len(work))
    inner = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, count) / count)
    return np.concatenate(([0], inner, [len(work)])).astype(np.int64)


def _checked_threads(n: object, what: str) -> int:
    """``n`` (a number, or the text of one from the environment) as a thread count."""
    if isinstance(n, str) and n.strip().isdigit():
        n = int(n.strip())
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidDataError(f"{what} must be a whole number >= 1, got {n!r}")
    return int(n)


def _register_with_threadpoolctl() -> None:
    """Let ``threadpoolctl.threadpool_limits`` (what scikit-learn and others use to stop
    nested parallelism) limit tiedhmm's kernels too, when threadpoolctl is installed:
    its limits go through :func:`set_threads`. The controller is found through Numba's
    helper library, loaded whenever tiedhmm is."""
    try:
        import threadpoolctl
    except ImportError:
        return

    class TiedhmmKernels(threadpoolctl.LibController):  # type: ignore[misc]
        """threadpoolctl's view of tiedhmm's kernel threads (OpenMP under Numba)."""

        user_api = "openmp"
        internal_api = "tiedhmm"
        filename_prefixes = ("_helperlib",)

        def get_num_threads(self) -> int:
            return get_threads()

        def set_num_threads(self, num_threads: int) -> None:
            set_threads(num_threads)

        def get_version(self) -> str:
            return str(numba.__version__)

    threadpoolctl.register(TiedhmmKernels)


_register_with_threadpoolctl()


def worker_threads() -> int:
    """Threads a kernel uses on a Dask worker: ``TIEDHMM_WORKER_THREADS``, default 1."""
    return _checked_threads(os.environ.get("TIEDHMM_WORKER_THREADS", "1"),
                            "TIEDHMM_WORKER_THREADS")

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
    with using_threads(worker_threads()):
        loglik, group_stats, unit = make_source(owner, payload)()
    return loglik, keyed_by_position(_groups_of(owner), group_stats), unit


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
               chunks: Sequence[Any]) -> list[Any]:
    """``function(owner, chunk)`` for every chunk as Dask tasks, results in order."""
    shipped = client.scatter(owner, broadcast=True, hash=False)
    futures = [client.submit(_on_worker, function, shipped, chunk, pure=False)
               for chunk in chunks]
    results: list[Any] = client.gather(futures)
    return results


def _on_worker(function: Callable[[Any, Any], Any], owner: Any, chunk: Any) -> Any:
    """``function(owner, chunk)`` on a worker, its kernels on :func:`worker_threads`."""
    with using_threads(worker_threads()):
        return function(owner, chunk)
