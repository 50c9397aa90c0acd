"""Saving and loading pair HMMs as JSON, keeping ties; bundled default models.

File format (``"format": "tiedhmm.PairHMM"``, ``"version": 1``): ``groups`` lists every
parameter group once with an integer ``id``; ``states`` name their emission group by
id; ``start``, ``transitions`` and ``end`` list edges whose label is either a
number (fixed) or ``{"group": id, "outcome": name}``. States and edges that named one
group object name one id, so loading restores the same sharing. Files are written to
a temporary name and renamed into place, so a failed save leaves no partial file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .alphabets import get_alphabet
from .emissions.base import ParameterGroup
from .emissions.categorical import CategoricalEmission
from .emissions.pair import MatchEmission
from .tying import Label, SoftTie, TransitionGroup

FORMAT = "tiedhmm.PairHMM"
VERSION = 1
BUNDLED = ("protein", "dna")


def data_dir() -> Path:
    """The bundled data folder: inside an installed wheel, or the source tree's ``data/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "protein.json").is_file():
            return candidate
    raise FileNotFoundError("tiedhmm's bundled data folder is missing from this installation")


def _resolve(name_or_path: str | Path) -> Path:
    if str(name_or_path).lower() in BUNDLED:
        return data_dir() / f"{str(name_or_path).lower()}.json"
    return Path(name_or_path)


def _group_to_json(group: ParameterGroup | TransitionGroup, group_id: int) -> dict:
    record = {"id": group_id, "name": group.name, "trainable": group.trainable}
    if isinstance(group, TransitionGroup):
        record.update(kind="transition", outcomes=list(group.outcomes),
                      probs=group.probs.tolist())
    elif isinstance(group, MatchEmission):
        record.update(kind="match", symmetric=group.symmetric, table=group.table.tolist())
    elif isinstance(group, CategoricalEmission):
        record.update(kind="categorical", probs=group.probs.tolist())
    else:
        raise TypeError(f"cannot save {group!r}")
    return record


def _group_from_json(record: dict) -> ParameterGroup | TransitionGroup:
    kind, common = record["kind"], dict(name=record["name"], trainable=record["trainable"])
    if kind == "transition":
        return TransitionGroup(record["outcomes"], record["probs"], **common)
    if kind == "match":
        return MatchEmission(np.array(record["table"]), symmetric=record["symmetric"], **common)
    if kind == "categorical":
        return CategoricalEmission(np.array(record["probs"]), **common)
    raise ValueError(f"unknown group kind {kind!r}")


def pair_hmm_to_json(model, source: str | None = None) -> dict:
    """The JSON document of a pair HMM (see the module docstring)."""
    ids: dict[int, int] = {}
    groups: list[dict] = []

    def group_id(group) -> int:
        if id(group) not in ids:
            ids[id(group)] = len(groups)
            groups.append(_group_to_json(group, ids[id(group)]))
        return ids[id(group)]

    def label(value: Label):
        if isinstance(value, tuple):
            return {"group": group_id(value[0]), "outcome": value[1]}
        return float(value)

    document = {"format": FORMAT, "version": VERSION, "alphabet": model.alphabet.name,
                "source": source or getattr(model, "source", None)}
    document["states"] = [{"name": s.name, "emits": s.emits, "emission": group_id(s.emission)}
                          for s in model.states]
    topology = model.topology
    document["start"] = [[dst, label(value)] for dst, value in model.start_edges.items()]
    document["transitions"] = [[int(i), int(j), label(value)]
                               for (i, j), value in model.transition_edges.items()]
    document["end"] = None if topology.free_end else [
        [int(i), label(value)] for i, value in model.end_edges.items()]
    document["soft_ties"] = [{"groups": [group_id(g) for g in tie.groups],
                              "strength": tie.strength} for tie in model.soft_ties]
    document["groups"] = groups
    return document


def pair_hmm_from_json(document: dict, where: str = "model"):
    """Rebuild a pair HMM from its JSON document; errors name the file and the problem."""
    from .pairhmm import PairHMM, PairState
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{where}: not a tiedhmm pair-HMM file (format {FORMAT!r} expected)")
    if document.get("version") != VERSION:
        raise ValueError(f"{where}: file version {document.get('version')!r} is not supported "
                         f"(this tiedhmm reads version {VERSION})")
    try:
        groups = {record["id"]: _group_from_json(record) for record in document["groups"]}

        def label(value):
            if isinstance(value, dict):
                return (groups[value["group"]], value["outcome"])
            return float(value)

        states = [PairState(s["name"], s["emits"], groups[s["emission"]])
                  for s in document["states"]]
        start = {(dst if dst == "end" else int(dst)): label(value)
                 for dst, value in document["start"]}
        transitions = {(int(i), int(j)): label(value) for i, j, value in document["transitions"]}
        end = (None if document["end"] is None
               else {int(i): label(value) for i, value in document["end"]})
        ties = [SoftTie([groups[g] for g in tie["groups"]], tie["strength"])
                for tie in document["soft_ties"]]
        model = PairHMM(states, start, transitions, end,
                        alphabet=get_alphabet(document["alphabet"]), soft_ties=ties)
    except (KeyError, TypeError, IndexError) as error:
        raise ValueError(f"{where}: malformed model file ({type(error).__name__}: {error})") \
            from None
    model.source = document.get("source")
    return model


def save_pair_hmm(model, path: str | Path, source: str | None = None) -> None:
    """Write ``model`` as JSON to ``path`` atomically (temporary file, then rename)."""
    write_atomic(Path(path), json.dumps(pair_hmm_to_json(model, source), indent=1))


def load_pair_hmm(name_or_path: str | Path):
    """Load a bundled default by name (``"protein"``, ``"dna"``) or a saved model file."""
    path = _resolve(name_or_path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file {str(path)!r} (bundled models: "
                                f"{', '.join(BUNDLED)})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON (truncated or corrupted?): {error}") from None
    return pair_hmm_from_json(document, str(path))


def default_tables(alphabet: str) -> tuple[np.ndarray, np.ndarray]:
    """Match and insert tables of the bundled default model for ``alphabet``."""
    if alphabet not in BUNDLED:
        raise ValueError(f"no bundled tables for alphabet {alphabet!r}: pass match= and insert=")
    model = load_pair_hmm(alphabet)
    match = next(s.emission for s in model.states if s.emits == "match")
    insert = next(s.emission for s in model.states if s.emits != "match")
    return match.table, insert.probs


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
