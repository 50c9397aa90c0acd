"""A read model whose indel probabilities are tied by repeat context, fitted by EM.

Indel errors in sequencing reads depend on the sequence around them, above all on
short tandem repeats (polymerase slippage): DRAGEN tabulates gap-open and
gap-extension penalties by repeat period and length. :class:`ReadContextModel` keeps
GATK's pair HMM with its base-quality match emissions, but takes the gap probabilities
from the haplotype: every column's context (:mod:`~tiedhmm.pair.reads.contexts`)
names two transition groups, and every column of that context, in every haplotype and
every pair, shares them by identity:

- ``open``: out of M, the outcomes ``match``, ``insert`` and ``delete``;
- ``extend``: out of I or D, ``extend`` (stay in the gap) and ``match``.

Baum-Welch pools the expected transition counts of all pairs per group (the library's
EM: frozen groups stay as they are, soft ties pull each context toward the pooled
estimate of all contexts, so rare contexts borrow strength).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..._kernels import reads as kernel
from ...em import StatisticsSource
from ...em.model import EMModel
from ...errors import InvalidDataError
from ...io.records import GroupReader, GroupWriter
from ...parallel import chunk_bounds, kernel_threads, using_threads
from ...tying import SoftTie, TransitionGroup
from .contexts import column_contexts, context_count, context_label
from .inputs import Letters, Qualities, Sequences
from .likelihoods import HaplotypeBatch, ReadBatch, haplotype_batch, likelihoods, read_batch

OPEN_OUTCOMES = ("match", "insert", "delete")
EXTEND_OUTCOMES = ("extend", "match")
READ_MODEL_FORMAT = "tiedhmm-read-context-model"


class ReadContextModel(EMModel):
    """GATK's read pair HMM with gap probabilities tied by repeat context, fitted by EM.

    Parameters
    ----------
    max_period : int, default 8
        The longest repeat period told apart.
    max_repeat : int, default 20
        Repeat lengths (whole units) above it count as it.
    gap_open : float, default 10**-4.5
        Starting probability of opening an insertion, and of a deletion (GATK's
        default indel quality, 45).
    gap_extend : float, default 0.1
        Starting gap continuation probability (GATK's default penalty, 10).
    soft_tie : float, optional
        Strength of a soft tie among the contexts' ``open`` groups and among their
        ``extend`` groups (pseudo-observations pulling each toward the pooled
        estimate); None fits every context alone.
    n_iter : int, default 10
        The most EM iterations.
    tol : float, default 0.01
        EM stops when the log-likelihood gains less.
    verbose : bool, default False
        Print each iteration's log-likelihood.

    Attributes
    ----------
    open_groups : list of TransitionGroup
        One per context (index 0: non-repeats); set ``trainable = False`` to freeze.
    extend_groups : list of TransitionGroup
        Likewise.

    Examples
    --------
    >>> import tiedhmm as th
    >>> model = th.ReadContextModel(max_period=2, max_repeat=4)
    >>> model.context_names()[:3]
    ['non-repeat', 'period 1 x 2', 'period 1 x 3']
    >>> th.read_likelihoods(["ACGTTTTTGA"], ["ACGTTTTGA"], ["IIIIIIIII"],
    ...                     model=model).round(2)
    array([[-4.88]])
    """

    document_kind = READ_MODEL_FORMAT

    def __init__(self, max_period: int = 8, max_repeat: int = 20,
                 gap_open: float = 10 ** -4.5, gap_extend: float = 0.1,
                 soft_tie: float | None = None, n_iter: int = 10, tol: float = 1e-2,
                 verbose: bool = False) -> None:
        self.max_period = max_period
        self.max_repeat = max_repeat
        self.gap_open = gap_open
        self.gap_extend = gap_extend
        self.soft_tie = soft_tie
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        for name, value, low in (("max_period", max_period, 1), ("max_repeat", max_repeat, 2)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < low:
                raise InvalidDataError(f"{name} must be a whole number >= {low}, got {value!r}")
        if not (0 < gap_open < 0.5 and 0 < gap_extend < 1):
            raise InvalidDataError(f"gap_open must be in (0, 0.5) and gap_extend in (0, 1), "
                                   f"got {gap_open!r} and {gap_extend!r}")
        names = self.context_names()
        self.open_groups = [TransitionGroup(OPEN_OUTCOMES,
                                            [1 - 2 * gap_open, gap_open, gap_open],
                                            name=f"open {name}") for name in names]
        self.extend_groups = [TransitionGroup(EXTEND_OUTCOMES, [gap_extend, 1 - gap_extend],
                                              name=f"extend {name}") for name in names]

    def context_names(self) -> list[str]:
        """The name of every context, in index order (``"period 2 x 5"``).

        Returns
        -------
        list of str
            ``"non-repeat"`` first, then every period and repeat length.
        """
        return [context_label(k, self.max_repeat)
                for k in range(context_count(self.max_period, self.max_repeat))]

    def soft_ties(self) -> list[SoftTie]:
        """The soft ties ``soft_tie`` asks for (none when it is None).

        Returns
        -------
        list of SoftTie
            One among the ``open`` groups, one among the ``extend`` groups.
        """
        if self.soft_tie is None:
            return []
        return [SoftTie(self.open_groups, self.soft_tie),
                SoftTie(self.extend_groups, self.soft_tie)]

    def transition_table(self) -> np.ndarray:
        """Every context's transitions in the kernel's column order
        (:data:`tiedhmm._kernels.reads.COLUMN_TRANSITIONS`).

        Returns
        -------
        numpy.ndarray
            ``(contexts, 5)``: M->M, gap->M, M->I, gap->gap, M->D.
        """
        opens = np.array([group.current() for group in self.open_groups])
        extends = np.array([group.current() for group in self.extend_groups])
        return np.column_stack([opens[:, 0], extends[:, 1], opens[:, 1], extends[:, 0],
                                opens[:, 2]])

    def column_contexts(self, haplotypes: Sequences) -> np.ndarray:
        """The context of every column of every haplotype, end to end (haplotype ``h``
        has ``length + 1`` columns from ``starts[h] + h``).

        Parameters
        ----------
        haplotypes : Sequences
            Checked haplotypes.

        Returns
        -------
        numpy.ndarray
            ``int64`` context indices.
        """
        return np.concatenate([
            column_contexts(haplotypes.bits[a:b], self.max_period, self.max_repeat)
            for a, b in zip(haplotypes.starts[:-1], haplotypes.starts[1:], strict=True)])

    def fit(self, haplotypes: Sequence[Letters], reads: Sequence[Letters],
            base_quals: Sequence[Qualities], haplotype_of: Sequence[int] | None = None, *,
            names: Sequence[str] | None = None, threads: int | None = None,
            callback: Callable[[int, float], None] | None = None) -> ReadContextModel:
        """Fit the context groups by Baum-Welch over read x haplotype pairs.

        Parameters
        ----------
        haplotypes : sequence of str, bytes, Bio.Seq.Seq or numpy.ndarray
            The haplotypes the reads come from.
        reads : sequence of the same
            The reads.
        base_quals : sequence of str, bytes or int arrays
            Their base qualities (phred+33 text or integers), used as given.
        haplotype_of : sequence of int, optional
            The haplotype each read comes from; by default the most likely one under
            the model before fitting.
        names : sequence of str, optional
            Read names for error messages.
        threads : int, optional
            Threads for the E-steps.
        callback : callable, optional
            ``callback(iteration, loglik)`` after every iteration.

        Returns
        -------
        ReadContextModel
            This model, fitted in place (``monitor_`` holds the log-likelihoods).

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Bad reads, qualities or haplotypes (naming the read), or ``haplotype_of``
            of the wrong length or out of range.
        """
        haplotype_set = haplotype_batch(haplotypes, self)
        batch = read_batch(reads, base_quals, None, None, None, names=names,
                           gaps_from_model=True)
        with using_threads(threads):
            pairs = self._pairs(haplotype_set, batch, haplotype_of)
            self._run_em([self.statistics_source(haplotype_set, batch, pairs)],
                         soft_ties=self.soft_ties(), callback=callback)
        return self

    def statistics_source(self, haplotypes: HaplotypeBatch, batch: ReadBatch,
                          pairs: np.ndarray) -> StatisticsSource:
        """An EM statistics source over read x haplotype ``pairs`` (rows ``(read,
        haplotype)``): each E-step uses the model's current groups.

        Parameters
        ----------
        haplotypes : HaplotypeBatch
            Checked haplotypes with their contexts.
        batch : ReadBatch
            Checked reads.
        pairs : numpy.ndarray
            ``(n, 2)`` read and haplotype indices.

        Returns
        -------
        callable
            ``source()`` -> (natural-log likelihood per pair, group statistics, "pair").
        """
        reads_of, haps_of = (np.ascontiguousarray(pairs[:, k]) for k in (0, 1))
        work = batch.reads.lengths[reads_of] * haplotypes.haplotypes.lengths[haps_of]
        bounds = chunk_bounds(work)

        def source() -> tuple[np.ndarray, list[tuple[Any, Any]], str]:
            loglik = np.empty(len(pairs))
            with kernel_threads(float(work.sum())):
                open_counts, extend_counts = kernel.context_statistics(
                    reads_of, haps_of, bounds, batch.reads.bits,
                    batch.reads.starts, batch.parameters, haplotypes.haplotypes.bits,
                    haplotypes.haplotypes.starts, haplotypes.contexts,
                    self.transition_table(), loglik)
            stats = [(group, {"weight": np.array(counts.sum()), "counts": counts})
                     for groups, table in ((self.open_groups, open_counts),
                                           (self.extend_groups, extend_counts))
                     for group, counts in zip(groups, table, strict=True) if counts.sum() > 0]
            return loglik, stats, "pair"
        return source

    def _pairs(self, haplotypes: HaplotypeBatch, batch: ReadBatch,
               haplotype_of: Sequence[int] | None) -> np.ndarray:
        """``(read, haplotype)`` rows: as given, or each read's most likely haplotype."""
        n_reads, n_haplotypes = len(batch.reads), len(haplotypes.haplotypes)
        if haplotype_of is None:
            chosen = likelihoods(haplotypes, batch).argmax(axis=1)
        else:
            chosen = np.asarray(haplotype_of)
            if chosen.shape != (n_reads,) or not np.issubdtype(chosen.dtype, np.integer) \
                    or chosen.min() < 0 or chosen.max() >= n_haplotypes:
                raise InvalidDataError(f"haplotype_of must hold one haplotype index (0 to "
                                       f"{n_haplotypes - 1}) per read ({n_reads} reads), "
                                       f"got {chosen!r}")
        return np.column_stack([np.arange(n_reads), chosen]).astype(np.int64)

    def _document(self) -> dict[str, Any]:
        writer = GroupWriter()
        return {"settings": self.get_params(),
                "open": [writer.id(group) for group in self.open_groups],
                "extend": [writer.id(group) for group in self.extend_groups],
                "groups": writer.records}

    @classmethod
    def _from_document(cls, document: dict[str, Any], version: int) -> ReadContextModel:
        model = cls(**document["settings"])
        reader = GroupReader(document["groups"])
        opens = [reader.groups[k] for k in document["open"]]
        extends = [reader.groups[k] for k in document["extend"]]
        if len(opens) != len(model.open_groups) or len(extends) != len(model.extend_groups):
            raise InvalidDataError(f"{len(opens)} open and {len(extends)} extend groups for "
                                   f"{len(model.open_groups)} contexts")
        model.open_groups, model.extend_groups = opens, extends
        return model
