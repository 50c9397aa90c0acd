"""A connected-speech recogniser of shared units: embedded training, decoding and
forced alignment (HTK's HERest and HVite).

Units are HMMs with exits (``left_right(..., exit=True)``); a lexicon spells every word
as a sequence of unit names (by default every unit is a word of its own name). Each
training utterance is known only by its words: EM builds the utterance's composite
network from the units (optional leading and trailing ``silence``, an optional
``pause`` unit after every word, skipped when its begin row says so) and pools every
statistic into the units, so a unit used in many words or utterances is estimated
once from all of them. Decoding runs Viterbi over a :class:`Grammar` expanded the same
way, with a language-model scale and a word insertion penalty; forced alignment runs
Viterbi through the known words. A skippable silence unit
(``left_right(..., skippable=True)``) makes the silence at the ends optional.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import em, parallel
from .._kernels import hmm as dense_kernels
from .._kernels import network as kernels
from ..em.model import EMModel, stored_dict
from ..emissions import initialize_groups, log_likelihood_table
from ..emissions.base import emission_group_statistics, one_pass
from ..errors import ImpossibleSequenceError, InvalidDataError
from ..hmm.model import HMM, named_hmms_document, named_hmms_from_document
from ..io.checks import check_random_state, lengths_to_offsets
from .grammar import Grammar
from .network import BEGIN, END, Inventory, Network, NetworkBatch

#: Frames per E-step part: bounds the ``(T, G)`` tables held at once.
FRAMES_PER_PART = 1 << 15
#: Chunks of utterances per part for the kernels' parallel loop (load balance).
CHUNKS_PER_PART = 64
INITIALIZATIONS = ("segments", "none")


@dataclass(frozen=True)
class Segment:
    """A word (or a unit state) from frame ``start`` to ``end`` (exclusive).

    Parameters
    ----------
    label : str
        The word, or ``"unit[state]"``.
    start, end : int
        Its frames, ``end`` exclusive.
    score : float
        The log score of its frames (acoustic plus transition and language scores).

    Examples
    --------
    >>> from tiedhmm.speech import Segment
    >>> Segment("no", 4, 16, -28.3).end
    16
    """

    label: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Recognition:
    """The best path of one utterance.

    Parameters
    ----------
    words : list of Segment
        The words heard, with their frames.
    states : list of Segment
        The state segments of every unit passed (``label`` is ``"unit[state]"``).
    score : float
        The path's log score.

    Examples
    --------
    >>> from tiedhmm.speech import Recognition, Segment
    >>> found = Recognition([Segment("yes", 0, 12, -30.5)], [], -30.5)
    >>> found.transcript
    ['yes']
    """

    words: list[Segment]
    states: list[Segment]
    score: float

    @property
    def transcript(self) -> list[str]:
        return [segment.label for segment in self.words]


@dataclass
class _Part:
    """Consecutive utterances for one E-step call."""

    X: np.ndarray
    offsets: np.ndarray
    batch: NetworkBatch


class Recognizer(EMModel):
    """A connected-speech recogniser: shared units, a lexicon and the speech options.

    See :mod:`tiedhmm.speech.recognizer` for how composites are built. ``save`` writes
    every unit with its groups once (a pause unit that shares silence's state keeps
    sharing it after ``load``).

    Parameters
    ----------
    units : mapping of str to HMM
        Units with exits (``left_right(..., exit=True)``), by name; they may share
        groups.
    lexicon : mapping of str to sequence of str, optional
        Each word spelled as unit names; by default every unit is a word of its name.
    silence : str, optional
        The unit put at both ends of every utterance.
    pause : str, optional
        The unit put (optionally, when skippable) after every word.
    n_iter : int, default 10
        The most EM iterations of :meth:`fit`.
    tol : float, default 1e-2
        EM stops when the log-likelihood gains less than this.
    verbose : bool, default False
        Print each iteration's log-likelihood to stderr.
    init : {"segments", "none"}, default "segments"
        How :meth:`fit` sets unset emission parameters: a uniform segmentation of each
        utterance over its composite's states, or not at all.
    random_state : int, numpy.random.RandomState or None
        Seeds the initialisation.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        A lexicon naming an unknown unit, or silence or pause not among the units.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> from tiedhmm.speech import Grammar, Recognizer
    >>> def chain(n):
    ...     return th.left_right([th.GaussianEmission(n_features=1) for _ in range(n)])
    >>> units = {"yes": chain(2), "no": chain(2), "sil": chain(1)}
    >>> rng = np.random.RandomState(0)
    >>> levels = {"yes": (3, 5), "no": (-3, -5), "sil": (0,)}
    >>> said = [["yes"], ["no"], ["yes", "no"], ["no", "yes"]] * 3
    >>> frames = [np.concatenate([np.repeat(levels[u], 5) for u in ["sil", *s, "sil"]])
    ...           for s in said]
    >>> X = np.concatenate(frames)[:, None] + 0.3 * rng.randn(sum(map(len, frames)), 1)
    >>> recognizer = Recognizer(units, silence="sil", n_iter=5, random_state=0)
    >>> recognizer = recognizer.fit(X, [len(f) for f in frames], said)
    >>> heard = recognizer.decode(X, [len(f) for f in frames], Grammar.loop(["yes", "no"]))
    >>> [h.transcript for h in heard[:4]]
    [['yes'], ['no'], ['yes', 'no'], ['no', 'yes']]
    """

    document_kind = "tiedhmm.Recognizer"

    def __init__(self, units: Mapping[str, HMM],
                 lexicon: Mapping[str, Sequence[str]] | None = None, *,
                 silence: str | None = None, pause: str | None = None, n_iter: int = 10,
                 tol: float = 1e-2, verbose: bool = False, init: str = "segments",
                 random_state: int | np.random.RandomState | None = None) -> None:
        self.units = stored_dict(units)
        self.lexicon = lexicon
        self.silence = silence
        self.pause = pause
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.init = init
        self.random_state = random_state
        self._inventory_key: tuple[tuple[str, int], ...] | None = None
        self._inventory: Inventory | None = None
        self._networks: dict[tuple[Any, ...], Network] = {}
        self._check()

    def _check(self) -> None:
        if not self.units:
            raise InvalidDataError("a Recognizer needs at least one unit")
        for name, unit in self.units.items():
            if not isinstance(unit, HMM):
                raise TypeError(f"unit {name!r} must be a tiedhmm HMM (e.g. left_right(..., "
                                f"exit=True)) whose groups training updates; got {unit!r}")
        for role in ("silence", "pause"):
            name = getattr(self, role)
            if name is not None and name not in self.units:
                raise InvalidDataError(f"{role} unit {name!r} is not one of the units "
                                       f"{sorted(self.units)}")
        for word, spelling in self.words.items():
            unknown = [unit for unit in spelling if unit not in self.units]
            if not spelling or unknown:
                raise InvalidDataError(f"word {word!r} is spelled with unknown units "
                                       f"{unknown or '(none)'}; units: {sorted(self.units)}")
        if self.init not in INITIALIZATIONS:
            raise InvalidDataError(f"init must be one of {INITIALIZATIONS}, got {self.init!r}")

    @property
    def words(self) -> dict[str, list[str]]:
        """Every word and its units (the lexicon, or each non-silence unit by name)."""
        if self.lexicon is not None:
            return {str(word): list(units) for word, units in self.lexicon.items()}
        return {name: [name] for name in self.units if name not in (self.silence, self.pause)}

    @property
    def inventory(self) -> Inventory:
        """The index of the units' groups (rebuilt when the units change)."""
        return self._compiled()[0]

    def _compiled(self) -> tuple[Inventory, dict[tuple[Any, ...], Network]]:
        """The inventory and the composites built on it, rebuilt when the units change."""
        key = tuple((name, id(unit)) for name, unit in self.units.items())
        if self._inventory is None or self._inventory_key != key:
            self._inventory, self._networks = Inventory(self.units), {}
            self._inventory_key = key
        return self._inventory, self._networks

    # -- networks -----------------------------------------------------------------------
    def network(self, grammar: Grammar, *, lm_scale: float = 1.0,
                word_penalty: float = 0.0) -> Network:
        """The grammar expanded into units: silence at both ends, each word's units and
        the pause after it; arcs into a word score ``lm_scale * log P + word_penalty``."""
        spelling = self.words
        unknown = sorted(set(grammar.vocabulary) - set(spelling))
        if unknown:
            raise InvalidDataError(f"words {unknown} are not in the lexicon "
                                   f"({len(spelling)} words)")
        nodes: list[tuple[str | None, int, bool]] = []
        links: list[tuple[int, int, float]] = []
        entry, leave = {}, {}

        def add(unit: str | None, word: int = -1, first: bool = False) -> int:
            nodes.append((unit, word, first))
            return len(nodes) - 1

        for k, word in enumerate(grammar.words):
            if word is None:
                entry[k] = leave[k] = add(None)
                continue
            chain = [add(unit, k, position == 0)
                     for position, unit in enumerate(spelling[word])]
            if self.pause is not None:
                chain.append(add(self.pause))
            links += [(a, b, 0.0) for a, b in itertools.pairwise(chain)]
            entry[k], leave[k] = chain[0], chain[-1]
        entry[END] = END
        leave[BEGIN] = BEGIN
        if self.silence is not None:
            leave[BEGIN] = add(self.silence)
            entry[END] = add(self.silence)
            links += [(BEGIN, leave[BEGIN], 0.0), (entry[END], END, 0.0)]
        for a, b, log_p in grammar.arcs:
            bonus = word_penalty if b != END and grammar.words[b] is not None else 0.0
            links.append((leave[a], entry[b], lm_scale * log_p + bonus))
        return Network(self.inventory, nodes, links, [w or "" for w in grammar.words])

    def _composite(self, words: tuple[str, ...]) -> Network:
        networks = self._compiled()[1]
        if words not in networks:
            networks[words] = self.network(Grammar.sequence(words))
        return networks[words]

    # -- data ----------------------------------------------------------------------------
    def _frames(self, X: np.ndarray, lengths: Sequence[int] | None
                ) -> tuple[np.ndarray, np.ndarray]:
        groups = self.inventory.emission_groups
        kinds = {group.observation_kind() for group in groups}
        if len(kinds) > 1:
            raise InvalidDataError(f"all units must read the same observations; got "
                                   f"{sorted(kinds)}")
        prepared = groups[0].prepare(X)
        return prepared, lengths_to_offsets(prepared.shape[0], lengths)

    def _transcripts(self, transcripts: Sequence[Any], n_utterances: int) -> list[tuple[str, ...]]:
        if len(transcripts) != n_utterances:
            raise InvalidDataError(f"got {len(transcripts)} transcripts for {n_utterances} "
                                   f"utterances")
        words = self.words
        out = []
        for k, transcript in enumerate(transcripts):
            spoken = tuple(transcript.split() if isinstance(transcript, str) else
                           map(str, transcript))
            unknown = sorted(set(spoken) - set(words))
            if unknown:
                raise InvalidDataError(f"utterance {k}: words {unknown} are not in the "
                                       f"lexicon")
            if not spoken and self.silence is None:
                raise InvalidDataError(f"utterance {k} has no words and there is no silence "
                                       f"unit to explain it")
            out.append(spoken)
        return out

    def _composites(self, X: np.ndarray, lengths: Sequence[int] | None,
                    transcripts: Sequence[Any]
                    ) -> tuple[np.ndarray, np.ndarray, list[Network]]:
        """Prepared frames, utterance offsets and each utterance's composite network."""
        frames, offsets = self._frames(X, lengths)
        spoken = self._transcripts(transcripts, offsets.shape[0] - 1)
        return frames, offsets, [self._composite(words) for words in spoken]

    def _parts(self, X: np.ndarray, offsets: np.ndarray,
               networks: Sequence[Network]) -> list[_Part]:
        """Utterances cut into parts of about ``FRAMES_PER_PART`` frames."""
        parts, first = [], 0
        n = offsets.shape[0] - 1
        while first < n:
            last = int(np.searchsorted(offsets, offsets[first] + FRAMES_PER_PART,
                                       side="right")) - 1
            last = min(max(last, first + 1), n)
            chosen = list(networks[first:last])
            distinct = {id(net): net for net in chosen}
            order = {key: k for k, key in enumerate(distinct)}
            batch = NetworkBatch(list(distinct.values()),
                                 np.array([order[id(net)] for net in chosen]))
            parts.append(_Part(X[offsets[first]:offsets[last]],
                               offsets[first:last + 1] - offsets[first], batch))
            first = last
        return parts

    # -- training ------------------------------------------------------------------------
    def fit(self, X: np.ndarray, lengths: Sequence[int] | None, transcripts: Sequence[Any], *,
            client: Any = None, callback: Callable[[int, float], None] | None = None) -> Recognizer:
        """Embedded re-estimation: EM over every utterance's composite of shared units.

        Each utterance is known by its transcription alone; every statistic is pooled
        into the units, exactly as EM of the explicit composite HMMs would.

        Parameters
        ----------
        X : array of shape (n_frames, n_features)
            Frames of all utterances, end to end.
        lengths : sequence of int or None
            Frames per utterance (hmmlearn's convention); None: one utterance.
        transcripts : sequence
            One transcription per utterance: a list of words or a string split on spaces.
        client : dask.distributed.Client, optional
            Run the E-step over parts of the data on this cluster.
        callback : callable, optional
            ``callback(iteration, loglik)`` hears every iteration.

        Returns
        -------
        Recognizer
            ``self``, fitted; ``monitor_`` holds the EM history.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Words missing from the lexicon, or not one transcription per utterance.
        tiedhmm.errors.ImpossibleSequenceError
            An utterance too short for its transcription.
        """
        frames, offsets, networks = self._composites(X, lengths, transcripts)
        if self.init == "segments":
            self._initialize(frames, offsets, networks)
        self._run_em([self._source(frames, offsets, networks, client)], callback=callback)
        return self

    def statistics_source(self, X: np.ndarray, lengths: Sequence[int] | None,
                          transcripts: Sequence[Any], client: Any = None) -> em.StatisticsSource:
        """An EM statistics source over the utterances' composites (what ``fit`` pools;
        state clustering reads one E-step of it)."""
        return self._source(*self._composites(X, lengths, transcripts), client)

    def _source(self, frames: np.ndarray, offsets: np.ndarray, networks: Sequence[Network],
                client: Any) -> em.StatisticsSource:
        parts = self._parts(frames, offsets, networks)
        if client is None:
            return _source(self.inventory, parts)
        return parallel.statistics_source(client, _source, self.inventory,
                                          [[part] for part in parts])

    def _initialize(self, frames: np.ndarray, offsets: np.ndarray,
                    networks: Sequence[Network]) -> None:
        """Unset groups from a flat segmentation: each utterance cut into equal runs, one
        per state of its composite in order, skippable units left out."""
        inventory = self.inventory
        pending = [g for g, group in enumerate(inventory.emission_groups)
                   if not group.is_initialized()]
        if not pending:
            return
        rows: list[list[np.ndarray]] = [[] for _ in inventory.emission_groups]
        for network, start, stop in zip(networks, offsets[:-1], offsets[1:]):
            states = np.flatnonzero(network.segmented_states)
            cuts = np.linspace(start, stop, states.shape[0] + 1).round().astype(np.int64)
            for k, state in enumerate(states):
                rows[network.state_group[state]].append(np.arange(cuts[k], cuts[k + 1]))
        rng = check_random_state(self.random_state)
        for g in pending:
            chosen = np.concatenate(rows[g]) if rows[g] else np.zeros(0, dtype=np.int64)
            initialize_groups([inventory.emission_groups[g]],
                              frames[chosen] if chosen.size else frames, rng)

    def score(self, X: np.ndarray, lengths: Sequence[int] | None,
              transcripts: Sequence[Any]) -> np.ndarray:
        """Log-likelihood of every utterance under its composite (the E-step kernel, without
        the emission statistics)."""
        frames, offsets, networks = self._composites(X, lengths, transcripts)
        inventory, log_parameters = self.inventory, self.inventory.log_parameters()
        return np.concatenate([_expectations(inventory, part, log_parameters)[0]
                               for part in self._parts(frames, offsets, networks)])

    # -- Viterbi -------------------------------------------------------------------------
    def align(self, X: np.ndarray, lengths: Sequence[int] | None,
              transcripts: Sequence[Any]) -> list[Recognition]:
        """Forced alignment: the best path through each utterance's known words (HVite ``-a``).

        Parameters
        ----------
        X : array of shape (n_frames, n_features)
            Frames of all utterances, end to end.
        lengths : sequence of int or None
            Frames per utterance (hmmlearn's convention); None: one utterance.
        transcripts : sequence
            One transcription per utterance.

        Returns
        -------
        list of Recognition
            Word and state boundaries of each utterance.

        Raises
        ------
        tiedhmm.errors.ImpossibleSequenceError
            An utterance the transcription cannot explain.
        """
        return self._viterbi(*self._composites(X, lengths, transcripts))

    def decode(self, X: np.ndarray, lengths: Sequence[int] | None = None,
               grammar: Grammar | None = None, *, lm_scale: float = 1.0,
               word_penalty: float = 0.0) -> list[Recognition]:
        """The best word sequence of each utterance, by exact Viterbi over a grammar.

        Parameters
        ----------
        X : array of shape (n_frames, n_features)
            Frames of all utterances, end to end.
        lengths : sequence of int or None
            Frames per utterance (hmmlearn's convention); None: one utterance.
        grammar : Grammar, optional
            What may be heard; default a loop of every word.
        lm_scale : float, default 1.0
            Scales the grammar's log-probabilities.
        word_penalty : float, default 0.0
            Added to the log score of every word (negative: fewer insertions).

        Returns
        -------
        list of Recognition
            One per utterance: ``transcript``, word and state segments, score.
        """
        grammar = Grammar.loop(list(self.words)) if grammar is None else grammar
        network = self.network(grammar, lm_scale=lm_scale, word_penalty=word_penalty)
        frames, offsets = self._frames(X, lengths)
        return self._viterbi(frames, offsets, [network] * (offsets.shape[0] - 1))

    def _viterbi(self, frames: np.ndarray, offsets: np.ndarray,
                 networks: Sequence[Network]) -> list[Recognition]:
        inventory = self.inventory
        log_parameters = inventory.log_parameters()
        results: list[Recognition] = []
        for part in self._parts(frames, offsets, networks):
            batch = part.batch
            (log_start, start_edge), (log_end, _), log_edge = batch.log_weights(log_parameters)
            start_word = np.where(start_edge >= 0, batch.start.word[start_edge], -1)
            chunks = dense_kernels.sequence_chunks(part.offsets, CHUNKS_PER_PART)
            with parallel.kernel_threads(_work(part)):
                table = log_likelihood_table(inventory.emission_groups, part.X)
                path, entry, score = kernels.viterbi(
                    table, part.offsets, batch.network_of, batch.state_ptr, batch.state_group,
                    log_start, log_end, batch.edge_ptr, batch.internal.src,
                    batch.internal.dst, log_edge, chunks)
            for s in range(part.offsets.shape[0] - 1):
                if not np.isfinite(score[s]):
                    raise ImpossibleSequenceError(f"utterance {len(results)} has no path "
                                                  f"through its network")
                k = batch.network_of[s]
                a, b = part.offsets[s], part.offsets[s + 1]
                results.append(self._recognition(
                    batch.networks[k], table[a:b], path[a:b], entry[a:b],
                    log_start[batch.state_ptr[k]:batch.state_ptr[k + 1]],
                    start_word[batch.state_ptr[k]:batch.state_ptr[k + 1]],
                    log_edge[batch.edge_ptr[k]:batch.edge_ptr[k + 1]], float(score[s])))
        return results

    def _recognition(self, network: Network, table: np.ndarray, path: np.ndarray,
                     entry: np.ndarray, log_start: np.ndarray, start_word: np.ndarray,
                     log_edge: np.ndarray, score: float) -> Recognition:
        """Words and state segments of one Viterbi path, with their scores."""
        frame_score = table[np.arange(path.shape[0]), network.state_group[path]]
        frame_score[0] += log_start[path[0]]
        frame_score[1:] += log_edge[entry[1:]]
        cumulative = np.concatenate(([0.0], np.cumsum(frame_score)))
        enters = np.empty(path.shape[0], dtype=np.int64)
        enters[0] = start_word[path[0]]
        enters[1:] = network.internal.word[entry[1:]]
        owner = network.node_word[network.state_node[path]]
        words = []
        for start in np.flatnonzero(enters >= 0):
            instance = enters[start]
            stop = start + 1
            while stop < path.shape[0] and owner[stop] == instance and enters[stop] < 0:
                stop += 1
            words.append(Segment(network.words[instance], int(start), int(stop),
                                 float(cumulative[stop] - cumulative[start])))
        changes = np.flatnonzero((path[1:] != path[:-1]) | (enters[1:] >= 0)) + 1
        bounds = np.concatenate(([0], changes, [path.shape[0]]))
        states = []
        for start, stop in itertools.pairwise(bounds):
            state = path[start]
            unit = network.node_unit[network.state_node[state]]
            states.append(Segment(f"{unit}[{network.state_local[state]}]", int(start),
                                  int(stop), float(cumulative[stop] - cumulative[start])))
        return Recognition(words, states, score)

    # -- files ---------------------------------------------------------------------------
    def _document(self) -> dict[str, Any]:
        lexicon = None if self.lexicon is None else self.words
        return {**named_hmms_document(self.units), "lexicon": lexicon,
                "silence": self.silence, "pause": self.pause,
                "settings": {"n_iter": self.n_iter, "tol": self.tol, "init": self.init}}

    @classmethod
    def _from_document(cls, document: dict[str, Any], version: int) -> Recognizer:
        return cls(named_hmms_from_document(document), document["lexicon"],
                   silence=document["silence"], pause=document["pause"],
                   **document["settings"])


def _work(part: _Part) -> int:
    """A part's work for the threading policy: frames x edges of its networks (each
    frame visits every edge of its utterance's network)."""
    batch = part.batch
    edges = np.diff(batch.edge_ptr)[batch.network_of]
    return int(np.sum(np.diff(part.offsets) * edges))


def _expectations(inventory: Inventory, part: _Part, log_parameters: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward-backward of one part: log P per utterance, group occupancy ``(T, G)`` and
    the expected count of every transition slot."""
    batch = part.batch
    start_p, end_p, edge_p = batch.probabilities(log_parameters)
    chunks = dense_kernels.sequence_chunks(part.offsets, CHUNKS_PER_PART)
    with parallel.kernel_threads(_work(part)):
        table = log_likelihood_table(inventory.emission_groups, part.X)
        loglik, occupancy, edge_counts, start_counts, end_counts = kernels.expected_counts(
            table, part.offsets, batch.network_of, batch.state_ptr, batch.state_group,
            start_p, end_p, batch.edge_ptr, batch.internal.src, batch.internal.dst, edge_p,
            chunks)
    return loglik, occupancy, batch.slot_counts(log_parameters, start_counts, end_counts,
                                                edge_counts)


def _source(inventory: Inventory, parts: Sequence[_Part]) -> em.StatisticsSource:
    """An EM statistics source: one E-step of every part under the units' groups."""
    def source() -> tuple[np.ndarray, em.GroupStats, str]:
        logliks, statistics = [], []
        log_parameters = inventory.log_parameters()
        slot_counts = np.zeros(inventory.n_slots)
        for part in parts:
            with one_pass():
                loglik, occupancy, slots = _expectations(inventory, part, log_parameters)
                statistics += emission_group_statistics(inventory.emission_groups, part.X,
                                                        occupancy)
            logliks.append(loglik)
            slot_counts += slots
        statistics += inventory.transition_statistics(slot_counts)
        return np.concatenate(logliks), statistics, "utterance"
    return source
