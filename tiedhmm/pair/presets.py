"""Pair-HMM presets and local flanks, as data for the one pair-HMM model.

Each builder returns a :class:`PairSpec` (states and labelled edges) that
:class:`tiedhmm.pair.model.PairHMM` is built from:

- :func:`durbin`: match M and inserts X, Y (Durbin et al. 1998, ch. 4) with gap open δ,
  extend ε and end τ.
- :func:`probcons`: M with short (X1, Y1) and long (X2, Y2) gaps, free end (ProbCons'
  bi-phasic model).
- :func:`local`: any model with unaligned flanks before and after its core.

``symmetric=True`` ties X with Y: one insert emission group, one gap transition group
per gap length, one ``open`` outcome for ``M -> X`` and ``M -> Y`` (multiplicity 2),
and a symmetric match table. Default match and insert tables are read from the bundled
model files' records, without building a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..emissions.categorical import CategoricalEmission
from ..emissions.pair import MatchEmission
from ..errors import InvalidDataError
from ..io import files as model_files
from ..io.records import decoding
from ..parameters import required
from ..tying import Label, TransitionGroup, scaled
from .alphabets import Alphabet
from .states import PAIR_FORMAT, PairState

#: Published defaults (see data/README.md): ProbCons (protein) and Pecan (DNA).
DURBIN_GAPS = {"protein": (0.01993141696, 0.7943345308), "dna": (0.013652682, 0.9744453)}
PROBCONS_GAPS = {"protein": (0.0119511066, 0.3965826333, 0.008008334786, 0.8988758326),
                 "dna": (0.012986835, 0.7126062401851738, 0.0018214881, 0.99656342579062)}
PROBCONS_PROTEIN_START = (0.6814756989, 8.615339902e-05, 0.1591759622)


class PairSpec(NamedTuple):
    """What a pair HMM is built from: states and start, transition and end edges."""

    states: list[PairState]
    start: dict[int | str, Label]
    transitions: dict[tuple[int, int], Label]
    end: dict[int, Label] | None


def default_tables(alphabet: str) -> tuple[np.ndarray, np.ndarray]:
    """Match and insert tables of the bundled default model for ``alphabet``, read from
    the file's group records."""
    if alphabet not in model_files.BUNDLED_MODELS:
        raise InvalidDataError(f"no bundled tables for alphabet {alphabet!r}: pass match= "
                               f"and insert=")
    document, _, where = model_files.read_document(alphabet, PAIR_FORMAT)
    with decoding(where):
        records = {record["id"]: record for record in document["groups"]}
        emitting = {state["emits"]: records[state["emission"]] for state in document["states"]}
        return np.array(emitting["match"]["table"], dtype=float), \
            np.array(emitting["x"]["probs"], dtype=float)


def durbin(alphabet: Alphabet, *, symmetric: bool = True, delta: float | None = None,
           epsilon: float | None = None, tau: float = 1e-3, match: np.ndarray | None = None,
           insert: np.ndarray | None = None) -> PairSpec:
    """Three states M, X, Y with gap open δ, extend ε and end τ (Durbin et al. ch. 4).

    Begin behaves as M (it shares M's row group, with a begin → end edge). Defaults:
    ProbCons' one-gap-length values for protein, Pecan's for DNA.
    """
    default_delta, default_epsilon = DURBIN_GAPS.get(alphabet.name, (0.02, 0.8))
    delta = default_delta if delta is None else delta
    epsilon = default_epsilon if epsilon is None else epsilon
    if not (delta >= 0 and tau >= 0 and epsilon >= 0 and 2 * delta + tau <= 1
            and epsilon + tau <= 1):
        raise InvalidDataError(f"durbin gaps need delta, epsilon, tau >= 0, 2 delta + tau "
                               f"<= 1 and epsilon + tau <= 1; got delta={delta}, "
                               f"epsilon={epsilon}, tau={tau}")
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
    start: dict[int | str, Label] = {0: (row, "stay"), 1: opens[0], 2: opens[1],
                                     "end": (row, "end")}
    transitions: dict[tuple[int, int], Label] = {(0, 0): (row, "stay"), (0, 1): opens[0],
                                                 (0, 2): opens[1]}
    end: dict[int, Label] = {0: (row, "end")}
    for state, gap in zip((1, 2), gaps):
        transitions[(state, state)] = (gap, "extend")
        transitions[(state, 0)] = (gap, "close")
        end[state] = (gap, "end")
    return PairSpec(states, start, transitions, end)


def probcons(alphabet: Alphabet, *, symmetric: bool = True,
             gaps: tuple[float, float, float, float] | None = None,
             start: tuple[float, float, float] | None = None,
             match: np.ndarray | None = None, insert: np.ndarray | None = None) -> PairSpec:
    """Five states M, X1, Y1, X2, Y2: short and long gaps, free end (ProbCons).

    ``gaps`` is ``(open_short, extend_short, open_long, extend_long)``; ``start`` the
    begin probabilities of ``(M, each short gap state, each long gap state)``,
    renormalised (default: ProbCons' published protein values; for other alphabets
    begin shares M's row).
    """
    open_short, extend_short, open_long, extend_long = (
        PROBCONS_GAPS.get(alphabet.name, PROBCONS_GAPS["protein"]) if gaps is None else gaps)
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
    transitions: dict[tuple[int, int], Label] = {(0, 0): (row, "stay")}
    for state, (opening, gap) in enumerate(zip(opens, (short_x, short_y, long_x, long_y)),
                                           start=1):
        transitions[(0, state)] = opening
        transitions[(state, state)] = (gap, "extend")
        transitions[(state, 0)] = (gap, "close")
    begin: dict[int | str, Label]
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
    return PairSpec(states, begin, transitions, None)


def local(states: Sequence[PairState], start: Mapping[int | str, Label],
          transitions: Mapping[tuple[int, int], Label], end: Mapping[int, Label] | None,
          mean_flank: float) -> PairSpec:
    """A model's states and edges with unaligned flanks (Durbin et al. 4.5).

    Four flank states emit the x prefix, then the y prefix, before the core, and the x
    suffix, then the y suffix, after it, from a frozen copy of the insert background; a
    flank's length is geometric with mean ``mean_flank``. The core states keep their
    groups; the new edges reuse the core's labels scaled by fixed factors, so EM is
    unchanged. A free-end model gets an end: its core is left with probability
    ``1 / (mean_flank + 1)`` after each state. Prefix and suffix lengths get the same
    probability in x and y, so a symmetric model stays symmetric.
    """
    if any(state.flank for state in states):
        raise InvalidDataError("this model is already local")
    if not mean_flank > 0:
        raise InvalidDataError(f"mean_flank must be > 0, got {mean_flank}")
    stay = mean_flank / (mean_flank + 1.0)
    leave = 1.0 - stay
    insert = next(s.emission for s in states if s.emits != "match")
    if not isinstance(insert, CategoricalEmission):
        raise InvalidDataError(f"an insert state's emission must be categorical, got {insert!r}")
    background = CategoricalEmission(required(insert.probs, f"{insert!r} probs").copy(),
                                     name="flank", trainable=False)
    K = len(states)
    fx1, fy1, fx2, fy2 = range(K, K + 4)
    flanked = [*states, *(PairState(name, emits, background, flank=True)
                          for name, emits in (("flank x1", "x"), ("flank y1", "y"),
                                              ("flank x2", "x"), ("flank y2", "y")))]
    core_start = {int(j): label for j, label in start.items() if j != "end"}
    skip_core = start.get("end")
    new_start: dict[int | str, Label] = {
        fx1: stay, fy1: leave * stay,
        **{j: scaled(label, leave * leave) for j, label in core_start.items()}}
    edges = dict(transitions)
    edges[(fx1, fx1)] = stay
    edges[(fx1, fy1)] = leave * stay
    edges[(fy1, fy1)] = stay
    for j, label in core_start.items():
        edges[(fx1, j)] = scaled(label, leave * leave)
        edges[(fy1, j)] = scaled(label, leave)
    if end is None:  # free end: the core is left with probability `leave`
        core_end: dict[int, Label] = dict.fromkeys(range(K), leave)
        for edge, label in transitions.items():
            edges[edge] = scaled(label, 1.0 - leave)
    else:
        core_end = dict(end)
    new_end: dict[int, Label] = {fx2: leave * leave, fy2: leave}
    for i, label in core_end.items():
        edges[(i, fx2)] = scaled(label, stay)
        edges[(i, fy2)] = scaled(label, leave * stay)
        new_end[i] = scaled(label, leave * leave)
    edges[(fx2, fx2)] = stay
    edges[(fx2, fy2)] = leave * stay
    edges[(fy2, fy2)] = stay
    if skip_core is not None:
        new_start["end"] = scaled(skip_core, leave * leave)
        new_end[fx1] = scaled(skip_core, leave * leave)
        new_end[fy1] = scaled(skip_core, leave)
    return PairSpec(flanked, new_start, edges, new_end)


def _emission_groups(alphabet: Alphabet, symmetric: bool, match: Any, insert: Any,
                     n_gap_kinds: int
                     ) -> tuple[MatchEmission, list[CategoricalEmission],
                                list[CategoricalEmission]]:
    """Match group and per-gap-kind insert groups for x and y (one shared if symmetric)."""
    if match is None or insert is None:
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
