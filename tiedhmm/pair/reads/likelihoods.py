"""P(read | haplotype) for every read and haplotype of a region: GATK's pair HMM.

The model is GATK's ``LoglessPairHMM`` (what HaplotypeCaller and Intel GKL compute):
match, insert and delete states over read x haplotype; at read position ``i``
``M->M = 1 - (e_ins + e_del)``, ``M->I = e_ins``, ``M->D = e_del``,
``I->I = D->D = e_gcp``, ``I->M = D->M = 1 - e_gcp`` with ``e = 10**(-Q/10)``; a match
emits ``1 - e_base`` when the letters agree or either is ``N``, else ``e_base / 3``;
the read may start at any haplotype position (probability ``1 / length``) and ends
anywhere in M or I. A :class:`~tiedhmm.pair.reads.ReadContextModel` replaces the
quality-derived gap probabilities with ones fitted per repeat context.

Precision as GKL does it: ``float32`` first, then ``float64`` for every pair whose
``float32`` sum is too small to trust (the bound in :mod:`tiedhmm._kernels.reads`:
the dropped mass is at most 1e-6 of the result) or not finite; or ``float64`` alone.
The ``float64`` pass rescales by powers of two, so 10 kb reads against 20 kb
haplotypes stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..._kernels import reads as kernel
from ...errors import InvalidDataError
from ...parallel import chunk_bounds, kernel_threads, map_chunks, n_chunks, split, using_threads
from .inputs import Letters, Qualities, Sequences, label, per_read, phred, sequences


class ContextModel(Protocol):
    """What the kernel needs of a read model with gaps by haplotype context
    (:class:`~tiedhmm.pair.reads.ReadContextModel`)."""

    def column_contexts(self, haplotypes: Sequences) -> np.ndarray:
        """The context of every column of every haplotype, end to end."""

    def transition_table(self) -> np.ndarray:
        """Every context's transitions, ``(contexts, 5)``."""

#: Lane counts the kernel is compiled for: one read against this many haplotypes at once.
LANE_COUNTS = (4, 8, 16)
#: Reads with fewer haplotypes to score than this go the other way: one haplotype
#: against 16 reads at once (measured with ``scripts/bench_reads.py``).
READ_LANES_BELOW = 8
#: ``float32`` starts the deletion row at this over the haplotype length (GKL's 2**120).
FLOAT32_INITIAL = 2.0 ** 120
#: Values below these are set to zero (no subnormal arithmetic; see the kernel).
FLUSH_FLOAT32, FLUSH_FLOAT64 = 1e-18, 1e-280
#: A ``float32`` pair is recomputed when its sum is below ``3 x cells x flush`` over
#: this: the most mass flushing can drop, as a share of the result.
TRUSTED_SHARE = 1e-6
#: ``float64`` rows are rescaled this often (any 8 rows lose less than 1e-200).
RESCALE_EVERY = 8
PRECISIONS = ("mixed", "double")


@dataclass(frozen=True)
class ReadBatch:
    """Reads with the kernel's per-position parameters (:func:`read_parameters`)."""

    reads: Sequences
    parameters: np.ndarray


@dataclass(frozen=True)
class HaplotypeBatch:
    """Haplotypes, and for a context model the context of every column and the
    transitions of every context."""

    haplotypes: Sequences
    contexts: np.ndarray
    table: np.ndarray

    @property
    def by_column(self) -> bool:
        """Whether the transitions come from the haplotype contexts."""
        return bool(self.table.shape[0] > 0)


def read_parameters(base: np.ndarray, insertion: np.ndarray, deletion: np.ndarray,
                    continuation: np.ndarray) -> np.ndarray:
    """The kernel's ``(n, 7)`` parameters of one read from its phred qualities."""
    error = [10.0 ** (-np.asarray(q, dtype=float) / 10.0)
             for q in (base, insertion, deletion, continuation)]
    parameters = np.empty((len(error[0]), kernel.N_PARAMETERS))
    parameters[:, kernel.MATCH] = 1.0 - error[0]
    parameters[:, kernel.MISMATCH] = error[0] / 3.0
    parameters[:, kernel.MATCH_TO_MATCH] = np.clip(1.0 - (error[1] + error[2]), 0.0, 1.0)
    parameters[:, kernel.GAP_TO_MATCH] = 1.0 - error[3]
    parameters[:, kernel.MATCH_TO_INSERT] = error[1]
    parameters[:, kernel.GAP_EXTEND] = error[3]
    parameters[:, kernel.MATCH_TO_DELETE] = error[2]
    return parameters


def read_batch(reads: Sequence[Letters], base_quals: Sequence[Qualities],
               ins_quals: Sequence[Qualities] | int | None,
               del_quals: Sequence[Qualities] | int | None,
               gcp: Sequence[Qualities] | int | None, *, names: Sequence[str] | None = None,
               gaps_from_model: bool = False) -> ReadBatch:
    """Reads and their qualities checked (errors name the read) into a batch; with
    ``gaps_from_model`` the gap qualities are not needed."""
    stored = sequences(reads, "read", names)
    n_reads = len(stored)
    if names is not None and len(names) != n_reads:
        raise InvalidDataError(f"{len(names)} names for {n_reads} reads")
    base_list = per_read(base_quals, n_reads, "base qualities")
    gap_lists = [per_read(0 if gaps_from_model and values is None else values, n_reads, what)
                 for values, what in ((ins_quals, "insertion qualities"),
                                      (del_quals, "deletion qualities"),
                                      (gcp, "gap continuation penalties"))]
    parameters = []
    for k, length in enumerate(stored.lengths):
        where = label("read", k, names)
        qualities = [phred(values[k], int(length), f"{what} of {where}") for values, what in
                     ((base_list, "base qualities"), (gap_lists[0], "insertion qualities"),
                      (gap_lists[1], "deletion qualities"),
                      (gap_lists[2], "gap continuation penalties"))]
        parameters.append(read_parameters(*qualities))
    return ReadBatch(stored, np.concatenate(parameters))


def haplotype_batch(haplotypes: Sequence[Letters],
                    model: ContextModel | None = None) -> HaplotypeBatch:
    """Haplotypes checked, with a context model's contexts and transitions."""
    stored = sequences(haplotypes, "haplotype")
    if model is None:
        return HaplotypeBatch(stored, np.zeros(0, dtype=np.int64),
                              np.zeros((0, kernel.N_COLUMN_TRANSITIONS)))
    return HaplotypeBatch(stored, model.column_contexts(stored), model.transition_table())


def read_likelihoods(haplotypes: Sequence[Letters], reads: Sequence[Letters],
                     base_quals: Sequence[Qualities],
                     ins_quals: Sequence[Qualities] | int | None = None,
                     del_quals: Sequence[Qualities] | int | None = None,
                     gcp: Sequence[Qualities] | int | None = None, *,
                     model: ContextModel | None = None, precision: str = "mixed",
                     names: Sequence[str] | None = None, threads: int | None = None,
                     client: Any = None) -> np.ndarray:
    """Log10 P(read | haplotype) of every read against every haplotype (GATK's pair HMM).

    Parameters
    ----------
    haplotypes : sequence of str, bytes, Bio.Seq.Seq or numpy.ndarray
        The candidate haplotypes (letters ACGTN, either case; a ``uint8`` array holds
        ASCII letters or codes 0-4).
    reads : sequence of the same
        The reads.
    base_quals : sequence of str, bytes or int arrays
        Each read's base qualities: phred+33 text or phred integers 0-93, used as
        given (see :func:`gatk_qualities` for GATK's preprocessing).
    ins_quals, del_quals, gcp : sequence, or int for every base of every read
        Insertion and deletion qualities and gap continuation penalties, likewise;
        required unless ``model`` is given (its gap probabilities replace them).
    model : ReadContextModel, optional
        Gap-open and gap-continuation probabilities by the repeat context of each
        haplotype position, fitted by EM.
    precision : {"mixed", "double"}, default "mixed"
        ``"mixed"``: ``float32``, and ``float64`` for every pair whose ``float32``
        result is too small to trust (results equal ``"double"`` within 1e-5 in
        log10); ``"double"``: ``float64`` only.
    names : sequence of str, optional
        Read names, used in error messages.
    threads : int, optional
        Threads for this call (see :func:`tiedhmm.set_threads`).
    client : distributed.Client, optional
        Spread the reads over a Dask cluster (the ``[distributed]`` extra).

    Returns
    -------
    numpy.ndarray
        ``(n_reads, n_haplotypes)`` float64 log10 likelihoods.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        An empty read or haplotype, a letter outside ACGTN, qualities outside 0-93 or
        of another length than their read, or lists of different lengths; the message
        names the read.

    Examples
    --------
    >>> import tiedhmm as th
    >>> th.read_likelihoods(["ACGTACGT", "ACGAACGT"], ["GTAC"], ["IIII"], 45, 45, 10
    ...                     ).round(3)
    array([[-0.949, -5.379]])
    """
    if precision not in PRECISIONS:
        raise InvalidDataError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    haplotype_set = haplotype_batch(haplotypes, model)
    batch = read_batch(reads, base_quals, ins_quals, del_quals, gcp, names=names,
                       gaps_from_model=model is not None)
    if client is not None:
        chunks = [_read_slice(batch, part) for part in
                  split(range(len(batch.reads)), n_chunks(client, len(batch.reads)))]
        rows = map_chunks(client, _likelihoods_on_worker, (haplotype_set, precision), chunks)
        return np.concatenate(rows)
    with using_threads(threads):
        return likelihoods(haplotype_set, batch, precision)


def likelihoods(haplotypes: HaplotypeBatch, batch: ReadBatch, precision: str = "mixed"
                ) -> np.ndarray:
    """:func:`read_likelihoods` on checked batches, in this process."""
    n_reads, n_haplotypes = len(batch.reads), len(haplotypes.haplotypes)
    out = np.empty((n_reads, n_haplotypes))
    flagged = np.zeros((n_reads, n_haplotypes), dtype=np.bool_)
    every = np.ones((n_reads, n_haplotypes), dtype=np.bool_)
    if precision == "double":
        _run(haplotypes, batch, every, True, out, flagged)
        return out
    _run(haplotypes, batch, every, False, out, flagged)
    if flagged.any():
        _run(haplotypes, batch, flagged, True, out, np.zeros_like(flagged))
    return out


def _likelihoods_on_worker(job: tuple[HaplotypeBatch, str], batch: ReadBatch) -> np.ndarray:
    return likelihoods(job[0], batch, job[1])


def _read_slice(batch: ReadBatch, part: Sequence[int]) -> ReadBatch:
    """Reads ``part`` (contiguous) of a batch."""
    first, last = part[0], part[-1] + 1
    lo, hi = batch.reads.starts[first], batch.reads.starts[last]
    return ReadBatch(Sequences(batch.reads.bits[lo:hi], batch.reads.starts[first:last + 1] - lo),
                     batch.parameters[lo:hi])


def _run(haplotypes: HaplotypeBatch, batch: ReadBatch, wanted: np.ndarray, double: bool,
         out: np.ndarray, flagged: np.ndarray) -> None:
    """The kernel on the ``wanted`` pairs, in ``float64`` or ``float32``: one read
    against up to 16 haplotypes per task, or, where reads have fewer haplotypes to
    score than :data:`READ_LANES_BELOW` (GATK's model, ``float32``), one haplotype
    against up to 16 reads."""
    hap_lengths, read_lengths = haplotypes.haplotypes.lengths, batch.reads.lengths
    per_read = wanted.sum(axis=1)
    # (float32 only: along a transposed row the read's depth varies, so the float64
    # pass's row rescaling would leave the deep columns to underflow)
    by_reads = not double and not haplotypes.by_column and per_read.max() < READ_LANES_BELOW
    if by_reads:
        lanes = LANE_COUNTS[-1]
        singles, groups = _tasks(wanted.T, read_lengths, lanes)
        haps, reads = singles[:, None], groups
        work = (read_lengths[np.maximum(reads, 0)].max(axis=1) + 1) * lanes \
            * hap_lengths[singles]
        mode = kernel.ALL_BY_COLUMN
    else:
        lanes = next((n for n in LANE_COUNTS if n >= per_read.max()), LANE_COUNTS[-1])
        singles, groups = _tasks(wanted, hap_lengths, lanes)
        reads, haps = singles[:, None], groups
        work = read_lengths[singles] * (hap_lengths[np.maximum(haps, 0)].max(axis=1) + 1) \
            * lanes
        mode = kernel.COLUMN_TRANSITIONS_MODE if haplotypes.by_column \
            else kernel.ROW_PARAMETERS
    with kernel_threads(float(work.sum())):
        kernel.read_likelihoods(
            lanes, mode, reads, haps, chunk_bounds(work),
            batch.reads.bits, batch.reads.starts, batch.parameters,
            haplotypes.haplotypes.bits, haplotypes.haplotypes.starts, haplotypes.contexts,
            haplotypes.table, 1.0 if double else FLOAT32_INITIAL,
            FLUSH_FLOAT64 if double else FLUSH_FLOAT32, RESCALE_EVERY if double else 0,
            0.0 if double else 3 * FLUSH_FLOAT32 / TRUSTED_SHARE, out, flagged,
            np.float64 if double else np.float32)


def _tasks(wanted: np.ndarray, lengths: np.ndarray, lanes: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Tasks of one row of ``wanted`` (a read, or a haplotype) against up to ``lanes``
    of its columns, the columns sorted by ``lengths`` so that a task's lanes have
    similar lengths; ``-1`` pads. Returns the rows and the ``(tasks, lanes)`` columns."""
    by_length = np.argsort(lengths, kind="stable")
    rows, groups = [], []
    for row in np.flatnonzero(wanted.sum(axis=1)):
        chosen = by_length[wanted[row, by_length]]
        for start in range(0, len(chosen), lanes):
            group = np.full(lanes, -1, dtype=np.int64)
            group[:len(chosen[start:start + lanes])] = chosen[start:start + lanes]
            rows.append(row)
            groups.append(group)
    return np.array(rows, dtype=np.int64), np.array(groups, dtype=np.int64).reshape(-1, lanes)
