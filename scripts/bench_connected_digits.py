"""Benchmark: connected digits with embedded training, a digit loop and forced alignment.

tiedhmm: ten whole-word digit units (left-to-right, no skips), a silence unit and a
skippable short pause tied to the silence's middle state (HTK's sil/sp recipe). The
digit units are bootstrapped on the isolated FSDD recordings 10-49 (HInit's job; none
of the dev strings' recordings 5-9), the silence from an even segmentation of the
strings; then embedded re-estimation on the training strings from their transcripts
alone, with mixture splitting 1 -> 2 -> 4 -> 8 (the silence states get twice as many
components). Features: the 13 MFCCs as they are (deltas and accelerations measured
worse here on accuracy and on boundaries: their +-2..4-frame context drags word
starts early). The test strings are decoded with a digit loop and a word insertion
penalty, and force-aligned to their transcripts.

The peer is what a user can build by hand with hmmlearn: isolated-word GaussianHMMs
trained on the same isolated recordings, a silence state from the pauses at the ends
of the training strings, composed into one looped GaussianHMM and decoded with
hmmlearn's Viterbi (and chained per transcript for forced alignment).

Prints HResults-style scores, the mean boundary error in frames (|start - reference|
and |end - reference| over all words; the references' starts sit about 2 frames late,
see the data's README), training time and decoding speed (x real time, 100 frames =
1 s, one core), and as its last line
``word accuracy A sentence accuracy S boundary error B frames decode R x real time``.

Usage: python scripts/bench_connected_digits.py [--train TRAIN.npz] [--test TEST.npz]
       [--isolated FSDD.npz] [--mixtures 8] [--states 15] [--word-penalty -80]
       [--save MODEL.json]
"""

from __future__ import annotations

import argparse
import time
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np

import tiedhmm as th
from tiedhmm.speech import Grammar, Recognizer, score_transcripts, split_mixtures, with_deltas

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DIGITS = [str(d) for d in range(10)]
SILENCE_STATES = 3
EDGE_FRAMES = 8  # frames at each end of a training string that are surely pause
PEER_STATES = 10  # per digit (6, as scripts/spoken_digits.py, inserted 735 words)


def load_strings(path: Path) -> dict:
    data = np.load(path)
    first = np.concatenate(([0], np.cumsum(data["n_words"])[:-1]))
    return {"X": data["X"].astype(float), "lengths": data["lengths"].astype(np.int64),
            "transcripts": [list(t) for t in data["transcript"].astype(str)],
            "starts": [data["word_starts"][f:f + n] for f, n in zip(first, data["n_words"])],
            "ends": [data["word_ends"][f:f + n] for f, n in zip(first, data["n_words"])]}


def load_isolated(path: Path) -> dict:
    """The isolated recordings numbered 10-49 (the strings' training recordings)."""
    data = np.load(path)
    lengths = data["lengths"].astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    chosen = np.flatnonzero(data["index"] >= 10)
    rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in chosen])
    return {"X": data["X"][rows].astype(float), "lengths": lengths[chosen],
            "digit": data["digit"][chosen].astype(str)}


def recognizer(n_states: int, n_features: int) -> Recognizer:
    def gmm(name):
        return th.GMMEmission(n_mix=1, n_features=n_features, name=name)
    silence = [gmm(f"sil {k}") for k in range(SILENCE_STATES)]
    units = {d: th.left_right([gmm(f"{d} {k}") for k in range(n_states)],
                              transitions="untied", name=d, init="segments") for d in DIGITS}
    units["sil"] = th.left_right(silence, transitions="untied", name="sil")
    units["sp"] = th.left_right(silence, skippable=True, transitions="untied", name="sp")
    return Recognizer(units, silence="sil", pause="sp", tol=-np.inf)


def train(model: Recognizer, data: dict, isolated: dict | None, mixtures: int) -> list[float]:
    """Bootstrap the digits on isolated recordings, then embedded training with
    mixture splitting; returns the training log-likelihood after each round."""
    if isolated is not None:
        words = th.ModelSet({d: model.units[d] for d in DIGITS}, n_iter=5, tol=-np.inf)
        words.fit(isolated["X"], isolated["lengths"], isolated["digit"])
    silence = set(map(id, model.units["sil"].emissions))
    history = []
    for n_mix in (1, 2, 4, 8, 16):
        if n_mix > mixtures:
            break
        groups = model.inventory.emission_groups
        split_mixtures([g for g in groups if id(g) not in silence], n_mix)
        split_mixtures([g for g in groups if id(g) in silence], 2 * n_mix if n_mix > 1 else 1)
        model.n_iter = 6 if n_mix == 1 else 4
        model.fit(data["X"], data["lengths"], data["transcripts"])
        history.append(model.monitor_.history[-1])
    return history


def boundary_errors(alignments, data) -> np.ndarray:
    """Signed start and end errors (found - reference, frames) of every word."""
    starts, ends = [], []
    for found, reference_starts, reference_ends in zip(alignments, data["starts"],
                                                       data["ends"]):
        starts += [w.start - s for w, s in zip(found.words, reference_starts)]
        ends += [w.end - e for w, e in zip(found.words, reference_ends)]
    return np.array([starts, ends])


def hmmlearn_words(isolated: Path, n_states: int) -> list:
    """Per-digit GaussianHMMs (left-to-right, MFCCs with deltas, as
    ``scripts/spoken_digits.py``) fitted on the isolated recordings 10-49."""
    from hmmlearn import hmm as hmmlearn_hmm
    data = np.load(isolated)
    lengths = data["lengths"].astype(np.int64)
    X = with_deltas(data["X"].astype(float), lengths)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    models = []
    for digit in range(10):
        picks = np.flatnonzero((data["index"] >= 10) & (data["digit"] == digit))
        rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in picks])
        model = hmmlearn_hmm.GaussianHMM(n_states, "diag", n_iter=15, random_state=0,
                                         init_params="mc", params="tmc")
        model.startprob_ = np.eye(n_states)[0]
        model.transmat_ = 0.5 * (np.eye(n_states) + np.eye(n_states, k=1))
        model.transmat_[-1, -1] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[rows], lengths[picks])
        models.append(model)
    return models


def hmmlearn_network(models: list, pause: np.ndarray, words: list[int] | None):
    """One GaussianHMM: silence, then each digit's chain (``words``: these digits in
    order, then silence; None: a loop of all digits), with its states' digit and
    position. A digit's last state stays as it learned, or leaves evenly to every
    allowed successor (hmmlearn leaves a left-to-right model's last state absorbing:
    its stay becomes the mean self-loop of the other states)."""
    from hmmlearn import hmm as hmmlearn_hmm
    n_states = models[0].n_components
    chain = list(range(10)) if words is None else words
    size = 2 + len(chain) * n_states
    first = [1 + k * n_states for k in range(len(chain))]
    means = [pause.mean(axis=0)] + [models[d].means_[j] for d in chain
                                    for j in range(n_states)] + [pause.mean(axis=0)]
    covars = [pause.var(axis=0) + 1e-3] + [np.diag(models[d].covars_[j]) for d in chain
                                           for j in range(n_states)] + [pause.var(axis=0) + 1e-3]
    transmat = np.zeros((size, size))
    for k, d in enumerate(chain):
        block = slice(first[k], first[k] + n_states)
        transmat[block, block] = models[d].transmat_
        last = first[k] + n_states - 1
        transmat[last, last] = np.diag(models[d].transmat_)[:-1].mean()
        successors = first if words is None else [first[k + 1]] if k + 1 < len(chain) else []
        successors = [*successors, size - 1]
        transmat[last, successors] += (1 - transmat[last, last]) / len(successors)
    transmat[0, 0] = transmat[-1, -1] = 0.9
    transmat[0, first if words is None else first[:1]] += 0.1 / (10 if words is None else 1)
    transmat[-1, -1] = 1.0
    model = hmmlearn_hmm.GaussianHMM(size, "diag", init_params="", params="")
    model.startprob_ = np.eye(size)[0]
    model.transmat_ = transmat
    model.means_ = np.array(means)
    model.covars_ = np.array(covars)
    digit = np.array([-1] + [d for d in chain for _ in range(n_states)] + [-1])
    position = np.array([-1] + [j for _ in chain for j in range(n_states)] + [-1])
    return model, digit, position


def hmmlearn_segments(path: np.ndarray, digit: np.ndarray, position: np.ndarray):
    """Words ``(digit, start, end)`` of a state path: a word starts where the path
    enters a digit's first state from another state."""
    enters = np.flatnonzero((position[path] == 0) & (np.r_[-1, path[:-1]] != path))
    words = []
    for k, start in enumerate(enters):
        stop = enters[k + 1] if k + 1 < len(enters) else len(path)
        inside = np.flatnonzero(digit[path[start:stop]] < 0)
        words.append((int(digit[path[start]]), int(start),
                      int(start + inside[0]) if inside.size else int(stop)))
    return words


def hmmlearn_route(isolated: Path, train_strings: dict, test: dict):
    """Decoding and forced alignment with looped and chained hmmlearn models."""
    models = hmmlearn_words(isolated, PEER_STATES)
    string_offsets = np.concatenate(([0], np.cumsum(train_strings["lengths"])))
    edges = np.concatenate([np.r_[a:a + EDGE_FRAMES, b - EDGE_FRAMES:b]
                            for a, b in pairwise(string_offsets)])
    pause = with_deltas(train_strings["X"], train_strings["lengths"])[edges]
    test_X = with_deltas(test["X"], test["lengths"])
    loop = hmmlearn_network(models, pause, None)
    offsets = np.concatenate(([0], np.cumsum(test["lengths"])))
    hypotheses = []
    start = time.perf_counter()
    for a, b in pairwise(offsets):
        path = loop[0].decode(test_X[a:b], algorithm="viterbi")[1]
        hypotheses.append([str(d) for d, _, _ in hmmlearn_segments(path, *loop[1:])])
    seconds = time.perf_counter() - start
    errors = []
    for (a, b), words, starts, ends in zip(pairwise(offsets), test["transcripts"],
                                           test["starts"], test["ends"]):
        chain = hmmlearn_network(models, pause, [int(w) for w in words])
        path = chain[0].decode(test_X[a:b], algorithm="viterbi")[1]
        found = hmmlearn_segments(path, *chain[1:])
        errors += [abs(s - r) for (_, s, _), r in zip(found, starts)]
        errors += [abs(e - r) for (_, _, e), r in zip(found, ends)]
    return hypotheses, seconds, float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    strings = SHARED / "fsdd_connected"
    parser.add_argument("--train", type=Path, default=strings / "train_mfcc13.npz")
    parser.add_argument("--test", type=Path, default=strings / "dev_mfcc13.npz")
    parser.add_argument("--isolated", type=Path, default=SHARED / "fsdd" / "fsdd_train_mfcc13.npz")
    parser.add_argument("--mixtures", type=int, default=8)
    parser.add_argument("--states", type=int, default=15)
    parser.add_argument("--word-penalty", type=float, default=-80.0)
    parser.add_argument("--save", type=Path, help="write the trained recogniser here")
    args = parser.parse_args()
    train_data, test = load_strings(args.train), load_strings(args.test)
    frames = int(test["lengths"].sum())
    print(f"train {len(train_data['lengths'])} strings, test {len(test['lengths'])} strings "
          f"({frames} frames, {frames / 100:.0f} s)")

    model = recognizer(args.states, train_data["X"].shape[1])
    start = time.perf_counter()
    isolated = load_isolated(args.isolated) if args.isolated.exists() else None
    history = train(model, train_data, isolated, args.mixtures)
    train_seconds = time.perf_counter() - start
    bootstrap = "bootstrapped on isolated recordings 10-49" if isolated else "flat start"
    if args.save:
        model.save(args.save)
    print(f"tiedhmm training ({bootstrap}): {train_seconds:.1f} s, log-likelihood per round "
          f"{', '.join(f'{h:.0f}' for h in history)}")

    th.set_threads(1)
    model.decode(test["X"][:test["lengths"][0]], test["lengths"][:1])  # compile
    start = time.perf_counter()
    found = model.decode(test["X"], test["lengths"], Grammar.loop(DIGITS),
                         word_penalty=args.word_penalty)
    decode_seconds = time.perf_counter() - start
    th.set_threads(None)
    scores = score_transcripts(test["transcripts"], [f.transcript for f in found])
    alignments = model.align(test["X"], test["lengths"], test["transcripts"])
    signed = boundary_errors(alignments, test)
    error = float(np.abs(signed).mean())
    speed = frames / 100 / decode_seconds
    print(f"tiedhmm: {scores}")
    print(f"tiedhmm: boundary error {error:.2f} frames (starts: mean {signed[0].mean():+.2f}, "
          f"median {np.median(signed[0]):+.0f}; ends: mean {signed[1].mean():+.2f}, median "
          f"{np.median(signed[1]):+.0f}; {np.mean(np.abs(signed) > 5):.1%} off by more than "
          f"5), decoding {decode_seconds:.2f} s on one core = {speed:.0f} x real time")

    if isolated is not None:
        hypotheses, seconds, peer_error = hmmlearn_route(args.isolated, train_data, test)
        peer = score_transcripts(test["transcripts"], hypotheses)
        print(f"hmmlearn looped isolated-word models: {peer}")
        print(f"hmmlearn: boundary error {peer_error:.2f} frames, decoding {seconds:.2f} s = "
              f"{frames / 100 / seconds:.0f} x real time")
        print(f"ratios tiedhmm / hmmlearn: word accuracy {scores.accuracy / peer.accuracy:.3f}, "
              f"decoding speed {seconds / decode_seconds:.1f}x")
    print(f"word accuracy {scores.accuracy:.4f} sentence accuracy "
          f"{scores.sentence_accuracy:.4f} boundary error {error:.2f} frames "
          f"decode {speed:.0f} x real time")


if __name__ == "__main__":
    main()
