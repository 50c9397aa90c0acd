"""Benchmark: per-digit word models on FSDD features, tiedhmm vs hmmlearn.

Trains ten 6-state left-to-right models (diag Gaussian, then 2-component GMM) on the
training recordings 10-49 with 15 EM iterations, and classifies the held-out
recordings 5-9, with hmmlearn (one model per digit, scored per utterance) and with
tiedhmm (the same untied models fitted as one ModelSet). Each system is fitted once
(initialisation included), then timed re-fitting 15 iterations from its fitted
parameters, so the ratio is of EM iterations alone, not of k-means initialisations.
Prints seconds per EM iteration (all ten models), classification time, accuracy and
the ratios.

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


def left_right_start() -> tuple[np.ndarray, np.ndarray]:
    startprob = np.eye(N_STATES)[0]
    transmat = 0.5 * (np.eye(N_STATES) + np.eye(N_STATES, k=1))
    transmat[-1, -1] = 1.0
    return startprob, transmat


def hmmlearn_system(family: str, X, lengths, labels):
    """Fitted per-digit hmmlearn models, with each digit's training data."""
    models = {}
    for digit in np.unique(labels):
        rows, digit_lengths, _ = subset({"X": X, "lengths": lengths, "digit": labels,
                                         "index": labels}, labels == digit)
        common = dict(n_iter=N_ITER, tol=-np.inf, random_state=0)
        model = (hmmlearn_hmm.GaussianHMM(N_STATES, "diag", init_params="mc", params="stmc",
                                          **common) if family == "gaussian"
                 else hmmlearn_hmm.GMMHMM(N_STATES, n_mix=2, covariance_type="diag",
                                          init_params="mcw", params="stmcw", **common))
        model.startprob_, model.transmat_ = left_right_start()
        model.fit(rows, digit_lengths)
        model.init_params = ""
        models[digit] = (model, rows, digit_lengths)
    return models


def hmmlearn_refit(models) -> int:
    """EM again from the fitted parameters; returns the iterations run."""
    for model, rows, digit_lengths in models.values():
        model.fit(rows, digit_lengths)
    return N_ITER


def hmmlearn_classify(models, X, lengths) -> np.ndarray:
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = hmmlearn_system(family, X_train, lengths_train, labels_train)
            iterations, their_fit = timed(hmmlearn_refit, theirs)
            their_pred, their_classify = timed(hmmlearn_classify, theirs, X_test,
                                               lengths_test)
        ours = tiedhmm_system(family, X_train.shape[1])
        ours.fit(X_train, lengths_train, labels_train)
        _, our_fit = timed(ours.fit, X_train, lengths_train, labels_train)
        (our_pred, _), our_classify = timed(ours.classify, X_test, lengths_test)
        their_iter, our_iter = their_fit / iterations, our_fit / ours.monitor_.iter
        for name, per_iter, classify, predicted in (
                ("hmmlearn", their_iter, their_classify, their_pred),
                ("tiedhmm", our_iter, our_classify, our_pred)):
            print(f"{family:>10}{name:>10}{per_iter:>10.4f}{classify:>12.3f}"
                  f"{np.mean(predicted == labels_test):>10.3f}")
        print(f"{family:>10}{'ratio':>10}{their_iter / our_iter:>9.1f}x"
              f"{their_classify / our_classify:>11.1f}x")


if __name__ == "__main__":
    main()
