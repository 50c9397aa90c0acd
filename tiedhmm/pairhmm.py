"""Pair HMMs: a general pair-state model with alignment, scoring and EM.

A pair HMM is a list of :class:`~tiedhmm.pairstate.PairState` (match, insert-x or
insert-y, each holding an emission group) with labelled start, transition and end
edges, as in :class:`tiedhmm.tying.Topology`. Presets and local flanks are data on
this one model (:mod:`tiedhmm.pair_presets`): :meth:`PairHMM.durbin`,
:meth:`PairHMM.probcons`, :meth:`PairHMM.local`.

``symmetric=True`` ties X with Y, so ``loglik(x, y) == loglik(y, x)`` and
``posterior(x, y) == posterior(y, x).T``.

Empty sequences: one empty sequence aligns to the other as all gaps; two empty
sequences are an error. Work that keeps full ``n x m`` matrices (posteriors, MEA)
estimates its memory first and raises :class:`~tiedhmm.errors.MemoryLimitError`
when it would not fit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from types import SimpleNamespace

import numba
import numpy as np

from . import em, pair_presets, parallel
from ._kernels import hmm as hmm_kernels
from ._kernels import pair as kernels
from ._model import EMModel, stored_dict, stored_list
from ._records import GroupReader, GroupWriter
from ._validation import check_memory, check_random_state, memory_guard
from .alignment import core_steps, to_alignment
from .alphabets import Alphabet, get_alphabet
from .emissions.pair import check_state_group, state_statistics, state_table
from .errors import ImpossibleSequenceError, InvalidDataError, TiedHMMError
from .pairstate import PAIR_FORMAT, PairState
from .tying import Label, SoftTie, Topology

METHODS = ("viterbi", "mea")
#: The MEA table's score (8 bytes) and move (1 byte) per cell.
MEA_BYTES_PER_CELL = 9
INSTEAD_OF_FULL_MATRICES = ("align long pairs with method='viterbi' (one byte a cell) or "
                            "score them with loglik (linear memory)")
CHUNKS_PER_THREAD = 4


class PairHMM(EMModel):
    """A pair HMM over an alphabet, with tied groups as in :class:`tiedhmm.HMM`.

    ``save`` writes every group once (ties survive); ``load`` reads a saved model or a
    bundled default by name (``"protein"``, ``"dna"``). ``source`` is a free-text note
    kept in the file (where the parameters come from).
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

    # -- presets ----------------------------------------------------------------------
    @classmethod
    def durbin(cls, alphabet: str | Alphabet = "protein", *, symmetric: bool = True,
               delta: float | None = None, epsilon: float | None = None, tau: float = 1e-3,
               match: np.ndarray | None = None, insert: np.ndarray | None = None,
               **options) -> PairHMM:
        """Three states M, X, Y with gap open δ, extend ε and end τ (Durbin et al. ch. 4);
        see :func:`tiedhmm.pair_presets.durbin`. Match and insert tables default to the
        bundled model of the alphabet; ``options`` go to the constructor."""
        alphabet = get_alphabet(alphabet)
        spec = pair_presets.durbin(alphabet, symmetric=symmetric, delta=delta,
                                   epsilon=epsilon, tau=tau, match=match, insert=insert)
        return cls(*spec, alphabet=alphabet, **options)

    @classmethod
    def probcons(cls, alphabet: str | Alphabet = "protein", *, symmetric: bool = True,
                 gaps: tuple[float, float, float, float] | None = None,
                 start: tuple[float, float, float] | None = None,
                 match: np.ndarray | None = None, insert: np.ndarray | None = None,
                 **options) -> PairHMM:
        """Five states M, X1, Y1, X2, Y2: short and long gaps, free end (ProbCons); see
        :func:`tiedhmm.pair_presets.probcons`."""
        alphabet = get_alphabet(alphabet)
        spec = pair_presets.probcons(alphabet, symmetric=symmetric, gaps=gaps, start=start,
                                     match=match, insert=insert)
        return cls(*spec, alphabet=alphabet, **options)

    def local(self, mean_flank: float = 100.0) -> PairHMM:
        """This model with unaligned flanks: a local alignment model (Durbin et al. 4.5;
        see :func:`tiedhmm.pair_presets.local`). The core states keep this model's
        groups (tying is identity: fitting either model updates both). Alignments
        report the core only, with coordinates where it starts."""
        spec = pair_presets.local(self.states, self.start, self.transitions, self.end,
                                  mean_flank)
        model = PairHMM(*spec, alphabet=self.alphabet, soft_ties=self.soft_ties,
                        n_iter=self.n_iter, tol=self.tol, verbose=self.verbose)
        model.source = self.source
        return model

    # -- files ---------------------------------------------------------------------------
    def _document(self) -> dict:
        writer = GroupWriter()
        states = [{"name": s.name, "emits": s.emits, "emission": writer.id(s.emission),
                   "flank": s.flank} for s in self.states]
        return {"alphabet": self.alphabet.name, "source": self.source, "states": states,
                "edges": writer.edges(self.start, self.transitions, self.end),
                "free_end": self.topology.free_end,
                "soft_ties": writer.soft_ties(self.soft_ties), "groups": writer.records}

    @classmethod
    def _from_document(cls, document: dict, version: int) -> PairHMM:
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
        """The bytes of every parameter the compiled arrays depend on."""
        parts = [self.topology.edge_probabilities().tobytes()]
        parts += [array.tobytes() for group in self.topology.emission_groups
                  for array in group.parameter_arrays()]
        return b"".join(parts)

    def _compiled(self) -> SimpleNamespace:
        """Kernel arrays of the current parameters, rebuilt only when they change."""
        key = self._parameter_key()
        cached = getattr(self, "_compiled_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        compiled = self._compile()
        self._compiled_cache = (key, compiled)
        return compiled

    def _compile(self) -> SimpleNamespace:
        topology = self.topology
        topology.check_rows()
        membership = self.alphabet.membership
        dx = np.array([state.move[0] for state in self.states], dtype=np.int64)
        dy = np.array([state.move[1] for state in self.states], dtype=np.int64)
        emission = np.stack([state_table(state.emission, dx[k], dy[k], membership)
                             for k, state in enumerate(self.states)])
        start, transmat = topology.start_and_transmat()
        end = topology.end_probabilities()
        with np.errstate(divide="ignore"):
            logs = [np.log(array) for array in (emission, start, transmat, end)]
        return SimpleNamespace(dx=dx, dy=dy, emission=emission, start=start,
                               transmat=transmat, end=end, log=logs, membership=membership)

    def _encode(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        codes_x = self.alphabet.encode(x, "x")
        codes_y = self.alphabet.encode(y, "y")
        if codes_x.size == 0 and codes_y.size == 0:
            raise InvalidDataError("both sequences are empty: there is nothing to align")
        return codes_x, codes_y

    def _encode_many(self, pairs, first: int = 0) -> tuple[np.ndarray, ...]:
        """Codes of all pairs end to end with their offsets; errors name the pair's
        index, counted from ``first`` (a chunk's place in the whole batch)."""
        pairs = list(pairs)
        if not pairs:
            raise InvalidDataError("no sequence pairs given")
        encoded = []
        for index, pair in enumerate(pairs, start=first):
            try:
                x, y = pair
            except (TypeError, ValueError):
                raise InvalidDataError(f"pair {index} is not an (x, y) pair: "
                                       f"{pair!r:.80}") from None
            try:
                encoded.append(self._encode(x, y))
            except TiedHMMError as error:
                raise type(error)(f"pair {index}: {error}") from None
        xs = [codes for codes, _ in encoded]
        ys = [codes for _, codes in encoded]
        x_offsets = np.concatenate(([0], np.cumsum([len(c) for c in xs]))).astype(np.int64)
        y_offsets = np.concatenate(([0], np.cumsum([len(c) for c in ys]))).astype(np.int64)
        return (np.concatenate(xs).astype(np.int64), x_offsets,
                np.concatenate(ys).astype(np.int64), y_offsets)

    # -- inference -------------------------------------------------------------------
    def loglik(self, x, y) -> float:
        """Forward log P(x, y), summed over all alignments (score-only, linear memory)."""
        model = self._compiled()
        return float(kernels.forward_score(*self._encode(x, y), model.dx, model.dy,
                                           model.emission, model.start, model.transmat,
                                           model.end))

    def loglik_many(self, pairs: Sequence[tuple], *, client=None) -> np.ndarray:
        """Forward log P of every ``(x, y)`` pair, in parallel over pairs (as Dask tasks
        over chunks of pairs with a ``dask.distributed`` ``client``)."""
        encoded = self._encode_many(pairs)
        if client is not None:
            return np.concatenate(_on_cluster(client, _chunk_logliks, self, list(pairs)))
        model = self._compiled()
        return kernels.batch_forward_score(*encoded, model.dx, model.dy, model.emission,
                                           model.start, model.transmat, model.end)

    @contextlib.contextmanager
    def _full_matrices(self, lengths: Sequence[tuple[int, int]], what: str,
                       extra_per_cell: int = 0) -> Iterator[None]:
        """A block of work that keeps a forward and a backward matrix ((2K + 1) doubles
        per cell, plus the posterior and ``extra_per_cell`` bytes) for the largest pair,
        once per thread that may hold one at a time: MemoryLimitError before it starts
        when that would not fit, and if an allocation fails all the same."""
        cells = max((n + 1) * (m + 1) for n, m in lengths)
        per_cell = 8 * (2 * len(self.states) + 2) + extra_per_cell
        at_once = min(len(lengths), numba.get_num_threads())
        largest = max(lengths, key=lambda nm: (nm[0] + 1) * (nm[1] + 1))
        work = f"{what} of a {largest[0]} x {largest[1]} pair"
        check_memory(per_cell * cells * at_once, work, INSTEAD_OF_FULL_MATRICES)
        with memory_guard(work, INSTEAD_OF_FULL_MATRICES):
            yield

    def posterior(self, x, y) -> np.ndarray:
        """``(len(x), len(y))`` posterior probability that ``x[i]`` is aligned to ``y[j]``.

        Keeps full forward and backward matrices: estimated first, and a pair that would
        not fit in the available memory raises MemoryLimitError naming the size."""
        model = self._compiled()
        codes_x, codes_y = self._encode(x, y)
        with self._full_matrices([(codes_x.size, codes_y.size)], "posteriors"):
            found = kernels.expectations(codes_x, codes_y, model.dx, model.dy,
                                         model.emission, model.start, model.transmat,
                                         model.end)
        _raise_if_impossible(found[0])
        return found[1]

    def expected_accuracy(self, x, y) -> float:
        """Expected fraction of correctly aligned pairs of the MEA alignment (ProbCons)."""
        posterior = self.posterior(x, y)
        moves = kernels.mea_path(posterior)
        shortest = max(1, min(posterior.shape))
        return float(_mea_score(posterior, moves) / shortest)

    def expected_accuracy_many(self, pairs: Sequence[tuple], *, client=None) -> np.ndarray:
        """``expected_accuracy`` of every pair, in parallel over pairs (Dask tasks over
        chunks of pairs with a ``client``)."""
        encoded = self._encode_many(pairs)
        if client is not None:
            return np.concatenate(_on_cluster(client, _chunk_accuracies, self, list(pairs)))
        model = self._compiled()
        with self._full_matrices(_pair_lengths(encoded), "expected accuracy",
                                 MEA_BYTES_PER_CELL):
            accuracy, loglik = kernels.batch_expected_accuracy(
                *encoded, model.dx, model.dy, model.emission, model.start, model.transmat,
                model.end)
        impossible = np.flatnonzero(~np.isfinite(loglik))
        if impossible.size:
            _raise_if_impossible(-np.inf, f"pair {int(impossible[0])}")
        return accuracy

    def align(self, x, y, method: str = "viterbi"):
        """The best alignment as a ``Bio.Align.Alignment``.

        ``"viterbi"``: the most probable path, ``.score`` its log-probability.
        ``"mea"``: maximum expected accuracy, ``.score`` the sum of its match posteriors.
        """
        if method not in METHODS:
            raise InvalidDataError(f"method must be one of {METHODS}, got {method!r}")
        if method == "mea":
            lengths = [(len(self.alphabet.encode(x, "x")), len(self.alphabet.encode(y, "y")))]
            with self._full_matrices(lengths, "an MEA alignment", MEA_BYTES_PER_CELL):
                posterior = self.posterior(x, y)
                moves = kernels.mea_path(posterior)
            steps = np.array([(1, 1), (1, 0), (0, 1)])[moves]
            return to_alignment(x, y, steps.reshape(-1, 2), (0, 0),
                                _mea_score(posterior, moves))
        path, score = self._viterbi(*self._encode(x, y))
        return to_alignment(x, y, *self._steps(path), score)

    def align_many(self, pairs: Sequence[tuple], method: str = "viterbi", *,
                   client=None) -> list:
        """Alignments of many pairs (Viterbi in parallel over pairs; Dask tasks over
        chunks of pairs with a ``client``)."""
        pairs = list(pairs)
        if client is not None:
            self._encode_many(pairs)  # errors name the pair's index in the whole batch
            chunks = _on_cluster(client, partial(_chunk_alignments, method=method), self, pairs)
            return [alignment for chunk in chunks for alignment in chunk]
        if method != "viterbi":
            return [self.align(x, y, method) for x, y in pairs]
        model = self._compiled()
        xs, x_offsets, ys, y_offsets = self._encode_many(pairs)
        paths, lengths, scores = kernels.batch_viterbi(xs, x_offsets, ys, y_offsets, model.dx,
                                                       model.dy, *model.log)
        alignments = []
        for p, (x, y) in enumerate(pairs):
            _raise_if_impossible(scores[p], f"pair {p}")
            first = x_offsets[p] + y_offsets[p]
            steps, origin = self._steps(paths[first:first + lengths[p]])
            alignments.append(to_alignment(x, y, steps, origin, scores[p]))
        return alignments

    def _viterbi(self, codes_x: np.ndarray, codes_y: np.ndarray) -> tuple[np.ndarray, float]:
        model = self._compiled()
        path, score = kernels.viterbi(codes_x, codes_y, model.dx, model.dy, *model.log)
        _raise_if_impossible(score)
        return path, float(score)

    def _steps(self, path: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Moves of the path's aligned (non-flank) states, and where they start."""
        moves = np.array([state.move for state in self.states], dtype=np.int64)
        flank = np.array([state.flank for state in self.states])
        steps, start_x, start_y = core_steps(path, moves, flank)
        return steps, (start_x, start_y)

    def sample(self, n_pairs: int, random_state: int | np.random.RandomState | None = None
               ) -> list[tuple[str, str]]:
        """Draw ``n_pairs`` unaligned pairs (empty pairs are redrawn); needs end edges."""
        if self.topology.free_end:
            raise InvalidDataError("sampling needs a model with end transitions (e.g. durbin); "
                                   "a free-end model does not say when a pair ends")
        rng = check_random_state(random_state)
        model = self._compiled()
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
    def _statistics_source(self, encoded: tuple[np.ndarray, ...]):
        xs, x_offsets, ys, y_offsets = encoded
        cells = np.concatenate(([0], np.cumsum(np.diff(x_offsets) * np.diff(y_offsets) + 1)))
        chunks = hmm_kernels.sequence_chunks(cells, CHUNKS_PER_THREAD * numba.get_num_threads())

        def source():
            model = self._compiled()
            loglik, transitions, starts, ends, emissions = kernels.batch_expectations(
                xs, x_offsets, ys, y_offsets, chunks, model.dx, model.dy, model.emission,
                model.start, model.transmat, model.end)
            stats = self._emission_statistics(model, emissions)
            transition_stats = self.topology.transition_statistics(
                transitions, starts, None if self.topology.free_end else ends)
            return loglik, stats + list(zip(self.topology.transition_groups,
                                            transition_stats)), "pair"
        return source

    def _emission_statistics(self, model: SimpleNamespace, emissions: np.ndarray) -> list:
        """Each state's group with that state's letter statistics (EM pools shared groups)."""
        return [(state.emission, state_statistics(state.emission, model.dx[k], model.dy[k],
                                                  model.membership, model.emission[k],
                                                  emissions[k]))
                for k, state in enumerate(self.states)]

    def fit(self, pairs: Sequence[tuple], *, client=None,
            callback: Callable[[int, float], None] | None = None) -> PairHMM:
        """EM (Baum-Welch) on unaligned pairs: pooled tied statistics, parallel over pairs
        (over chunks of pairs on a Dask cluster with a ``client``). ``callback(iteration,
        loglik)`` hears every iteration."""
        pairs = list(pairs)
        if client is None or not pairs:  # (no pairs: _encode_many gives the error)
            encoded = self._encode_many(pairs)
            source = self._statistics_source(encoded)
            with self._full_matrices(_pair_lengths(encoded), "EM"):
                self._run_em([source], soft_ties=self.soft_ties, callback=callback)
        else:
            chunks, first = [], 0
            for chunk in parallel.split(pairs, parallel.n_chunks(client, len(pairs))):
                chunks.append(self._encode_many(chunk, first))
                first += len(chunk)
            source = parallel.statistics_source(client, _chunk_source, self, chunks)
            self._run_em([source], soft_ties=self.soft_ties, callback=callback)
        return self


def _chunk_source(model: PairHMM, encoded: tuple[np.ndarray, ...]):
    return model._statistics_source(encoded)


def _chunk_logliks(model: PairHMM, pairs: list[tuple]) -> np.ndarray:
    return model.loglik_many(pairs)


def _chunk_accuracies(model: PairHMM, pairs: list[tuple]) -> np.ndarray:
    return model.expected_accuracy_many(pairs)


def _chunk_alignments(model: PairHMM, pairs: list[tuple], method: str) -> list:
    return model.align_many(pairs, method)


def _on_cluster(client, function, model: PairHMM, pairs: list[tuple]) -> list:
    chunks = parallel.split(pairs, parallel.n_chunks(client, len(pairs)))
    return parallel.map_chunks(client, function, model, chunks)


def _pair_lengths(encoded: tuple[np.ndarray, ...]) -> list[tuple[int, int]]:
    _, x_offsets, _, y_offsets = encoded
    return list(zip(np.diff(x_offsets).tolist(), np.diff(y_offsets).tolist()))


def _mea_score(posterior: np.ndarray, moves: np.ndarray) -> float:
    i = np.cumsum(moves != 2) - 1
    j = np.cumsum(moves != 1) - 1
    matched = moves == 0
    return float(posterior[i[matched], j[matched]].sum())


def _raise_if_impossible(logprob: float, what: str = "the pair") -> None:
    if not np.isfinite(logprob):
        raise ImpossibleSequenceError(f"{what} has probability 0 under the model "
                                      f"(log-likelihood -inf)")
