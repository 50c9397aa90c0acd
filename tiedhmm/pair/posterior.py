"""Posterior work on pairs in bounded memory: the plan of each pair, one pass, batches.

Everything that needs posteriors (match posteriors dense or sparse, MEA alignments and
expected accuracy, the EM E-step) runs the kernels' fused posterior pass
(:func:`tiedhmm._kernels.pair.posterior_pass`), planned per pair against a memory
limit (``memory=``; by default 2 GiB, or what is available if that is less):

- without counts, the forward of the match state alone is kept (8 bytes a cell) when
  it fits: one forward pass and one backward pass;
- otherwise (always for EM) a pair whose whole forward is small
  (:data:`WHOLE_FORWARD_BYTES`) is one block and recomputes nothing; any other has its
  forward checkpointed: two diagonals per block of :data:`FAST_BLOCK` diagonals, or of
  about ``sqrt(2 (n + m))`` (about the least memory) when blocks of
  :data:`FAST_BLOCK` would take more than twice that memory; each block is recomputed
  during the backward, which costs one more forward pass and ``O((n + m)^1.5)``
  memory. The first of these that fits the limit is taken.

What the call returns is counted too: a dense posterior takes 8 bytes a cell, MEA moves
1 byte a cell; a sparse posterior's lists may need ``min(n, m) / threshold`` entries
(a row's posteriors sum to at most 1) while its pair runs, and what it returns is
estimated at :data:`TYPICAL_ENTRIES_PER_RESIDUE`. Work that does not fit even
checkpointed raises :class:`~tiedhmm.errors.MemoryLimitError` before it starts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from .. import parallel
from .._kernels import hmm as hmm_kernels
from .._kernels import pair as kernels
from .._kernels.sparse import csr_from_entries
from ..em.loop import GroupStats, StatisticsSource
from ..emissions.pair import state_statistics
from ..errors import InvalidDataError, MemoryLimitError
from ..io import checks
from ..io.checks import memory_guard, memory_size, parse_memory
from ..tying import Topology
from .inference import CompiledPair, EncodedPairs, raise_if_impossible
from .states import PairState

#: The memory limit of posterior work when the call sets none.
DEFAULT_MEMORY = 2 * 2**30
#: A pair whose whole forward takes at most this is one block (no recomputation).
#: EM of random protein pairs, one thread, whole forward against blocks of 64
#: diagonals: 0.306 / 0.258 of the forward's cells/s at 500 letters (Durbin, 8.0 MB),
#: 0.288 / 0.255 at 600 (11.5 MB), 0.272 / 0.242 (ProbCons-style, 500 letters, 12 MB);
#: above it the whole forward leaves the cache, and loses: 0.193 / 0.223 at 14.5 MB
#: (ProbCons-style, 560 letters), and on two threads 0.223 / 0.262 at 15.7 MB (Durbin,
#: 700 letters). (A 32 MiB L3 cache shared by two cores.)
WHOLE_FORWARD_BYTES = 12 * 2**20
#: Diagonals of a checkpointed block when its memory allows (:func:`plan`): the block
#: recomputed in the backward then stays in cache better than the leanest block's
#: ``sqrt(2 (n + m))`` diagonals. EM of random protein pairs, ProbCons-style model, one
#: thread: 0.218 against 0.184 of the forward's cells/s at 5,000 letters (142
#: diagonals), 0.145 against 0.133 at 8,000 (179), 0.208-0.226 against 0.194-0.208 at
#: 3,000 (110; on two threads 0.211 against 0.193); level at 2,000 and for the Durbin
#: preset.
FAST_BLOCK = 64
#: Workspaces up to this size are kept per thread for the next call.
KEPT_WORKSPACE_BYTES = 64 * 2**20
#: Bytes of one kept sparse entry while the pair runs (row, column, value), for each of
#: the entries its lists may need (:func:`tiedhmm._kernels.pair.kept_capacity`).
SPARSE_ENTRY_BYTES = 24
#: Bytes of one entry of a returned CSR matrix (column index and value).
CSR_ENTRY_BYTES = 12
#: Sparse entries a residue of the shorter sequence keeps, as estimated for what a call
#: returns: 1-10 measured at threshold 0.01 on BAliBASE pairs (the bound, 1 / threshold,
#: is only assumed for the pairs running at once).
TYPICAL_ENTRIES_PER_RESIDUE = 16

_thread_state = threading.local()
_executor: tuple[ThreadPoolExecutor, int] | None = None


@dataclass(frozen=True)
class Plan:
    """How one pair's posterior pass keeps its forward (``block``: 0 keeps the match
    forward only, else checkpoints every ``block`` diagonals) and what it needs."""

    n: int
    m: int
    block: int
    workspace: int  # doubles
    transient: int  # bytes of the MEA table, a workspace too
    kept: int  # bytes of what the call returns (dense or sparse posteriors)

    @property
    def working(self) -> int:
        """Bytes while the pair runs, besides what it returns."""
        return 8 * self.workspace + self.transient


def memory_limit(memory: int | str | None) -> int:
    """Bytes posterior work may take: ``memory`` (bytes, or a size such as ``"512M"``),
    by default :data:`DEFAULT_MEMORY`, and never more than is available."""
    limit = DEFAULT_MEMORY if memory is None else parse_memory(memory)
    return min(limit, checks.available_memory())


def plan(model: CompiledPair, n: int, m: int, budget: int, *, counts: bool = False,
         dense: bool = False, moves: bool = False, threshold: float | None = None) -> Plan:
    """The plan of an ``n x m`` pair within ``budget`` bytes if one fits, else the
    leanest (which the caller's check then refuses)."""
    transient = (n + 1) * (m + 1) * moves
    kept = 8 * n * m * dense
    if threshold is not None:
        bound = sparse_entries(n, m, threshold)
        transient += SPARSE_ENTRY_BYTES * int(kernels.kept_capacity(n, m, threshold))
        kept += CSR_ENTRY_BYTES * min(bound, TYPICAL_ENTRIES_PER_RESIDUE * min(n, m))

    def in_blocks(block: int) -> Plan:
        size = int(kernels.workspace_size(n, m, model.dx, model.dy, block))
        return Plan(n, m, block, size, transient, kept)

    if not counts:
        match_kept = in_blocks(0)
        if match_kept.working + kept <= budget:
            return match_kept
    if 8 * (len(model.dx) + 1) * (n + 1) * (m + 1) <= WHOLE_FORWARD_BYTES:
        whole = in_blocks(n + m)
        if whole.working + kept <= budget:
            return whole
    lean = in_blocks(max(16, math.isqrt(2 * (n + m)) + 1))
    fast = in_blocks(min(lean.block, FAST_BLOCK))
    if fast.workspace <= 2 * lean.workspace and (fast.working + kept <= budget
                                                 or fast.workspace <= lean.workspace):
        return fast
    return lean


def sparse_entries(n: int, m: int, threshold: float) -> int:
    """At most how many posteriors of an ``n x m`` pair reach ``threshold`` (each row's
    posteriors sum to at most 1)."""
    return min(n * m, math.ceil(min(n, m) / threshold))


def check(plans: Sequence[Plan], limit: int, memory: int | str | None, what: str) -> None:
    """MemoryLimitError, naming the largest pair and the sizes, when the work of the
    pairs one call may run at once (one per thread) and all it returns exceed ``limit``."""
    at_once = min(len(plans), parallel.get_threads())
    largest = max(plans, key=lambda p: p.working + p.kept)
    needed = max(p.working for p in plans) * at_once + sum(p.kept for p in plans)
    if needed <= limit:
        return
    capped = memory is not None and parse_memory(memory) <= checks.available_memory()
    source = "the memory= limit" if capped else "available"
    threads = f" ({at_once} pairs at once, one per thread)" if at_once > 1 else ""
    raise MemoryLimitError(
        f"{what} of a {largest.n} x {largest.m} pair: about {memory_size(needed)} needed "
        f"even with a checkpointed forward{threads}, but {memory_size(limit)} is {source}; "
        f"raise memory=, ask for sparse posteriors (threshold=), or align with "
        f"method='viterbi' (no posteriors: memory that grows as (n + m)^1.5)")


def reused_buffer(size: int, dtype: Any = np.float64, name: str = "workspace") -> np.ndarray:
    """A buffer of at least ``size`` items, reused across calls in this thread (a fresh
    allocation above the allocator's mmap threshold costs page faults every call); one
    per ``name``, kept while at most :data:`KEPT_WORKSPACE_BYTES`."""
    kept: np.ndarray | None = getattr(_thread_state, name, None)
    if kept is not None and kept.size >= size:
        return kept
    buffer = np.empty(size, dtype=dtype)
    if buffer.nbytes <= KEPT_WORKSPACE_BYTES:
        setattr(_thread_state, name, buffer)
    return buffer


def _pool(workers: int) -> ThreadPoolExecutor:
    """``workers`` threads kept across calls (and so are their workspaces)."""
    global _executor
    if _executor is None or _executor[1] != workers:
        if _executor is not None:
            _executor[0].shutdown()
        _executor = (ThreadPoolExecutor(workers, "tiedhmm-posterior"), workers)
    return _executor[0]


@dataclass
class PassResult:
    """What one pair's posterior pass found."""

    loglik: float
    mea_score: float
    posterior: np.ndarray | scipy.sparse.csr_matrix | None
    #: ``(len(x), len(y))``.
    shape: tuple[int, int]


def run(model: CompiledPair, codes_x: np.ndarray, codes_y: np.ndarray, pair_plan: Plan, *,
        dense: bool = False, threshold: float | None = None,
        accuracy: bool = False) -> PassResult:
    """One pair's posterior pass by its plan (no counts or moves: EM and MEA alignments
    go through batches); the MEA score is computed when ``accuracy`` is asked for."""
    n, m = codes_x.size, codes_y.size
    n_states = len(model.dx)
    posterior = np.zeros((n, m)) if dense else np.empty((0, 0))
    unused = (np.zeros((n_states, n_states)), np.zeros(n_states), np.zeros(n_states),
              np.zeros(model.emission.shape))
    loglik, score, rows, columns, values, _ = kernels.posterior_pass(
        codes_x, codes_y, *model.probabilities, pair_plan.block,
        reused_buffer(pair_plan.workspace), False, *unused, posterior,
        0.0 if threshold is None else threshold, accuracy, np.empty(0, dtype=np.uint8),
        kernels.BAND_MIN_CELLS)
    if threshold is not None:
        posterior = _csr(rows, columns, values, n, m)
    return PassResult(float(loglik), float(score),
                      posterior if dense or threshold is not None else None, (n, m))


def _csr(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n: int,
         m: int) -> scipy.sparse.csr_matrix:
    """The ``(n, m)`` CSR matrix of distinct entries, rows sorted and columns sorted
    within them (as scipy's COO route makes it, in a fraction of the time: that route
    cost as much as a 110-letter pair's whole posterior pass)."""
    indptr, indices, data = csr_from_entries(rows, columns, values, n)
    index = np.int32 if max(n, m, values.size) < np.iinfo(np.int32).max else np.int64
    return scipy.sparse.csr_matrix((data, indices.astype(index), indptr.astype(index)),
                                   shape=(n, m))


def check_threshold(threshold: float | None) -> None:
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise InvalidDataError(f"threshold must be in (0, 1] (posteriors at least it are "
                               f"kept), got {threshold!r}")


def _each_pair(model: CompiledPair, pairs: Sequence[tuple[np.ndarray, np.ndarray]],
               memory: int | str | None, what: str, result: Callable[[PassResult], Any],
               **options: Any) -> list[Any]:
    """``result`` of every encoded pair's posterior pass, planned together within
    ``memory`` and run in parallel over pairs on threads (the pass releases the GIL)."""
    limit = memory_limit(memory)
    work = sum(x.size * y.size for x, y in pairs) * len(model.dx)
    at_once = 1 if work < parallel.SERIAL_WORK else min(len(pairs), parallel.get_threads())
    sizes = {key: value for key, value in options.items() if key != "accuracy"}  # no bytes
    plans = [plan(model, x.size, y.size, limit // at_once, **sizes) for x, y in pairs]
    check(plans, limit, memory, what)

    def one(index: int) -> Any:
        found = run(model, *pairs[index], plans[index], **options)
        raise_if_impossible(found.loglik, f"pair {index}" if len(pairs) > 1 else "the pair")
        return result(found)

    largest = max(plans, key=lambda p: p.working + p.kept)
    with memory_guard(f"{what} of a {largest.n} x {largest.m} pair", "raise memory="):
        if at_once == 1:
            return [one(index) for index in range(len(pairs))]
        return list(_pool(at_once).map(one, range(len(pairs))))


def posteriors(model: CompiledPair, pairs: Sequence[tuple[np.ndarray, np.ndarray]], *,
               threshold: float | None, memory: int | str | None) -> list[Any]:
    """Match posteriors of encoded pairs, dense or (with ``threshold``) CSR."""
    check_threshold(threshold)
    return _each_pair(model, pairs, memory, "posteriors", lambda found: found.posterior,
                      dense=threshold is None, threshold=threshold)


def sparse_posteriors_and_accuracies(
        model: CompiledPair, pairs: Sequence[tuple[np.ndarray, np.ndarray]], *,
        threshold: float, memory: int | str | None) -> list[tuple[scipy.sparse.csr_matrix,
                                                                  float]]:
    """Each encoded pair's CSR match posteriors at least ``threshold`` and its expected
    accuracy (MEA score over the shorter length), from one pass: what multiple
    alignment needs of every pair."""
    check_threshold(threshold)
    return _each_pair(model, pairs, memory, "posteriors",
                      lambda found: (found.posterior, found.mea_score
                                     / max(1, min(found.shape))),
                      threshold=threshold, accuracy=True)


def batch_work(model: CompiledPair, encoded: EncodedPairs) -> int:
    """The work of one pass over encoded pairs: cells x states (the threading policy's
    measure, see :mod:`tiedhmm.parallel`)."""
    return sum(n * m for n, m in encoded.lengths) * len(model.dx)


@dataclass(frozen=True)
class BatchPlan:
    """How a batch kernel runs encoded pairs: chunks of pairs (by cells), each pair's
    block (:class:`Plan`), and the sizes of one thread's workspace and MEA table."""

    chunks: np.ndarray
    blocks: np.ndarray
    workspace: int  # doubles
    table: int  # bytes

    def workspaces(self, threads: int) -> np.ndarray:
        """One workspace row per thread the kernel runs chunks on (:func:`thread_rows`)."""
        return thread_rows(self._rows(threads), self.workspace, np.float64, "workspace")

    def tables(self, threads: int) -> np.ndarray:
        """One MEA table row per thread (width 0 when no moves are kept)."""
        return thread_rows(self._rows(threads), self.table, np.uint8, "moves")

    def _rows(self, threads: int) -> int:
        return min(threads, len(self.chunks) - 1)


def _batch_plan(model: CompiledPair, encoded: EncodedPairs, memory: int | str | None,
                what: str, counts: bool, moves: bool = False) -> BatchPlan:
    """The :class:`BatchPlan` of a batch kernel's pass over ``encoded`` within
    ``memory`` (checked: :class:`~tiedhmm.errors.MemoryLimitError` before any work)."""
    cells = np.concatenate(([0], np.cumsum(np.diff(encoded.x_offsets)
                                           * np.diff(encoded.y_offsets) + 1)))
    count = parallel.chunk_count(batch_work(model, encoded), len(encoded.lengths))
    chunks = hmm_kernels.sequence_chunks(cells, count)
    limit = memory_limit(memory)
    at_once = min(len(chunks) - 1, parallel.get_threads())
    plans = [plan(model, n, m, limit // at_once, counts=counts, moves=moves)
             for n, m in encoded.lengths]
    check(plans, limit, memory, what)
    return BatchPlan(chunks, np.array([p.block for p in plans], dtype=np.int64),
                     max(p.workspace for p in plans),
                     max((n + 1) * (m + 1) for n, m in encoded.lengths) if moves else 0)


def thread_rows(count: int, size: int, dtype: Any, name: str) -> np.ndarray:
    """``count`` rows of ``size`` items, one per thread of a batch kernel's launch
    (:func:`tiedhmm._kernels.pair._thread_row`), kept across calls as
    :func:`reused_buffer` keeps a buffer."""
    return reused_buffer(count * size, dtype, name)[:count * size].reshape(count, size)


def _batch_mea(model: CompiledPair, encoded: EncodedPairs, batch: BatchPlan, what: str
               ) -> tuple[np.ndarray, ...]:
    """:func:`tiedhmm._kernels.pair.batch_mea` of the pairs by ``batch`` (moves kept
    when it plans a table)."""
    with memory_guard(what, "raise memory="), \
            parallel.kernel_threads(batch_work(model, encoded)) as threads:
        found: tuple[np.ndarray, ...] = kernels.batch_mea(
            *encoded, batch.chunks, batch.blocks, kernels.BAND_MIN_CELLS,
            batch.workspaces(threads), batch.tables(threads), *model.probabilities)
    return found


def expected_accuracies(model: CompiledPair, encoded: EncodedPairs,
                        memory: int | str | None) -> tuple[np.ndarray, np.ndarray]:
    """Expected accuracy (MEA score over the shorter length) and log P of every pair."""
    batch = _batch_plan(model, encoded, memory, "expected accuracy", False)
    score, loglik, _, _ = _batch_mea(model, encoded, batch, "expected accuracy")
    shorter = np.minimum(np.diff(encoded.x_offsets), np.diff(encoded.y_offsets))
    return score / np.maximum(1, shorter), loglik


def mea_alignments(model: CompiledPair, encoded: EncodedPairs,
                   memory: int | str | None) -> list[tuple[float, np.ndarray]]:
    """Each encoded pair's MEA alignment: its summed match posteriors and its moves
    (0 match, 1 x gap, 2 y gap), in parallel over pairs."""
    batch = _batch_plan(model, encoded, memory, "an MEA alignment", False, moves=True)
    score, loglik, moves, lengths = _batch_mea(model, encoded, batch, "an MEA alignment")
    n_pairs = len(lengths)
    alignments = []
    for p in range(n_pairs):
        raise_if_impossible(loglik[p], f"pair {p}" if n_pairs > 1 else "the pair")
        first = encoded.x_offsets[p] + encoded.y_offsets[p]
        alignments.append((float(score[p]), moves[first:first + lengths[p]]))
    return alignments


def statistics_source(states: Sequence[PairState], topology: Topology,
                      compiled: Callable[[], CompiledPair], encoded: EncodedPairs,
                      memory: int | str | None = None) -> StatisticsSource:
    """An EM statistics source: one E-step of the pairs under the current parameters
    (``compiled()`` is asked each iteration), each state's group with its statistics.
    Memory is planned, and checked, before the first iteration."""
    batch = _batch_plan(compiled(), encoded, memory, "EM", True)

    def source() -> tuple[np.ndarray, GroupStats, str]:
        model = compiled()
        with memory_guard("EM", "raise memory="), \
                parallel.kernel_threads(batch_work(model, encoded)) as threads:
            loglik, transitions, starts, ends, emissions = kernels.batch_expectations(
                *encoded, batch.chunks, batch.blocks, kernels.BAND_MIN_CELLS,
                batch.workspaces(threads), *model.probabilities)
        emission_stats = [(state.emission,
                           state_statistics(state.emission, model.dx[k], model.dy[k],
                                            model.membership, model.emission[k],
                                            emissions[k]))
                          for k, state in enumerate(states)]
        transition_stats = topology.transition_statistics(
            transitions, starts, None if topology.free_end else ends)
        return (loglik, emission_stats + list(zip(topology.transition_groups,
                                                  transition_stats)), "pair")
    return source
