"""Spoken-digit recognition with tied word models on the Free Spoken Digit Dataset.

One left-to-right Gaussian HMM per digit, all trained in one joint EM, classifying
each held-out utterance by the best-scoring model. Two systems are compared:

- untied: 6 states per digit, each with its own Gaussian and its own transitions;
- tied: one silence Gaussian shared by the first and last state of every digit,
  5 word states per digit, and one {stay, next, skip} transition group shared by all
  digits: fewer parameters than the untied system.

Usage: python scripts/spoken_digits.py [FEATURES_DIR]   (default ../shared/data/fsdd/)
Held out: recordings numbered 5-9 of every speaker and digit (300 utterances);
training: 10-49 (2,400 utterances).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tiedhmm as th
from tiedhmm.speech import with_deltas

DEFAULT_FEATURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "fsdd"
HELD_OUT = range(5, 10)
N_ITER = 15


def load_features(folder: Path) -> dict[str, np.ndarray]:
    """MFCCs with deltas (26 dims), lengths, digit labels and recording indices."""
    data = np.load(Path(folder) / "fsdd_train_mfcc13.npz")
    X = with_deltas(data["X"].astype(float), data["lengths"])
    return {"X": X, "lengths": data["lengths"], "digit": data["digit"].astype(str),
            "index": data["index"]}


def subset(data: dict[str, np.ndarray], mask: np.ndarray):
    """Frames, lengths and labels of the utterances selected by ``mask``."""
    offsets = np.concatenate(([0], np.cumsum(data["lengths"])))
    rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in np.flatnonzero(mask)])
    return data["X"][rows], data["lengths"][mask], data["digit"][mask]


def digit_models(kind: str, n_features: int) -> dict[str, th.HMM]:
    """Ten word models, untied or tied as the module docstring says."""
    models = {}
    if kind == "untied":
        for digit in map(str, range(10)):
            states = [th.GaussianEmission(n_features=n_features) for _ in range(6)]
            models[digit] = th.left_right(states, transitions="untied", init="segments")
        return models
    silence = th.GaussianEmission(n_features=n_features, name="silence")
    steps = th.TransitionGroup(["stay", "next", "skip"], name="word steps")
    for digit in map(str, range(10)):
        states = [silence, *(th.GaussianEmission(n_features=n_features) for _ in range(5)),
                  silence]
        models[digit] = th.left_right(states, skip=True, transitions=steps, init="segments")
    return models


def n_parameters(models: dict[str, th.HMM]) -> int:
    """Free parameters, counting every shared group once."""
    groups = {id(g): g for m in models.values()
              for g in (*m.topology.emission_groups, *m.topology.transition_groups)}
    total = 0
    for group in groups.values():
        if isinstance(group, th.TransitionGroup):
            total += len(group.outcomes) - 1
        else:
            total += group.mean.size + group.covar.size
    return total


def evaluate(kind: str, data: dict[str, np.ndarray]) -> dict[str, float]:
    """Train one system on the training part; accuracy on the held-out part."""
    held_out = np.isin(data["index"], list(HELD_OUT))
    X_train, lengths_train, labels_train = subset(data, ~held_out)
    X_test, lengths_test, labels_test = subset(data, held_out)
    models = digit_models(kind, data["X"].shape[1])
    model_set = th.ModelSet(models, n_iter=N_ITER, tol=-np.inf, random_state=0)
    start = time.perf_counter()
    model_set.fit(X_train, lengths_train, labels_train)
    seconds = time.perf_counter() - start
    predicted, _ = model_set.classify(X_test, lengths_test)
    return {"accuracy": float(np.mean(predicted == labels_test)),
            "parameters": n_parameters(models), "train_seconds": seconds,
            "n_train": len(lengths_train), "n_test": len(lengths_test)}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", nargs="?", type=Path, default=DEFAULT_FEATURES,
                        help="folder holding fsdd_train_mfcc13.npz")
    args = parser.parse_args(argv)
    data = load_features(args.features)
    results = {kind: evaluate(kind, data) for kind in ("untied", "tied")}
    first = next(iter(results.values()))
    print(f"train {first['n_train']} utterances (recordings 10-49), "
          f"test {first['n_test']} (recordings 5-9), {N_ITER} EM iterations")
    for kind, result in results.items():
        print(f"{kind:>7}: accuracy {result['accuracy']:.3f}  parameters "
              f"{result['parameters']:>5}  train {result['train_seconds']:.2f} s")
    return results


if __name__ == "__main__":
    main()
