"""Pair HMMs: a general pair-state model, its presets, alignment, scoring and EM.

A pair HMM is a list of :class:`PairState` (match, insert-x or insert-y, each holding
an emission group) with labelled start, transition and end edges, as in
:class:`tiedhmm.tying.Topology`. Presets are data on one kernel:

- :meth:`PairHMM.durbin`: match M and inserts X, Y (Durbin et al. 1998, ch. 4) with
  gap open δ, extend ε and end τ.
- :meth:`PairHMM.probcons`: M with short (X1, Y1) and long (X2, Y2) gaps, free end
  (ProbCons' bi-phasic model).

``symmetric=True`` ties X with Y: one insert emission group, one gap transition group
per gap length, one ``open`` outcome for ``M -> X`` and ``M -> Y`` (multiplicity 2),
and a symmetric match table. Then ``loglik(x, y) == loglik(y, x)`` and
``posterior(x, y) == posterior(y, x).T``.

Empty sequences: one empty sequence aligns to the other as all gaps; two empty
sequences are an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numba
import numpy as np

from . import em
from ._kernels import hmm as hmm_kernels
from ._kernels import pair as kernels
from ._validation import check_random_state
from .alphabets import Alphabet, get_alphabet
from .emissions.base import ParameterGroup
from .emissions.categorical import CategoricalEmission
from .emissions.pair import MatchEmission, check_state_group, state_statistics, state_table
from .tying import Label, SoftTie, Topology, TransitionGroup

MOVES = {"match": (1, 1), "x": (1, 0), "y": (0, 1)}
METHODS = ("viterbi", "mea")
CHUNKS_PER_THREAD = 4

#: Published defaults (see data/README.md): ProbCons (protein) and Pecan (DNA).
DURBIN_GAPS = {"protein": (0.01993141696, 0.7943345308), "dna": (0.013652682, 0.9744453)}
PROBCONS_GAPS = {"protein": (0.0119511066, 0.3965826333, 0.008008334786, 0.8988758326),
                 "dna": (0.012986835, 0.7126062401851738, 0.0018214881, 0.99656342579062)}
PROBCONS_PROTEIN_START = (0.6814756989, 8.615339902e-05, 0.1591759622)


@dataclass(frozen=True)
class PairState:
    """A pair-HMM state: ``emits`` is ``"match"``, ``"x"`` or ``"y"``."""

    name: str
    emits: str
    emission: ParameterGroup
    #: An unaligned flank of a local model: left out of the alignment it reports.
    flank: bool = False

    @property
    def move(self) -> tuple[int, int]:
        try:
            return MOVES[self.emits]
        except KeyError:
            raise ValueError(f"state {self.name!r}: emits must be one of {sorted(MOVES)}, "
                             f"got {self.emits!r}") from None


class PairHMM:
    """A pair HMM over an alphabet, with tied groups as in :class:`tiedhmm.HMM`."""

    def __init__(self, states: Sequence[PairState], start: Mapping[int | str, Label],
                 transitions: Mapping[tuple[int, int], Label],
                 end: Mapping[int, Label] | None = None, *,
                 alphabet: str | Alphabet = "protein", soft_ties: Sequence[SoftTie] = (),
                 n_iter: int = 10, tol: float = 1e-2, verbose: bool = False) -> None:
        self.states = list(states)
        self.alphabet = get_alphabet(alphabet)
        for index, state in enumerate(self.states):
            dx, dy = state.move
            check_state_group(state.emission, dx, dy, self.alphabet.size,
                              f"state {index} ({state.name})")
        self.start_edges = dict(start)
        self.transition_edges = dict(transitions)
        self.end_edges = None if end is None else dict(end)
        self.topology = Topology([state.emission for state in self.states], self.start_edges,
                                 self.transition_edges, self.end_edges)
        self.source: str | None = None
        self.soft_ties = list(soft_ties)
        em.check_soft_ties(self.soft_ties)
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose

    # -- presets --------------------------------------------------------------------
    @classmethod
    def durbin(cls, alphabet: str | Alphabet = "protein", *, symmetric: bool = True,
               delta: float | None = None, epsilon: float | None = None, tau: float = 1e-3,
               match: np.ndarray | None = None, insert: np.ndarray | None = None,
               **options) -> PairHMM:
        """Three states M, X, Y with gap open δ, extend ε and end τ (Durbin et al. ch. 4).

        Begin behaves as M (it shares M's row group, with a begin → end edge). Defaults:
        ProbCons' one-gap-length values for protein, Pecan's for DNA; match and insert
        tables from the bundled default model of the alphabet.
        """
        alphabet = get_alphabet(alphabet)
        default_delta, default_epsilon = DURBIN_GAPS.get(alphabet.name, (0.02, 0.8))
        delta = default_delta if delta is None else delta
        epsilon = default_epsilon if epsilon is None else epsilon
        if not (delta >= 0 and tau >= 0 and epsilon >= 0 and 2 * delta + tau <= 1
                and epsilon + tau <= 1):
            raise ValueError(f"durbin gaps need delta, epsilon, tau >= 0, 2 delta + tau <= 1 "
                             f"and epsilon + tau <= 1; got delta={delta}, epsilon={epsilon}, "
                             f"tau={tau}")
        match_group, insert_x, insert_y = _emission_groups(alphabet, symmetric, match, insert, 1)
        stay = 1 - 2 * delta - tau
        if symmetric:
            row = TransitionGroup(["stay", "open", "end"], [stay, delta, tau], name="match")
            opens = [(row, "open"), (row, "open")]
            gap = TransitionGroup(["extend", "close", "end"], [epsilon, 1 - epsilon - tau, tau],
                                  name="gap")
            gaps = [gap, gap]
        else:
            row = TransitionGroup(["stay", "open_x", "open_y", "end"],
                                  [stay, delta, delta, tau], name="match")
            opens = [(row, "open_x"), (row, "open_y")]
            gaps = [TransitionGroup(["extend", "close", "end"], [epsilon, 1 - epsilon - tau, tau],
                                    name=f"gap {side}") for side in "xy"]
        states = [PairState("M", "match", match_group), PairState("X", "x", insert_x[0]),
                  PairState("Y", "y", insert_y[0])]
        start = {0: (row, "stay"), 1: opens[0], 2: opens[1], "end": (row, "end")}
        transitions = {(0, 0): (row, "stay"), (0, 1): opens[0], (0, 2): opens[1]}
        end = {0: (row, "end")}
        for state, gap in zip((1, 2), gaps):
            transitions[(state, state)] = (gap, "extend")
            transitions[(state, 0)] = (gap, "close")
            end[state] = (gap, "end")
        return cls(states, start, transitions, end, alphabet=alphabet, **options)

    @classmethod
    def probcons(cls, alphabet: str | Alphabet = "protein", *, symmetric: bool = True,
                 gaps: tuple[float, float, float, float] | None = None,
                 start: tuple[float, float, float] | None = None,
                 match: np.ndarray | None = None, insert: np.ndarray | None = None,
                 **options) -> PairHMM:
        """Five states M, X1, Y1, X2, Y2: short and long gaps, free end (ProbCons).

        ``gaps`` is ``(open_short, extend_short, open_long, extend_long)``; ``start`` the
        begin probabilities of ``(M, each short gap state, each long gap state)``,
        renormalised (default: ProbCons' published protein values; for other alphabets
        begin shares M's row).
        """
        alphabet = get_alphabet(alphabet)
        open_short, extend_short, open_long, extend_long = (
            PROBCONS_GAPS.get(alphabet.name, PROBCONS_GAPS["protein"]) if gaps is None
            else gaps)
        if start is None and alphabet.name == "protein":
            start = PROBCONS_PROTEIN_START
        match_group, insert_x, insert_y = _emission_groups(alphabet, symmetric, match, insert, 2)
        stay = 1 - 2 * open_short - 2 * open_long
        if symmetric:
            row = TransitionGroup(["stay", "open_short", "open_long"],
                                  [stay, open_short, open_long], name="match")
            opens = [(row, "open_short")] * 2 + [(row, "open_long")] * 2
        else:
            row = TransitionGroup(["stay", "open_x_short", "open_y_short", "open_x_long",
                                   "open_y_long"],
                                  [stay, open_short, open_short, open_long, open_long],
                                  name="match")
            opens = [(row, outcome) for outcome in row.outcomes[1:]]
        short_x = TransitionGroup(["extend", "close"], [extend_short, 1 - extend_short],
                                  name="short gap" if symmetric else "short gap x")
        long_x = TransitionGroup(["extend", "close"], [extend_long, 1 - extend_long],
                                 name="long gap" if symmetric else "long gap x")
        short_y = short_x if symmetric else short_x.copy()
        long_y = long_x if symmetric else long_x.copy()
        if not symmetric:
            short_y.name, long_y.name = "short gap y", "long gap y"
        states = [PairState("M", "match", match_group),
                  PairState("X1", "x", insert_x[0]), PairState("Y1", "y", insert_y[0]),
                  PairState("X2", "x", insert_x[1]), PairState("Y2", "y", insert_y[1])]
        transitions = {(0, 0): (row, "stay")}
        for state, (opening, gap) in enumerate(zip(opens, (short_x, short_y, long_x, long_y)),
                                               start=1):
            transitions[(0, state)] = opening
            transitions[(state, state)] = (gap, "extend")
            transitions[(state, 0)] = (gap, "close")
        if start is None:
            begin = {0: (row, "stay"), **{state: opens[state - 1] for state in range(1, 5)}}
        else:
            match_start, short_start, long_start = start
            total = match_start + 2 * short_start + 2 * long_start
            group = TransitionGroup(["match", "short", "long"],
                                    np.array([match_start, short_start, long_start]) / total,
                                    name="start")
            begin = {0: (group, "match"), 1: (group, "short"), 2: (group, "short"),
                     3: (group, "long"), 4: (group, "long")}
        return cls(states, begin, transitions, None, alphabet=alphabet, **options)

    @classmethod
    def load(cls, name_or_path: str | Path) -> PairHMM:
        """A bundled default (``"protein"``, ``"dna"``) or a model file written by ``save``."""
        from .io import load_pair_hmm
        return load_pair_hmm(name_or_path)

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (groups once each, so ties survive); atomic."""
        from .io import save_pair_hmm
        save_pair_hmm(self, path)

    def local(self, mean_flank: float = 100.0) -> PairHMM:
        """This model with unaligned flanks: a local alignment model (Durbin et al. 4.5).

        Four flank states emit the x prefix, then the y prefix, before the core, and
        the x suffix, then the y suffix, after it, from a frozen copy of the insert
        background; a flank's length is geometric with mean ``mean_flank``. The core
        states keep this model's groups (tying is identity: fitting either model updates
        both); the new edges reuse the core's labels scaled by fixed factors, so EM is
        unchanged. A free-end model gets an end: its core is left with probability
        ``1 / (mean_flank + 1)`` after each state. Prefix and suffix lengths get the same
        probability in x and y, so a symmetric model stays symmetric. Alignments report
        the core only, with coordinates where it starts.
        """
        if any(state.flank for state in self.states):
            raise ValueError("this model is already local")
        if not mean_flank > 0:
            raise ValueError(f"mean_flank must be > 0, got {mean_flank}")
        stay = mean_flank / (mean_flank + 1.0)
        leave = 1.0 - stay
        insert = next(s.emission for s in self.states if s.emits != "match")
        background = CategoricalEmission(insert.probs.copy(), name="flank", trainable=False)
        K = len(self.states)
        fx1, fy1, fx2, fy2 = range(K, K + 4)
        states = [*self.states, *(PairState(name, emits, background, flank=True)
                                  for name, emits in (("flank x1", "x"), ("flank y1", "y"),
                                                      ("flank x2", "x"), ("flank y2", "y")))]
        core_start = {j: label for j, label in self.start_edges.items() if j != "end"}
        skip_core = self.start_edges.get("end")
        start = {fx1: stay, fy1: leave * stay,
                 **{j: _scaled(label, leave * leave) for j, label in core_start.items()}}
        transitions = dict(self.transition_edges)
        transitions[(fx1, fx1)] = stay
        transitions[(fx1, fy1)] = leave * stay
        transitions[(fy1, fy1)] = stay
        for j, label in core_start.items():
            transitions[(fx1, j)] = _scaled(label, leave * leave)
            transitions[(fy1, j)] = _scaled(label, leave)
        if self.end_edges is None:  # free end: the core is left with probability `leave`
            core_end: dict[int, Label] = dict.fromkeys(range(K), leave)
            for edge, label in self.transition_edges.items():
                transitions[edge] = _scaled(label, 1.0 - leave)
        else:
            core_end = dict(self.end_edges)
        end: dict[int, Label] = {fx2: leave * leave, fy2: leave}
        for i, label in core_end.items():
            transitions[(i, fx2)] = _scaled(label, stay)
            transitions[(i, fy2)] = _scaled(label, leave * stay)
            end[i] = _scaled(label, leave * leave)
        transitions[(fx2, fx2)] = stay
        transitions[(fx2, fy2)] = leave * stay
        transitions[(fy2, fy2)] = stay
        if skip_core is not None:
            start["end"] = _scaled(skip_core, leave * leave)
            end[fx1] = _scaled(skip_core, leave * leave)
            end[fy1] = _scaled(skip_core, leave)
        model = PairHMM(states, start, transitions, end, alphabet=self.alphabet,
                        soft_ties=self.soft_ties, n_iter=self.n_iter, tol=self.tol,
                        verbose=self.verbose)
        model.source = self.source
        return model

    # -- compiled arrays -------------------------------------------------------------
    def _parameter_key(self) -> bytes:
        """The bytes of every parameter the compiled arrays depend on."""
        parts = [self.topology.edge_probabilities().tobytes()]
        for group in self.topology.emission_groups:
            parts.append((group.table if isinstance(group, MatchEmission) else group.probs)
                         .tobytes())
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
            raise ValueError("both sequences are empty: there is nothing to align")
        return codes_x, codes_y

    def _encode_many(self, pairs, first: int = 0) -> tuple[np.ndarray, ...]:
        """Codes of all pairs end to end with their offsets; errors name the pair's
        index, counted from ``first`` (a chunk's place in the whole batch)."""
        pairs = list(pairs)
        if not pairs:
            raise ValueError("no sequence pairs given")
        encoded = []
        for index, pair in enumerate(pairs, start=first):
            try:
                x, y = pair
                encoded.append(self._encode(x, y))
            except ValueError as error:
                raise ValueError(f"pair {index}: {error}") from None
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

    def posterior(self, x, y) -> np.ndarray:
        """``(len(x), len(y))`` posterior probability that ``x[i]`` is aligned to ``y[j]``."""
        model = self._compiled()
        found = kernels.expectations(*self._encode(x, y), model.dx, model.dy, model.emission,
                                     model.start, model.transmat, model.end)
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
        from .alignment import to_alignment
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if method == "mea":
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
        from .alignment import to_alignment
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
        from .alignment import core_steps
        moves = np.array([state.move for state in self.states], dtype=np.int64)
        flank = np.array([state.flank for state in self.states])
        steps, start_x, start_y = core_steps(path, moves, flank)
        return steps, (start_x, start_y)

    def sample(self, n_pairs: int, random_state: int | np.random.RandomState | None = None
               ) -> list[tuple[str, str]]:
        """Draw ``n_pairs`` unaligned pairs (empty pairs are redrawn); needs end edges."""
        if self.topology.free_end:
            raise ValueError("sampling needs a model with end transitions (e.g. durbin); "
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
            source = self._statistics_source(self._encode_many(pairs))
        else:
            from . import parallel
            chunks, first = [], 0
            for chunk in parallel.split(pairs, parallel.n_chunks(client, len(pairs))):
                chunks.append(self._encode_many(chunk, first))
                first += len(chunk)
            source = parallel.statistics_source(client, _chunk_source, self, chunks)
        self.monitor_ = em.ConvergenceMonitor(self.tol, self.n_iter, self.verbose, callback)
        em.fit([source], self.monitor_, soft_ties=self.soft_ties)
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
    from . import parallel
    chunks = parallel.split(pairs, parallel.n_chunks(client, len(pairs)))
    return parallel.map_chunks(client, function, model, chunks)


def _scaled(label: Label, factor: float) -> Label:
    """``label`` times a constant: a fixed value, or a group label with a factor."""
    if isinstance(label, tuple):
        group, outcome, own = (*label, 1.0) if len(label) == 2 else label
        return (group, outcome, own * factor)
    return float(label) * factor


def _emission_groups(alphabet: Alphabet, symmetric: bool, match, insert, n_gap_kinds: int):
    """Match group and per-gap-kind insert groups for x and y (one shared if symmetric)."""
    if match is None or insert is None:
        from .io import default_tables
        default_match, default_insert = default_tables(alphabet.name)
        match = default_match if match is None else match
        insert = default_insert if insert is None else insert
    match_group = MatchEmission(match, symmetric=symmetric, name="match")
    shared = CategoricalEmission(insert, name="insert")
    if symmetric:
        return match_group, [shared] * n_gap_kinds, [shared] * n_gap_kinds
    insert_x, insert_y = shared, shared.copy()
    insert_x.name, insert_y.name = "insert x", "insert y"
    return match_group, [insert_x] * n_gap_kinds, [insert_y] * n_gap_kinds


def _mea_score(posterior: np.ndarray, moves: np.ndarray) -> float:
    i = np.cumsum(moves != 2) - 1
    j = np.cumsum(moves != 1) - 1
    matched = moves == 0
    return float(posterior[i[matched], j[matched]].sum())


def _raise_if_impossible(logprob: float, what: str = "the pair") -> None:
    if not np.isfinite(logprob):
        raise ValueError(f"{what} has probability 0 under the model (log-likelihood -inf)")
