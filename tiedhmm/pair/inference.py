"""Pair states and a topology in, kernel arrays and codes out (the pair side of inference.py).

This is the one place that turns a pair HMM's groups into the kernels' arrays
(:func:`compile_pair`: one emission table per state over letter codes, dense start,
transition and end probabilities and their logs), sequences into codes stored end to
end (:func:`encode_pairs`), and state paths into alignment moves. Posterior work
(posteriors, MEA, the E-step) is :mod:`tiedhmm.pair.posterior`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._kernels.paths import core_steps
from ..emissions.pair import state_table
from ..errors import ImpossibleSequenceError, InvalidDataError, TiedHMMError
from ..tying import Topology
from .alphabets import Alphabet
from .states import PairState


@dataclass(frozen=True)
class CompiledPair:
    """The kernel arrays of a pair HMM's current parameters."""

    dx: np.ndarray
    dy: np.ndarray
    emission: np.ndarray
    start: np.ndarray
    transmat: np.ndarray
    end: np.ndarray
    membership: np.ndarray
    moves: np.ndarray
    flank: np.ndarray
    #: ``dx, dy`` and the logs of the probabilities: what Viterbi reads.
    logs: tuple[np.ndarray, ...]

    @property
    def probabilities(self) -> tuple[np.ndarray, ...]:
        """``dx, dy, emission, start, transmat, end``: what the forward kernels read."""
        return self.dx, self.dy, self.emission, self.start, self.transmat, self.end


def compile_pair(states: Sequence[PairState], topology: Topology,
                 alphabet: Alphabet) -> CompiledPair:
    """The kernel arrays of the current parameters (rows are checked to sum to 1)."""
    topology.check_rows()
    membership = alphabet.membership
    moves = np.array([state.move for state in states], dtype=np.int64)
    dx, dy = moves[:, 0].copy(), moves[:, 1].copy()
    emission = np.stack([state_table(state.emission, dx[k], dy[k], membership)
                         for k, state in enumerate(states)])
    start, transmat = topology.start_and_transmat()
    end = topology.end_probabilities()
    with np.errstate(divide="ignore"):
        logs = (dx, dy, *(np.log(array) for array in (emission, start, transmat, end)))
    return CompiledPair(dx, dy, emission, start, transmat, end, membership, moves,
                        np.array([state.flank for state in states]), logs)


class EncodedPairs(NamedTuple):
    """Codes of many pairs stored end to end, with the offsets of each pair's x and y."""

    xs: np.ndarray
    x_offsets: np.ndarray
    ys: np.ndarray
    y_offsets: np.ndarray

    @property
    def lengths(self) -> list[tuple[int, int]]:
        return list(zip(np.diff(self.x_offsets).tolist(), np.diff(self.y_offsets).tolist()))


def encode_pair(alphabet: Alphabet, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes of one pair; two empty sequences are an error."""
    codes_x = alphabet.encode(x, "x")
    codes_y = alphabet.encode(y, "y")
    if codes_x.size == 0 and codes_y.size == 0:
        raise InvalidDataError("both sequences are empty: there is nothing to align")
    return codes_x, codes_y


def encode_pairs(alphabet: Alphabet, pairs: Sequence[tuple[Any, Any]],
                 first: int = 0) -> EncodedPairs:
    """Codes of all pairs end to end; errors name the pair's index, counted from
    ``first`` (a chunk's place in the whole batch)."""
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
            encoded.append(encode_pair(alphabet, x, y))
        except TiedHMMError as error:
            raise type(error)(f"pair {index}: {error}") from None
    return batch_of(encoded)


def batch_of(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> EncodedPairs:
    """Encoded pairs (at least one) stored end to end."""
    xs = [codes for codes, _ in pairs]
    ys = [codes for _, codes in pairs]
    x_offsets = np.concatenate(([0], np.cumsum([len(c) for c in xs]))).astype(np.int64)
    y_offsets = np.concatenate(([0], np.cumsum([len(c) for c in ys]))).astype(np.int64)
    return EncodedPairs(np.concatenate(xs).astype(np.int64), x_offsets,
                        np.concatenate(ys).astype(np.int64), y_offsets)


def path_steps(model: CompiledPair, path: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Moves of a state path's aligned (non-flank) states, and where they start."""
    steps, start_x, start_y = core_steps(path, model.moves, model.flank)
    return steps, (start_x, start_y)


def mea_steps(moves: np.ndarray) -> np.ndarray:
    """Alignment moves ``(dx, dy)`` of an MEA path (0 match, 1 x gap, 2 y gap)."""
    steps: np.ndarray = np.array([(1, 1), (1, 0), (0, 1)])[moves].reshape(-1, 2)
    return steps


def raise_if_impossible(logprob: float, what: str = "the pair") -> None:
    if not np.isfinite(logprob):
        raise ImpossibleSequenceError(f"{what} has probability 0 under the model "
                                      f"(log-likelihood -inf)")
