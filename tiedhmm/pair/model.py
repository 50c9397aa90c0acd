"""Pair HMMs: a general pair-state model with alignment, scoring and EM.

A pair HMM is a list of :class:`~tiedhmm.pair.states.PairState` (match, insert-x or
insert-y, each holding an emission group) with labelled start, transition and end
edges, as in :class:`tiedhmm.tying.Topology`. Presets and local flanks are data on
this one model (:mod:`tiedhmm.pair.presets`): :meth:`PairHMM.durbin`,
:meth:`PairHMM.probcons`, :meth:`PairHMM.local`.

``symmetric=True`` ties X with Y, so ``loglik(x, y) == loglik(y, x)`` and
``posterior(x, y) == posterior(y, x).T``.

Inference turns parameters and sequences into kernel arrays through
:mod:`tiedhmm.pair.inference`. Empty sequences: one empty sequence aligns to the other
as all gaps; two empty sequences are an error. Posterior work (posteriors, MEA, EM)
goes through :mod:`tiedhmm.pair.posterior`, which plans its memory within a limit
(``memory=``, default 2 GiB), checkpointing the forward of long pairs, and raises
:class:`~tiedhmm.errors.MemoryLimitError` before it starts when even that would not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse

from .. import em, parallel
from .._kernels import pair as kernels
from ..em.model import EMModel, stored_dict, stored_list
from ..emissions.pair import check_state_group
from ..errors import InvalidDataError
from ..io.checks import check_random_state
from ..io.records import GroupReader, GroupWriter
from ..tying import Label, SoftTie, Topology
from . import inference, posterior, presets
from .alignment import to_alignment
from .alphabets import Alphabet, get_alphabet
from .states import PAIR_FORMAT, PairState

METHODS = ("viterbi", "mea")


class PairHMM(EMModel):
    """A pair HMM over an alphabet, with tied groups as in :class:`tiedhmm.HMM`.

    Most users start from a preset or the bundled models (:meth:`load`, :meth:`durbin`,
    :meth:`probcons`); the constructor builds any topology from states and labelled
    edges. ``save`` writes every group once (ties survive); ``source`` is a free-text
    note kept in the file (where the parameters come from).

    Parameters
    ----------
    states : sequence of PairState
        The emitting states (match, insert-x, insert-y), each with its emission group.
    start : mapping of int or "end" to label
        Start edges, labelled ``(TransitionGroup, outcome)`` or with a number.
    transitions : mapping of (int, int) to label
        Transition edges.
    end : mapping of int to label, optional
        End edges; without them the model ends freely after any state (ProbCons' way).
    alphabet : str or Alphabet, default "protein"
        ``"protein"``, ``"dna"`` or an :class:`Alphabet`.
    soft_ties : sequence of SoftTie, default ()
        Groups pulled toward their pooled estimate.
    n_iter : int, default 10
        The most EM iterations of :meth:`fit`.
    tol : float, default 1e-2
        EM stops when the log-likelihood gains less than this.
    verbose : bool, default False
        Print each iteration's log-likelihood to stderr.

    Raises
    ------
    tiedhmm.errors.TyingError
        Rows that do not sum to 1 or inconsistent ties.
    tiedhmm.errors.InvalidDataError
        An emission group whose shape does not fit its state and the alphabet.

    Examples
    --------
    >>> import tiedhmm as th
    >>> model = th.PairHMM.load("protein")
    >>> alignment = model.align("MKTAYIAKQRQ", "MKTAYKQRQ")
    >>> print(alignment)
    x                 0 MKTAYIAKQRQ 11
                      0 |||||--|||| 11
    y                 0 MKTAY--KQRQ  9
    <BLANKLINE>
    >>> model.loglik("MKTAYIAKQRQ", "MKTAYKQRQ") == model.loglik("MKTAYKQRQ", "MKTAYIAKQRQ")
    True
    """

    document_kind = PAIR_FORMAT

    def __init__(self, states: Sequence[PairState], start: Mapping[int | str, Label],
                 transitions: Mapping[tuple[int, int], Label],
                 end: Mapping[int, Label] | None = None, *,
                 alphabet: str | Alphabet = "protein", soft_ties: Sequence[SoftTie] = (),
                 n_iter: int = 10, tol: float = 1e-2, verbose: bool = False) -> None:
        self.states = stored_list(states)
        self.start = stored_dict(start)
        self.transitions = stored_dict(transitions)
        self.end = None if end is None else stored_dict(end)
        self.alphabet = get_alphabet(alphabet)
        self.soft_ties = stored_list(soft_ties)
        for index, state in enumerate(self.states):
            if not isinstance(state, PairState):
                raise TypeError(f"state {index} is not a PairState (got {state!r})")
            dx, dy = state.move
            check_state_group(state.emission, dx, dy, self.alphabet.size,
                              f"state {index} ({state.name})")
        self.topology = Topology([state.emission for state in self.states], self.start,
                                 self.transitions, self.end)
        self.source: str | None = None
        em.check_soft_ties(self.soft_ties)
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose

    @property
    def start_edges(self) -> dict[str, Any]:
        """The start edges under their tiedhmm 0.1 name (now ``start``, as on ``HMM``)."""
        return self.start

    @property
    def transition_edges(self) -> dict[str, Any]:
        """The transition edges under their tiedhmm 0.1 name (now ``transitions``)."""
        return self.transitions

    @property
    def end_edges(self) -> dict[str, Any] | None:
        """The end edges under their tiedhmm 0.1 name (now ``end``)."""
        return self.end

    # -- presets ----------------------------------------------------------------------
    @classmethod
    def durbin(cls, alphabet: str | Alphabet = "protein", *, symmetric: bool = True,
               delta: float | None = None, epsilon: float | None = None, tau: float = 1e-3,
               match: np.ndarray | None = None, insert: np.ndarray | None = None,
               **options: Any) -> PairHMM:
        """Three states M, X, Y with gap open δ, extend ε and end τ (Durbin et al., ch. 4).

        Parameters
        ----------
        alphabet : str or Alphabet, default "protein"
            The alphabet; match and insert tables default to its bundled model's.
        symmetric : bool, default True
            Tie X with Y (one emission and one transition group), so that the model reads
            the same either way round.
        delta, epsilon : float, optional
            Gap open and extend probabilities (default: the bundled model's).
        tau : float, default 1e-3
            The end probability.
        match, insert : array, optional
            The match table ``(K, K)`` and insert distribution ``(K,)``.
        **options
            The constructor's settings (``n_iter``, ``tol``, ...).

        Returns
        -------
        PairHMM
            A model with begin and end, which can :meth:`sample`.

        Examples
        --------
        >>> import tiedhmm as th
        >>> model = th.PairHMM.durbin("dna", n_iter=5)
        >>> [state.emits for state in model.states]
        ['match', 'x', 'y']
        """
        alphabet = get_alphabet(alphabet)
        spec = presets.durbin(alphabet, symmetric=symmetric, delta=delta,
                              epsilon=epsilon, tau=tau, match=match, insert=insert)
        return cls(*spec, alphabet=alphabet, **options)

    @classmethod
    def probcons(cls, alphabet: str | Alphabet = "protein", *, symmetric: bool = True,
                 gaps: tuple[float, float, float, float] | None = None,
                 start: tuple[float, float, float] | None = None,
                 match: np.ndarray | None = None, insert: np.ndarray | None = None,
                 **options: Any) -> PairHMM:
        """Five states M, X1, Y1, X2, Y2: short and long gaps and a free end (ProbCons).

        Parameters
        ----------
        alphabet : str or Alphabet, default "protein"
            The alphabet; tables default to its bundled model's.
        symmetric : bool, default True
            Tie each X state with its Y state.
        gaps : (float, float, float, float), optional
            Short open, short extend, long open, long extend.
        start : (float, float, float), optional
            Start probabilities of M, a short gap and a long gap.
        match, insert : array, optional
            The match table and insert distribution.
        **options
            The constructor's settings.

        Returns
        -------
        PairHMM
            The five-state model.

        Examples
        --------
        >>> import tiedhmm as th
        >>> len(th.PairHMM.probcons("protein").states)
        5
        """
        alphabet = get_alphabet(alphabet)
        spec = presets.probcons(alphabet, symmetric=symmetric, gaps=gaps, start=start,
                                match=match, insert=insert)
        return cls(*spec, alphabet=alphabet, **options)

    def local(self, mean_flank: float = 100.0) -> PairHMM:
        """This model with unaligned flanks: a local alignment model (Durbin et al. 4.5).

        The core states keep this model's groups (tying is identity: fitting either model
        updates both). Alignments report the core only, with coordinates where it starts.

        Parameters
        ----------
        mean_flank : float, default 100.0
            The expected length of each unaligned flank.

        Returns
        -------
        PairHMM
            The local model.

        Examples
        --------
        >>> import tiedhmm as th
        >>> glocal = th.PairHMM.load("protein")
        >>> local = glocal.local()
        >>> local.states[0].emission is glocal.states[0].emission
        True
        """
        spec = presets.local(self.states, self.start, self.transitions, self.end,
                             mean_flank)
        model = PairHMM(*spec, alphabet=self.alphabet, soft_ties=self.soft_ties,
                        n_iter=self.n_iter, tol=self.tol, verbose=self.verbose)
        model.source = self.source
        return model

    # -- files ---------------------------------------------------------------------------
    def _document(self) -> dict[str, Any]:
        writer = GroupWriter()
        states = [{"name": s.name, "emits": s.emits, "emission": writer.id(s.emission),
                   "flank": s.flank} for s in self.states]
        return {"alphabet": self.alphabet.name, "source": self.source, "states": states,
                "edges": writer.edges(self.start, self.transitions, self.end),
                "free_end": self.topology.free_end,
                "soft_ties": writer.soft_ties(self.soft_ties), "groups": writer.records}

    @classmethod
    def _from_document(cls, document: dict[str, Any], version: int) -> PairHMM:
        reader = GroupReader(document["groups"])
        states = [PairState(str(s["name"]), s["emits"], reader.groups[s["emission"]],
                            bool(s.get("flank", False))) for s in document["states"]]
        if version == 1:  # start, transitions and end in lists of their own
            rows = [["begin", dst, value] for dst, value in document["start"]]
            rows += [[i, j, value] for i, j, value in document["transitions"]]
            rows += [[i, "end", value] for i, value in document["end"] or []]
            free_end = document["end"] is None
        else:
            rows, free_end = document["edges"], bool(document["free_end"])
        start, transitions, end = reader.edges(rows, free_end)
        soft_ties = [SoftTie(*tie) for tie in reader.soft_ties(document["soft_ties"])]
        model = cls(states, start, transitions, end, alphabet=document["alphabet"],
                    soft_ties=soft_ties)
        source = document.get("source")
        model.source = None if source is None else str(source)
        return model

    # -- compiled arrays -------------------------------------------------------------
    def _parameter_key(self) -> bytes:
        """The bytes of every parameter the compiled arrays depend on (the groups'
        arrays: the topology's edges, fixed factors and group outcomes never change)."""
        parts = [group.current().tobytes() for group in self.topology.transition_groups]
        parts += [array.tobytes() for group in self.topology.emission_groups
                  for array in group.parameter_arrays() if array is not None]
        return b"".join(parts)

    def compiled(self) -> inference.CompiledPair:
        """The model as the flat arrays the kernels take, for the current parameters.

        Rebuilt only when a parameter changes, so callers that run kernels on many
        pairs (multiple alignment, the E-step) ask for it once per batch.

        Returns
        -------
        tiedhmm.pair.inference.CompiledPair
            The state table, transition and emission arrays of the model.
        """
        key = self._parameter_key()
        cached: tuple[bytes, inference.CompiledPair] | None = getattr(
            self, "_compiled_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        compiled = inference.compile_pair(self.states, self.topology, self.alphabet)
        self._compiled_cache = (key, compiled)
        return compiled

    def _encode_many(self, pairs: Sequence[tuple[Any, Any]],
                     first: int = 0) -> inference.EncodedPairs:
        return inference.encode_pairs(self.alphabet, pairs, first)

    # -- inference -------------------------------------------------------------------
    def loglik(self, x: Any, y: Any) -> float:
        """The forward log-likelihood ``log P(x, y)``, summed over all alignments.

        Runs in linear memory (score only).

        Parameters
        ----------
        x, y : str, Bio.Seq.Seq or Bio.SeqRecord.SeqRecord
            The two sequences (letters of the model's alphabet; ambiguity codes are
            marginalised, lowercase is fine).

        Returns
        -------
        float
            ``-inf`` when the model cannot generate the pair.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            A letter outside the alphabet (named with its position), or two empty sequences.
        """
        codes = inference.encode_pair(self.alphabet, x, y)
        return float(kernels.forward_score(*codes, *self.compiled().probabilities))

    def loglik_many(self, pairs: Sequence[tuple[Any, ...]], *, client: Any = None) -> np.ndarray:
        """The forward log-likelihood of every pair, in parallel over pairs.

        Parameters
        ----------
        pairs : sequence of (x, y)
            The pairs, each as ``x, y`` of :meth:`loglik`.
        client : dask.distributed.Client, optional
            Run over chunks of pairs on this cluster.

        Returns
        -------
        numpy.ndarray of shape (n_pairs,)
            One log-likelihood per pair.
        """
        encoded = self._encode_many(pairs)
        if client is not None:
            return np.concatenate(_on_cluster(client, _chunk_logliks, self, list(pairs)))
        model = self.compiled()
        with parallel.kernel_threads(posterior.batch_work(model, encoded)):
            logliks: np.ndarray = kernels.batch_forward_score(*encoded, *model.probabilities)
        return logliks

    def posterior(self, x: Any, y: Any, *, threshold: float | None = None,
                  memory: int | str | None = None) -> np.ndarray | scipy.sparse.csr_matrix:
        """The posterior probability that ``x[i]`` is aligned to ``y[j]``, for every ``i, j``.

        Parameters
        ----------
        x, y : str, Bio.Seq.Seq or Bio.SeqRecord.SeqRecord
            The two sequences (letters of the model's alphabet; ambiguity codes are
            marginalised, lowercase is fine).
        threshold : float, optional
            Keep only posteriors at least this (ProbCons keeps 0.01), as a sparse matrix in
            memory proportional to what is kept.
        memory : int or str, optional
            The most bytes the call may take (``"4G"``; default what the machine has free,
            at most 2 GiB): long pairs checkpoint the forward.

        Returns
        -------
        ndarray or scipy.sparse.csr_matrix of shape (len(x), len(y))
            Dense without ``threshold``, sparse with it.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            A letter outside the alphabet (named with its position), or two empty sequences.
        tiedhmm.errors.ImpossibleSequenceError
            A pair the model cannot generate.
        tiedhmm.errors.MemoryLimitError
            A pair that would not fit in ``memory`` even with checkpointing.

        Examples
        --------
        >>> import tiedhmm as th
        >>> model = th.PairHMM.load("protein")
        >>> P = model.posterior("MKTAYIAK", "MKTAYAK")
        >>> P.shape, bool(P.max() <= 1.0)
        ((8, 7), True)
        """
        codes = inference.encode_pair(self.alphabet, x, y)
        return posterior.posteriors(self.compiled(), [codes], threshold=threshold,
                                    memory=memory)[0]

    def posterior_many(self, pairs: Sequence[tuple[Any, ...]], *, threshold: float | None = None,
                       memory: int | str | None = None, client: Any = None) -> list[Any]:
        """:meth:`posterior` of every pair, in parallel over pairs.

        Parameters
        ----------
        pairs : sequence of (x, y)
            The pairs, each as ``x, y`` of :meth:`loglik`.
        threshold : float, optional
            As for :meth:`posterior`.
        memory : int or str, optional
            The most bytes the whole call may take.
        client : dask.distributed.Client, optional
            Run over chunks of pairs on this cluster.

        Returns
        -------
        list
            One matrix per pair.
        """
        pairs = list(pairs)
        encoded = self._encode_many(pairs)
        if client is not None:
            task = partial(_chunk_posteriors, threshold=threshold, memory=memory)
            return [found for chunk in _on_cluster(client, task, self, pairs) for found in chunk]
        return posterior.posteriors(self.compiled(), _pair_codes(encoded),
                                    threshold=threshold, memory=memory)

    def expected_accuracy(self, x: Any, y: Any, *, memory: int | str | None = None) -> float:
        """The expected share of correctly aligned pairs of the MEA alignment (ProbCons).

        Its summed match posteriors over the shorter length.

        Parameters
        ----------
        x, y : str, Bio.Seq.Seq or Bio.SeqRecord.SeqRecord
            The two sequences (letters of the model's alphabet; ambiguity codes are
            marginalised, lowercase is fine).
        memory : int or str, optional
            The most bytes the call may take (``"4G"``; default what the machine has free,
            at most 2 GiB): long pairs checkpoint the forward.

        Returns
        -------
        float
            Between 0 and 1.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            A letter outside the alphabet (named with its position), or two empty sequences.
        tiedhmm.errors.ImpossibleSequenceError
            A pair the model cannot generate.
        """
        encoded = inference.batch_of([inference.encode_pair(self.alphabet, x, y)])
        accuracy, loglik = posterior.expected_accuracies(self.compiled(), encoded, memory)
        inference.raise_if_impossible(loglik[0])
        return float(accuracy[0])

    def expected_accuracy_many(self, pairs: Sequence[tuple[Any, ...]], *,
                               memory: int | str | None = None, client: Any = None) -> np.ndarray:
        """:meth:`expected_accuracy` of every pair, in parallel over pairs.

        Parameters
        ----------
        pairs : sequence of (x, y)
            The pairs, each as ``x, y`` of :meth:`loglik`.
        memory : int or str, optional
            The most bytes the whole call may take.
        client : dask.distributed.Client, optional
            Run over chunks of pairs on this cluster.

        Returns
        -------
        numpy.ndarray of shape (n_pairs,)
            One expected accuracy per pair.

        Raises
        ------
        tiedhmm.errors.ImpossibleSequenceError
            A pair the model cannot generate (named by its index).
        """
        encoded = self._encode_many(pairs)
        if client is not None:
            task = partial(_chunk_accuracies, memory=memory)
            return np.concatenate(_on_cluster(client, task, self, list(pairs)))
        accuracy, loglik = posterior.expected_accuracies(self.compiled(), encoded,
                                                         memory)
        impossible = np.flatnonzero(~np.isfinite(loglik))
        if impossible.size:
            inference.raise_if_impossible(-np.inf, f"pair {int(impossible[0])}")
        return accuracy

    def align(self, x: Any, y: Any, method: str = "viterbi", *,
              memory: int | str | None = None) -> Any:
        """The best alignment of ``x`` and ``y``.

        Parameters
        ----------
        x, y : str, Bio.Seq.Seq or Bio.SeqRecord.SeqRecord
            The two sequences (letters of the model's alphabet; ambiguity codes are
            marginalised, lowercase is fine).
        method : {"viterbi", "mea"}, default "viterbi"
            ``"viterbi"``: the most probable path, ``.score`` its log-probability;
            ``"mea"``: maximum expected accuracy, ``.score`` the sum of its match
            posteriors.
        memory : int or str, optional
            The most bytes the call may take (``"4G"``; default what the machine has free,
            at most 2 GiB): long pairs checkpoint the forward.

        Returns
        -------
        Bio.Align.Alignment
            With ``.score``; a local model's alignment holds the aligned core, with
            coordinates where it starts in each sequence.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            A letter outside the alphabet (named with its position), or two empty sequences.
        tiedhmm.errors.ImpossibleSequenceError
            A pair the model cannot generate.

        Examples
        --------
        >>> import tiedhmm as th
        >>> model = th.PairHMM.load("protein")
        >>> alignment = model.align("MKTAYIAKQRQ", "MKTAYKQRQ", method="mea")
        >>> alignment.coordinates.tolist()
        [[0, 5, 7, 11], [0, 5, 5, 9]]
        """
        if method not in METHODS:
            raise InvalidDataError(f"method must be one of {METHODS}, got {method!r}")
        codes = inference.encode_pair(self.alphabet, x, y)
        if method == "mea":
            [(score, moves)] = posterior.mea_alignments(self.compiled(),
                                                        inference.batch_of([codes]), memory)
            return to_alignment(x, y, inference.mea_steps(moves), (0, 0), score)
        model = self.compiled()
        doubles, n_bytes, _ = kernels.viterbi_workspace(codes[0].size, codes[1].size,
                                                        len(model.dx), 0)
        path, score = kernels.viterbi(*codes, *model.logs, 0, posterior.reused_buffer(doubles),
                                      posterior.reused_buffer(n_bytes, np.uint8, "pointers"))
        inference.raise_if_impossible(score)
        return to_alignment(x, y, *inference.path_steps(model, path), float(score))

    def align_many(self, pairs: Sequence[tuple[Any, ...]], method: str = "viterbi", *,
                   memory: int | str | None = None, client: Any = None) -> list[Any]:
        """The best alignment of every pair, in parallel over pairs.

        Parameters
        ----------
        pairs : sequence of (x, y)
            The pairs, each as ``x, y`` of :meth:`loglik`.
        method : {"viterbi", "mea"}, default "viterbi"
            As for :meth:`align`.
        memory : int or str, optional
            The most bytes MEA may take for the whole call.
        client : dask.distributed.Client, optional
            Run over chunks of pairs on this cluster.

        Returns
        -------
        list of Bio.Align.Alignment
            One per pair, in order.
        """
        pairs = list(pairs)
        if client is not None:
            self._encode_many(pairs)  # errors name the pair's index in the whole batch
            task = partial(_chunk_alignments, method=method, memory=memory)
            return [alignment for chunk in _on_cluster(client, task, self, pairs)
                    for alignment in chunk]
        if method not in METHODS:
            raise InvalidDataError(f"method must be one of {METHODS}, got {method!r}")
        model = self.compiled()
        encoded = self._encode_many(pairs)
        if method == "mea":
            found = posterior.mea_alignments(model, encoded, memory)
            return [to_alignment(x, y, inference.mea_steps(moves), (0, 0), score)
                    for (x, y), (score, moves) in zip(pairs, found)]
        with parallel.kernel_threads(posterior.batch_work(model, encoded)):
            paths, lengths, scores = kernels.batch_viterbi(*encoded, *model.logs)
        alignments = []
        for p, (x, y) in enumerate(pairs):
            inference.raise_if_impossible(scores[p], f"pair {p}")
            first = encoded.x_offsets[p] + encoded.y_offsets[p]
            steps, origin = inference.path_steps(model, paths[first:first + lengths[p]])
            alignments.append(to_alignment(x, y, steps, origin, scores[p]))
        return alignments

    def sample(self, n_pairs: int, random_state: int | np.random.RandomState | None = None
               ) -> list[tuple[str, str]]:
        """Draw unaligned pairs from the model (empty pairs are redrawn).

        Parameters
        ----------
        n_pairs : int
            How many pairs.
        random_state : int, numpy.random.RandomState or None
            The generator's seed.

        Returns
        -------
        list of (str, str)
            The pairs.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            A model without end edges (it does not say when a pair ends).

        Examples
        --------
        >>> import tiedhmm as th
        >>> pairs = th.PairHMM.durbin("dna").sample(3, random_state=0)
        >>> len(pairs)
        3
        """
        if self.topology.free_end:
            raise InvalidDataError("sampling needs a model with end transitions (e.g. durbin); "
                                   "a free-end model does not say when a pair ends")
        rng = check_random_state(random_state)
        model = self.compiled()
        letters = self.alphabet.letters
        n_states = len(self.states)
        begin = np.append(model.start, 1.0 - model.start.sum())
        rows = np.hstack([model.transmat, model.end[:, None]])
        pairs: list[tuple[str, str]] = []
        while len(pairs) < n_pairs:
            x, y = [], []
            state = rng.choice(n_states + 1, p=begin / begin.sum())
            while state < n_states:
                if self.states[state].emits == "match":
                    joint = self.states[state].emission.table.ravel()
                    flat = rng.choice(joint.size, p=joint)
                    x.append(letters[flat // len(letters)])
                    y.append(letters[flat % len(letters)])
                else:
                    letter = letters[rng.choice(len(letters),
                                                p=self.states[state].emission.probs)]
                    (x if self.states[state].emits == "x" else y).append(letter)
                state = rng.choice(n_states + 1, p=rows[state] / rows[state].sum())
            if x or y:
                pairs.append(("".join(x), "".join(y)))
        return pairs

    # -- EM ---------------------------------------------------------------------------
    def statistics_source(self, encoded: inference.EncodedPairs,
                          memory: int | str | None = None) -> em.StatisticsSource:
        """What EM reads from these encoded pairs: one E-step per call.

        Parameters
        ----------
        encoded : tiedhmm.pair.inference.EncodedPairs
            Pairs encoded in this model's alphabet.
        memory : int or str, optional
            The E-step's memory limit (bytes or ``"2G"``; default: what is free).

        Returns
        -------
        callable
            A statistics source for :func:`tiedhmm.em.fit`: each call returns the
            log-likelihood of every pair and the statistics of every group.
        """
        return posterior.statistics_source(self.states, self.topology, self.compiled,
                                           encoded, memory)

    def fit(self, pairs: Sequence[tuple[Any, ...]], *, memory: int | str | None = None,
            client: Any = None, callback: Callable[[int, float], None] | None = None,
            anchor: float = 0.0) -> PairHMM:
        """EM (Baum-Welch) on unaligned pairs, with pooled tied statistics.

        Runs in parallel over pairs (over chunks of pairs on a Dask cluster with a
        ``client``); with a symmetric model, fitting the pairs or the pairs swapped gives
        the same parameters.

        Parameters
        ----------
        pairs : sequence of (x, y)
            The pairs, each as ``x, y`` of :meth:`loglik`.
        memory : int or str, optional
            The E-step's memory limit (long pairs checkpoint the forward).
        client : dask.distributed.Client, optional
            Run over chunks of pairs on this cluster.
        callback : callable, optional
            ``callback(iteration, loglik)`` hears every iteration.
        anchor : float, default 0
            In ``[0, 1)``: each M-step's estimate is pulled that share of the way back to
            the parameters the fit started from (``(1 - anchor) x EM's + anchor x the
            start``), a soft tie to the starting model so that a few pairs cannot drag it
            far (multiple alignment trains on a family this way). The steps are then
            shrinkages: the likelihood is not checked to rise.

        Returns
        -------
        PairHMM
            ``self``, fitted; ``monitor_`` holds the EM history.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            No pairs, a letter outside the alphabet, or an anchor outside ``[0, 1)``.

        Examples
        --------
        >>> import tiedhmm as th
        >>> pairs = th.PairHMM.durbin("dna").sample(20, random_state=0)
        >>> model = th.PairHMM.durbin("dna", n_iter=3).fit(pairs)
        >>> model.monitor_.iter
        3
        """
        pairs = list(pairs)
        if client is None or not pairs:  # (no pairs: _encode_many gives the error)
            source = self.statistics_source(self._encode_many(pairs), memory)
        else:
            chunks, first = [], 0
            for chunk in parallel.split(pairs, parallel.n_chunks(client, len(pairs))):
                chunks.append(self._encode_many(chunk, first))
                first += len(chunk)
            source = parallel.statistics_source(client, partial(_chunk_source, memory=memory),
                                                self, chunks)
        self._run_em([source], soft_ties=self.soft_ties, callback=callback, anchor=anchor)
        return self


def _pair_codes(encoded: inference.EncodedPairs) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each pair's codes, as views into the batch."""
    return [(encoded.xs[a:b], encoded.ys[c:e]) for a, b, c, e in
            zip(encoded.x_offsets[:-1], encoded.x_offsets[1:], encoded.y_offsets[:-1],
                encoded.y_offsets[1:])]


def _chunk_source(model: PairHMM, encoded: inference.EncodedPairs,
                  memory: int | str | None) -> em.StatisticsSource:
    return model.statistics_source(encoded, memory)


def _chunk_logliks(model: PairHMM, pairs: list[tuple[Any, ...]]) -> np.ndarray:
    return model.loglik_many(pairs)


def _chunk_posteriors(model: PairHMM, pairs: list[tuple[Any, ...]], threshold: float | None,
                      memory: int | str | None) -> list[Any]:
    return model.posterior_many(pairs, threshold=threshold, memory=memory)


def _chunk_accuracies(model: PairHMM, pairs: list[tuple[Any, ...]],
                      memory: int | str | None) -> np.ndarray:
    return model.expected_accuracy_many(pairs, memory=memory)


def _chunk_alignments(model: PairHMM, pairs: list[tuple[Any, ...]], method: str,
                      memory: int | str | None) -> list[Any]:
    return model.align_many(pairs, method, memory=memory)


def _on_cluster(client: Any, function: Any, model: PairHMM,
                pairs: list[tuple[Any, ...]]) -> list[Any]:
    chunks = parallel.split(pairs, parallel.n_chunks(client, len(pairs)))
    return parallel.map_chunks(client, function, model, chunks)
