"""Saving and loading models as JSON, keeping ties and sharing; bundled default models.

Every file is one JSON document with ``"format"`` and ``"version": 1``:

- ``"tiedhmm.PairHMM"``: one pair HMM; ``states`` (name, emits, emission group id),
  ``start``, ``transitions`` and ``end`` edge lists, ``alphabet``.
- ``"tiedhmm.HMM"``: one HMM (``model``); ``"tiedhmm.ModelSet"``: named HMMs
  (``models``) and the set's EM settings. An HMM record holds ``states`` (one emission
  group id per state), ``edges`` (``[src, dst, label]`` with ``"begin"``/``"end"`` for
  the silent ends), ``free_end``, ``soft_ties`` and ``settings``.

In all of them ``groups`` lists every parameter group once with an integer ``id``,
and an edge label is a number (fixed) or ``{"group": id, "outcome": name}`` (with
``"factor"`` when the edge carries a constant factor other than 1). Whatever
named one group object names one id, so loading restores the same sharing, across the
models of a set too; saving one model alone writes its own copy of its groups.
Numbers are written with Python's shortest round-trip repr, so a round trip keeps
parameters, and hence log-likelihoods, bit-identical. The hmmlearn-style estimators
are saved as the general :class:`~tiedhmm.hmm.HMM` they compile to. Files are written
to a temporary name and renamed into place, so a failed save leaves no partial file.
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
from .emissions.gaussian import GaussianEmission
from .emissions.gmm import GMMEmission
from .emissions.pair import MatchEmission
from .tying import Label, SoftTie, TransitionGroup

FORMAT = "tiedhmm.PairHMM"
HMM_FORMAT = "tiedhmm.HMM"
SET_FORMAT = "tiedhmm.ModelSet"
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


def _listed(value: np.ndarray | None):
    return None if value is None else np.asarray(value).tolist()


def _array(value) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=float)


def _group_to_json(group: ParameterGroup | TransitionGroup, group_id: int) -> dict:
    record = {"id": group_id, "name": group.name, "trainable": group.trainable}
    if isinstance(group, TransitionGroup):
        record.update(kind="transition", outcomes=list(group.outcomes),
                      probs=_listed(group.probs))
    elif isinstance(group, MatchEmission):
        record.update(kind="match", symmetric=group.symmetric, table=group.table.tolist())
    elif isinstance(group, CategoricalEmission):
        record.update(kind="categorical", n_features=group.n_features,
                      probs=_listed(group.probs))
    elif isinstance(group, GaussianEmission):
        record.update(kind="gaussian", covariance=group.covariance, min_covar=group.min_covar,
                      n_features=group.n_features, mean=_listed(group.mean),
                      covar=_listed(group.covar))
    elif isinstance(group, GMMEmission):
        record.update(kind="gmm", covariance=group.covariance, min_covar=group.min_covar,
                      n_mix=group.n_mix, n_features=group.n_features,
                      weights=_listed(group.weights), means=_listed(group.means),
                      covars=_listed(group.covars))
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
        return CategoricalEmission(_array(record["probs"]),
                                   n_features=record.get("n_features"), **common)
    if kind == "gaussian":
        return GaussianEmission(_array(record["mean"]), _array(record["covar"]),
                                n_features=record["n_features"],
                                covariance=record["covariance"],
                                min_covar=record["min_covar"], **common)
    if kind == "gmm":
        return GMMEmission(_array(record["weights"]), _array(record["means"]),
                           _array(record["covars"]), n_mix=record["n_mix"],
                           n_features=record["n_features"], covariance=record["covariance"],
                           min_covar=record["min_covar"], **common)
    raise ValueError(f"unknown group kind {kind!r}")


class _GroupWriter:
    """Gives every group object one id and one record, however often it is named."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.records: list[dict] = []

    def id(self, group: ParameterGroup | TransitionGroup) -> int:
        if id(group) not in self.ids:
            self.ids[id(group)] = len(self.records)
            self.records.append(_group_to_json(group, self.ids[id(group)]))
        return self.ids[id(group)]

    def label(self, value: Label):
        if isinstance(value, tuple):
            record = {"group": self.id(value[0]), "outcome": value[1]}
            if len(value) == 3 and float(value[2]) != 1.0:
                record["factor"] = float(value[2])
            return record
        return float(value)

    def soft_ties(self, ties) -> list[dict]:
        return [{"groups": [self.id(g) for g in tie.groups], "strength": tie.strength}
                for tie in ties]


class _GroupReader:
    """One group object per id of a document's ``groups``."""

    def __init__(self, records: list[dict]) -> None:
        self.groups = {record["id"]: _group_from_json(record) for record in records}

    def label(self, value) -> Label:
        if isinstance(value, dict):
            return (self.groups[value["group"]], value["outcome"], value.get("factor", 1.0))
        return float(value)

    def soft_ties(self, records: list[dict]) -> list[SoftTie]:
        return [SoftTie([self.groups[g] for g in tie["groups"]], tie["strength"])
                for tie in records]


def pair_hmm_to_json(model, source: str | None = None) -> dict:
    """The JSON document of a pair HMM (see the module docstring)."""
    writer = _GroupWriter()
    document = {"format": FORMAT, "version": VERSION, "alphabet": model.alphabet.name,
                "source": source or getattr(model, "source", None)}
    document["states"] = [{"name": s.name, "emits": s.emits, "emission": writer.id(s.emission),
                           "flank": s.flank} for s in model.states]
    document["start"] = [[dst, writer.label(value)] for dst, value in model.start_edges.items()]
    document["transitions"] = [[int(i), int(j), writer.label(value)]
                               for (i, j), value in model.transition_edges.items()]
    document["end"] = None if model.topology.free_end else [
        [int(i), writer.label(value)] for i, value in model.end_edges.items()]
    document["soft_ties"] = writer.soft_ties(model.soft_ties)
    document["groups"] = writer.records
    return document


def _check_document(document, expected: str, where: str) -> None:
    found = document.get("format") if isinstance(document, dict) else None
    if found != expected:
        holds = f"it holds {found!r}" if isinstance(found, str) else "no tiedhmm format found"
        raise ValueError(f"{where}: not a {expected} file ({holds})")
    if document.get("version") != VERSION:
        raise ValueError(f"{where}: file version {document.get('version')!r} is not supported "
                         f"(this tiedhmm reads version {VERSION})")


def _malformed(where: str, error: Exception) -> ValueError:
    return ValueError(f"{where}: malformed model file ({type(error).__name__}: {error})")


def pair_hmm_from_json(document: dict, where: str = "model"):
    """Rebuild a pair HMM from its JSON document; errors name the file and the problem."""
    from .pairhmm import PairHMM, PairState
    _check_document(document, FORMAT, where)
    try:
        reader = _GroupReader(document["groups"])
        states = [PairState(s["name"], s["emits"], reader.groups[s["emission"]],
                            s.get("flank", False)) for s in document["states"]]
        start = {(dst if dst == "end" else int(dst)): reader.label(value)
                 for dst, value in document["start"]}
        transitions = {(int(i), int(j)): reader.label(value)
                       for i, j, value in document["transitions"]}
        end = (None if document["end"] is None
               else {int(i): reader.label(value) for i, value in document["end"]})
        model = PairHMM(states, start, transitions, end,
                        alphabet=get_alphabet(document["alphabet"]),
                        soft_ties=reader.soft_ties(document["soft_ties"]))
    except (KeyError, TypeError, IndexError) as error:
        raise _malformed(where, error) from None
    model.source = document.get("source")
    return model


HMM_SETTINGS = ("algorithm", "n_iter", "tol", "init")


def _hmm_record(model, writer: _GroupWriter) -> dict:
    topology = model._topology()
    edges = []
    for src, dst, group, outcome, fixed in zip(topology.edge_src, topology.edge_dst,
                                               topology.edge_group, topology.edge_outcome,
                                               topology.edge_fixed):
        if group >= 0:
            owner = topology.transition_groups[group]
            label = writer.label((owner, owner.outcomes[outcome], fixed))
        else:
            label = float(fixed)
        silent = topology.n_states
        edges.append(["begin" if src == silent else int(src),
                      "end" if dst == silent else int(dst), label])
    return {"states": [writer.id(topology.emission_groups[g]) for g in topology.state_group],
            "edges": edges, "free_end": topology.free_end,
            "soft_ties": writer.soft_ties(model._soft_ties(topology)),
            "settings": {name: getattr(model, name) for name in HMM_SETTINGS}}


def _hmm_from_record(record: dict, reader: _GroupReader):
    from .hmm import HMM
    start, transitions, end = {}, {}, {}
    for src, dst, value in record["edges"]:
        label = reader.label(value)
        if src == "begin":
            start["end" if dst == "end" else int(dst)] = label
        elif dst == "end":
            end[int(src)] = label
        else:
            transitions[(int(src), int(dst))] = label
    return HMM([reader.groups[g] for g in record["states"]], start, transitions,
               None if record["free_end"] else end,
               soft_ties=reader.soft_ties(record["soft_ties"]), **record["settings"])


def save_hmm(model, path: str | Path) -> None:
    """Write one HMM (its own copy of its groups) atomically as JSON."""
    writer = _GroupWriter()
    document = {"format": HMM_FORMAT, "version": VERSION,
                "model": _hmm_record(model, writer), "groups": writer.records}
    write_atomic(Path(path), json.dumps(document, indent=1))


def save_model_set(model_set, path: str | Path) -> None:
    """Write a ModelSet atomically as JSON; each group shared by its models appears once."""
    writer = _GroupWriter()
    models = {name: _hmm_record(model, writer) for name, model in model_set.models.items()}
    document = {"format": SET_FORMAT, "version": VERSION, "models": models,
                "settings": {"n_iter": model_set.n_iter, "tol": model_set.tol},
                "groups": writer.records}
    write_atomic(Path(path), json.dumps(document, indent=1))


def load_hmm(path: str | Path):
    """Read an HMM written by :func:`save_hmm`."""
    document = _read_document(Path(path), HMM_FORMAT)
    try:
        return _hmm_from_record(document["model"], _GroupReader(document["groups"]))
    except (KeyError, TypeError, IndexError) as error:
        raise _malformed(str(path), error) from None


def load_model_set(path: str | Path):
    """Read a ModelSet written by :func:`save_model_set`, with its sharing restored."""
    from .modelset import ModelSet
    document = _read_document(Path(path), SET_FORMAT)
    try:
        reader = _GroupReader(document["groups"])
        models = {name: _hmm_from_record(record, reader)
                  for name, record in document["models"].items()}
        return ModelSet(models, **document["settings"])
    except (KeyError, TypeError, IndexError) as error:
        raise _malformed(str(path), error) from None


def _read_document(path: Path, expected: str) -> dict:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file {str(path)!r}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON (truncated or corrupted?): {error}") from None
    _check_document(document, expected, str(path))
    return document


def save_pair_hmm(model, path: str | Path, source: str | None = None) -> None:
    """Write ``model`` as JSON to ``path`` atomically (temporary file, then rename)."""
    write_atomic(Path(path), json.dumps(pair_hmm_to_json(model, source), indent=1))


def load_pair_hmm(name_or_path: str | Path):
    """Load a bundled default by name (``"protein"``, ``"dna"``) or a saved model file."""
    path = _resolve(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file {str(path)!r} (bundled models: "
                                f"{', '.join(BUNDLED)})")
    return pair_hmm_from_json(_read_document(path, FORMAT), str(path))


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
