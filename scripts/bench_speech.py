"""Benchmark: per-digit word models on FSDD features, tiedhmm vs hmmlearn.

Trains ten 6-state left-to-right models (diag Gaussian, then 2-component GMM) on the
training recordings 10-49 with 15 EM iterations, and classifies the held-out
recordings 5-9, three ways:

- hmmlearn: one model per digit (its own k-means start, seeded), scored per utterance;
- tiedhmm drop-in: tiedhmm's GaussianHMM / GMMHMM per digit from *the same start*
  (hmmlearn's initial arrays copied over) and the same default priors;
- tiedhmm ModelSet: the same untied models as general HMMs fitted in one joint EM from
  an even segmentation (tiedhmm's own start).

Each system is fitted once (initialisation included), then timed re-fitting 15
iterations from its fitted parameters, so the ratio is of EM iterations alone. Prints
seconds per EM iteration (all ten models), classification time, accuracy and the
ratios to hmmlearn.

Usage: python scripts/bench_speech.py [FEATURES_DIR]   (default ../shared/data/fsdd/)
"""

from __future__ import annotations

import argparse
import time
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np
from hmmlearn import hmm as hmmlearn_hmm
from spoken_digits import DEFAULT_FEATURES, HELD_OUT, load_features, subset

import tiedhmm as th

N_STATES, N_ITER = 6, 15
ARRAYS = {"gaussian": ("startprob_", "transmat_", "means_", "covars_"),
          "gmm": ("startprob_", "transmat_", "weights_", "means_", "covars_")}


def left_right_start() -> tuple[np.ndarray, np.ndarray]:
    startprob = np.eye(N_STATES)[0]
    transmat = 0.5 * (np.eye(N_STATES) + np.eye(N_STATES, k=1))
    transmat[-1, -1] = 1.0
    return startprob, transmat


def estimator(library, family: str):
    """One digit's model of ``library`` (hmmlearn's module or tiedhmm)."""
    common = dict(n_iter=N_ITER, tol=-np.inf, random_state=0)
    if family == "gaussian":
        return library.GaussianHMM(N_STATES, "diag", init_params="mc", params="stmc",
                                   **common)
    return library.GMMHMM(N_STATES, n_mix=2, covariance_type="diag", init_params="mcw",
                          params="stmcw", **common)


def per_digit_systems(family: str, X, lengths, labels):
    """hmmlearn's per-digit models and tiedhmm's from the same start, each unfitted,
    with its digit's training data."""
    theirs, ours = {}, {}
    for digit in np.unique(labels):
        rows, digit_lengths, _ = subset({"X": X, "lengths": lengths, "digit": labels,
                                         "index": labels}, labels == digit)
        model = estimator(hmmlearn_hmm, family)
        model.startprob_, model.transmat_ = left_right_start()
        model._init(rows, digit_lengths)  # hmmlearn's own start, copied to tiedhmm's
        model.init_params = ""
        twin = estimator(th, family)
        twin.init_params = ""
        for name in ARRAYS[family]:
            value = model._covars_ if name == "covars_" and family == "gaussian" \
                else getattr(model, name)
            setattr(twin, name, np.array(value, copy=True))
        theirs[digit] = (model, rows, digit_lengths)
        ours[digit] = (twin, rows, digit_lengths)
    return theirs, ours


def fit_each(models) -> int:
    """EM on every digit's model; returns the iterations run per model."""
    for model, rows, digit_lengths in models.values():
        model.fit(rows, digit_lengths)
    return N_ITER


def classify_each(models, X, lengths) -> np.ndarray:
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    names = list(models)
    scores = np.array([[models[n][0].score(X[a:b]) for n in names]
                       for a, b in pairwise(offsets)])
    return np.array(names)[scores.argmax(axis=1)]


def tiedhmm_system(family: str, n_features: int) -> th.ModelSet:
    def emission():
        if family == "gaussian":
            return th.GaussianEmission(n_features=n_features)
        return th.GMMEmission(n_mix=2, n_features=n_features)
    models = {str(d): th.left_right([emission() for _ in range(N_STATES)], exit=False,
                                    transitions="untied", init="segments")
              for d in range(10)}
    return th.ModelSet(models, n_iter=N_ITER, tol=-np.inf, random_state=0)


def timed(call, *args):
    start = time.perf_counter()
    result = call(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", nargs="?", type=Path, default=DEFAULT_FEATURES)
    data = load_features(parser.parse_args().features)
    held_out = np.isin(data["index"], list(HELD_OUT))
    X_train, lengths_train, labels_train = subset(data, ~held_out)
    X_test, lengths_test, labels_test = subset(data, held_out)
    warm = tiedhmm_system("gmm", X_train.shape[1])  # compile (or load) the kernels once
    warm.n_iter = 1
    warm.fit(X_train[:4000], [1000] * 4, ["0", "1", "2", "3"])
    print(f"{len(lengths_train)} training utterances, {len(lengths_test)} test, "
          f"{N_STATES}-state left-right models, {N_ITER} EM iterations")
    print(f"{'model':>10}{'':>10}{'s/iter':>10}{'classify s':>12}{'accuracy':>10}")
    for family in ("gaussian", "gmm"):
        rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs, dropin = per_digit_systems(family, X_train, lengths_train, labels_train)
            for name, models in (("hmmlearn", theirs), ("drop-in", dropin)):
                fit_each(models)
                iterations, fit_time = timed(fit_each, models)
                predicted, classify = timed(classify_each, models, X_test, lengths_test)
                rows.append((name, fit_time / iterations, classify, predicted))
        ours = tiedhmm_system(family, X_train.shape[1])
        ours.fit(X_train, lengths_train, labels_train)
        _, our_fit = timed(ours.fit, X_train, lengths_train, labels_train)
        (our_pred, _), our_classify = timed(ours.classify, X_test, lengths_test)
        rows.append(("ModelSet", our_fit / ours.monitor_.iter, our_classify, our_pred))
        for name, per_iter, classify, predicted in rows:
            print(f"{family:>10}{name:>10}{per_iter:>10.4f}{classify:>12.3f}"
                  f"{np.mean(predicted == labels_test):>10.3f}")
        for name, per_iter, classify, _ in rows[1:]:
            print(f"{family:>10}{'ratio':>10}{rows[0][1] / per_iter:>9.1f}x"
                  f"{rows[0][2] / classify:>11.1f}x   hmmlearn / {name}")


if __name__ == "__main__":
    main()
