"""Model files: version-1 files still load, round trips keep ties, writes are atomic,
and every damaged or mutated file is a ModelFileError, never another exception."""

import copy
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiedhmm as th
from tiedhmm.io import files as model_files

DATA = Path(__file__).resolve().parent / "data"
X = np.array([[0], [1], [2], [2], [0]])


def test_version_1_files_load_with_their_numbers_and_sharing():
    # Written by tiedhmm 0.1.0 (version 1); the numbers are the ones it computed.
    pair = th.PairHMM.load(DATA / "v1_pair_durbin_dna.json")
    assert pair.loglik("ACGTTA", "ACTTA") == -24.308679080819417
    assert pair.states[1].emission is pair.states[2].emission  # symmetric tie restored
    hmm = th.HMM.load(DATA / "v1_hmm.json")
    assert hmm.score(X) == -5.940590156448348
    models = th.ModelSet.load(DATA / "v1_modelset.json").models
    assert models["a"].score(X) == -5.940590156448348
    assert models["b"].score(X) == -6.837751718413507
    assert models["a"].emissions[0] is models["b"].emissions[0]  # shared silence


@pytest.mark.parametrize("name", ["v1_pair_durbin_dna.json", "v1_hmm.json",
                                  "v1_modelset.json"])
def test_version_1_files_resave_as_the_current_version(tmp_path, name):
    kind = json.loads((DATA / name).read_text())["format"]
    model_class = {"tiedhmm.PairHMM": th.PairHMM, "tiedhmm.HMM": th.HMM,
                   "tiedhmm.ModelSet": th.ModelSet}[kind]
    model = model_class.load(DATA / name)
    model.save(tmp_path / "again.json")
    document = json.loads((tmp_path / "again.json").read_text())
    assert document["version"] == model_files.VERSION
    again = model_class.load(tmp_path / "again.json")
    assert again._document() == model._document()


def test_bundled_models_load_by_name_from_inside_the_package():
    text = model_files.bundled_model_text("dna")
    assert json.loads(text)["alphabet"] == "dna"
    assert th.PairHMM.load("DNA").alphabet.name == "dna"
    with pytest.raises(th.ModelFileError, match="bundled models: protein, dna"):
        th.PairHMM.load("rna")


def test_presets_read_default_tables_from_the_bundled_records():
    model = th.PairHMM.load("protein")
    preset = th.PairHMM.probcons("protein")
    match = next(s.emission for s in model.states if s.emits == "match")
    assert np.array_equal(preset.states[0].emission.table, match.table)
    assert np.array_equal(preset.states[1].emission.probs, model.states[1].emission.probs)


def test_saved_files_are_readable_by_others_and_replace_atomically(tmp_path):
    path = tmp_path / "model.json"
    th.PairHMM.durbin("dna").save(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    with pytest.raises(th.InvalidDataError, match="does not exist"):
        th.PairHMM.durbin("dna").save(tmp_path / "missing" / "model.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), model_files.atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _valid_documents() -> list[tuple[type, dict]]:
    sil = th.CategoricalEmission(np.array([0.7, 0.2, 0.1]), name="sil")
    loop = th.TransitionGroup(["stay", "next"], [0.6, 0.4])
    word = th.left_right([sil, th.CategoricalEmission(np.array([0.1, 0.1, 0.8])), sil],
                         transitions=loop)
    gmm = th.HMM([th.GMMEmission(np.array([0.5, 0.5]), np.array([[0.0], [1.0]]),
                                 np.array([[1.0], [2.0]]))], {0: 1.0}, {(0, 0): 1.0})
    frames = np.random.RandomState(0).normal(size=(40, 2))
    tied = th.GaussianHMM(2, "tied", n_iter=1, random_state=0).fit(frames).to_hmm()
    return [(th.PairHMM, th.PairHMM.durbin("dna")._document()),
            (th.HMM, tied._document()),  # a shared covariance part, named by id
            (th.PairHMM, th.PairHMM.probcons("dna", symmetric=False).local()._document()),
            (th.HMM, word._document()),
            (th.HMM, gmm._document()),
            (th.ModelSet, th.ModelSet({"a": word, "b": word})._document())]


VALID = _valid_documents()
ODD_VALUES = st.sampled_from([None, True, -1, 0, 1.5, 1e308, float("nan"), float("inf"),
                              -0.5, "x", "", [], [1, 2], {}, {"group": 99}, [[0.5]]])


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(VALID) - 1), pick=st.integers(0, 10**6),
       action=st.sampled_from(["replace", "delete", "version", "truncate"]),
       replacement=ODD_VALUES, cut=st.integers(0, 10**6))
def test_mutated_model_files_raise_model_file_errors_only(tmp_path_factory, which, pick,
                                                          action, replacement, cut):
    model_class, document = VALID[which]
    document = copy.deepcopy({"format": model_class.document_kind,
                              "version": model_files.VERSION, **document})
    paths = [path for path, _ in _paths(document) if path]
    path = paths[pick % len(paths)]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if action == "replace":
        parent[path[-1]] = replacement
    elif action == "delete":
        del parent[path[-1]]
    elif action == "version":
        document["version"] = replacement
    text = json.dumps(document)
    if action == "truncate":
        text = text[:cut % len(text)]
    file = tmp_path_factory.mktemp("fuzz") / "model.json"
    file.write_text(text)
    try:
        model = model_class.load(file)
    except th.ModelFileError:
        return
    model._document()  # what loaded is a working model


def test_mutations_that_break_the_model_name_the_file(tmp_path):
    document = {"format": "tiedhmm.PairHMM", "version": 2, **th.PairHMM.durbin("dna")
                ._document()}
    document["groups"][1]["probs"] = [0.5, 0.5, 0.5, 0.5]  # does not sum to 1
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(th.ModelFileError, match=r"broken\.json: malformed model file"):
        th.PairHMM.load(path)
    document["version"] = 7
    path.write_text(json.dumps(document))
    with pytest.raises(th.ModelFileError, match="version 7 is not supported"):
        th.PairHMM.load(path)


def test_version_2_files_with_min_covar_and_no_priors_still_load(tmp_path):
    """tiedhmm 0.2 wrote a Gaussian's floor as ``min_covar`` and no ``prior`` fields."""
    shared = th.GaussianEmission([0.0], [2.0], covar_floor=0.01)
    model = th.HMM([shared, shared], {0: 1.0}, {(0, 1): 1.0, (1, 1): 1.0})
    model.save(tmp_path / "new.json")
    document = json.loads((tmp_path / "new.json").read_text())
    document["version"] = 2
    for group in document["groups"]:
        group.pop("prior", None)
        if "covar_floor" in group:
            group["min_covar"] = group.pop("covar_floor")
    (tmp_path / "old.json").write_text(json.dumps(document))
    loaded = th.HMM.load(tmp_path / "old.json")
    assert loaded.emissions[0] is loaded.emissions[1]
    assert loaded.emissions[0].covar_floor == 0.01 and loaded.emissions[0].prior is None
    X = np.array([[0.5], [1.0], [-0.2]])
    assert loaded.score(X) == model.score(X)
