"""EM-iteration time of tiedhmm vs hmmlearn on the same data and starting parameters.

Both libraries start from identical parameters (``init_params=""``) so that no
initialisation is timed; tiedhmm's compilation is timed apart (first fit in this
process) and a fresh process shows what ``cache=True`` saves. Prints a table with
the hmmlearn / tiedhmm ratio per row. Usage: ``python scripts/bench_hmm.py [--quick]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings

import numba
import numpy as np
from hmmlearn import hmm as hmmlearn_hmm

import tiedhmm as th

N_SEQUENCES, SEQUENCE_LENGTH = 100, 1000


def _parameters(rng, n_states):
    startprob = rng.dirichlet(np.ones(n_states))
    transmat = rng.dirichlet(np.ones(n_states), size=n_states)
    return startprob, transmat


def categorical_case(rng, n_states, n_symbols=20):
    X = rng.randint(n_symbols, size=(N_SEQUENCES * SEQUENCE_LENGTH, 1))
    params = dict(zip(("startprob_", "transmat_"), _parameters(rng, n_states)))
    params["emissionprob_"] = rng.dirichlet(np.ones(n_symbols), size=n_states)
    return (X, dict(n_features=n_symbols), params, th.CategoricalHMM,
            hmmlearn_hmm.CategoricalHMM)


def gaussian_case(rng, n_states, n_features=13):
    X = rng.normal(size=(N_SEQUENCES * SEQUENCE_LENGTH, n_features))
    X += rng.normal(scale=2.0, size=(1, n_features)) * rng.randint(3, size=(X.shape[0], 1))
    params = dict(zip(("startprob_", "transmat_"), _parameters(rng, n_states)))
    params["means_"] = X[rng.choice(X.shape[0], n_states, replace=False)]
    params["covars_"] = np.ones((n_states, n_features))
    return (X, dict(covariance_type="diag"), params, th.GaussianHMM,
            hmmlearn_hmm.GaussianHMM)


def seconds_per_iteration(cls, kwargs, params, X, lengths, n_iter):
    model = cls(len(params["startprob_"]), n_iter=n_iter, tol=-np.inf, init_params="",
                **kwargs)
    for name, value in params.items():
        setattr(model, name, value.copy())
    start = time.perf_counter()
    model.fit(X, lengths)
    return (time.perf_counter() - start) / n_iter, model.monitor_.history[-1]


def fresh_process_seconds() -> float:
    """Wall time of a new Python process that imports tiedhmm and fits a tiny model."""
    code = ("import numpy as np, tiedhmm as th; "
            "th.CategoricalHMM(2, random_state=0, n_iter=2).fit(np.zeros((10, 1), int) + "
            "np.arange(10)[:, None] % 2)")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 8 rows only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rng = np.random.RandomState(0)
    lengths = [SEQUENCE_LENGTH] * N_SEQUENCES
    cases = [("categorical N=8, M=20", categorical_case(rng, 8), 10, 3),
             ("gaussian diag N=8, D=13", gaussian_case(rng, 8), 10, 3)]
    if not args.quick:
        cases += [("categorical N=64, M=20", categorical_case(rng, 64), 3, 1),
                  ("gaussian diag N=64, D=13", gaussian_case(rng, 64), 3, 1)]
    print(f"{N_SEQUENCES} sequences x {SEQUENCE_LENGTH} steps; numba threads: "
          f"{numba.get_num_threads()}")
    small = categorical_case(np.random.RandomState(1), 2, 3)
    start = time.perf_counter()
    seconds_per_iteration(small[3], small[1], small[2], small[0][:100], None, 1)
    print(f"tiedhmm first fit in this process (compile or cache load): "
          f"{time.perf_counter() - start:.2f} s")
    print(f"fresh process, import + tiny fit (kernels cached on disk): "
          f"{fresh_process_seconds():.2f} s")
    print(f"{'case':<26}{'hmmlearn s/iter':>16}{'tiedhmm s/iter':>16}{'ratio':>8}"
          f"{'|dlogL|':>10}")
    for name, (X, kwargs, params, ours, theirs), our_iter, their_iter in cases:
        seconds_per_iteration(ours, kwargs, params, X, lengths, 1)  # compile this shape
        our_time, _ = seconds_per_iteration(ours, kwargs, params, X, lengths, our_iter)
        if theirs is hmmlearn_hmm.GaussianHMM:
            kwargs = dict(kwargs, covars_prior=0.0)
        their_time, their_ll = seconds_per_iteration(theirs, kwargs, params, X, lengths,
                                                     their_iter)
        _, check_ll = seconds_per_iteration(ours, {k: v for k, v in kwargs.items()
                                                   if k != "covars_prior"},
                                            params, X, lengths, their_iter)
        print(f"{name:<26}{their_time:>16.4f}{our_time:>16.4f}{their_time / our_time:>7.1f}x"
              f"{abs(check_ll - their_ll):>10.1e}")


if __name__ == "__main__":
    main()
