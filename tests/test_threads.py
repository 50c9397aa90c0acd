"""The threading policy (tiedhmm.parallel): one control for the number of threads,
small work on one thread, a short spin unless the user chose a wait policy, and results
that are bit-identical whatever the number of threads."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tiedhmm as th
from tiedhmm import parallel

TWO = parallel.available_threads() >= 2
needs_two = pytest.mark.skipif(not TWO, reason="needs Numba to have 2 threads")


def _with_threads(count, compute):
    with th.using_threads(count):
        return compute()


def _gaussian_batch():
    rng = np.random.RandomState(0)
    lengths = [400] * 60  # 24,000 frames x 8^2: above SERIAL_WORK, several chunks
    X = np.concatenate([rng.normal(loc=rng.choice([-2.0, 0.0, 2.0]), size=(n, 3))
                        for n in lengths])
    return X, lengths


@needs_two
def test_hmm_em_is_bit_identical_on_one_and_two_threads():
    X, lengths = _gaussian_batch()
    assert parallel.chunk_count(len(X) * 64, len(lengths)) > 1

    def fit():
        model = th.GaussianHMM(8, emission_groups=[0, 1, 2, 3, 3, 4, 5, 6],
                               random_state=0, n_iter=4, tol=-np.inf).fit(X, lengths)
        return model.monitor_.history, model.means_, model.covars_, model.transmat_, \
            model.predict_proba(X, lengths), model.decode(X, lengths)[1]

    one, two = _with_threads(1, fit), _with_threads(2, fit)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@needs_two
def test_pair_scores_posteriors_and_em_are_bit_identical_on_one_and_two_threads():
    truth = th.PairHMM.durbin("protein")
    pairs = truth.sample(40, random_state=1)

    def run():
        model = th.PairHMM.durbin("protein", n_iter=3, tol=-np.inf)
        scores = model.loglik_many(pairs)
        posteriors = model.posterior_many(pairs[:6])
        accuracies = model.expected_accuracy_many(pairs)
        model.fit(pairs)
        return (scores, *posteriors, accuracies, model.monitor_.history,
                model.states[0].emission.table)

    one, two = _with_threads(1, run), _with_threads(2, run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@needs_two
def test_msa_is_identical_on_one_and_two_threads():
    truth = th.PairHMM.durbin("protein")
    family = [x for pair in truth.sample(6, random_state=2) for x in pair if len(x) > 5][:8]
    one = th.msa(family, refinement=10, threads=1)
    two = th.msa(family, refinement=10, threads=2)
    assert one.format("fasta") == two.format("fasta")
    np.testing.assert_array_equal(one.confidence, two.confidence)


def test_small_work_runs_on_one_thread_and_large_work_on_all():
    with parallel.kernel_threads(parallel.SERIAL_WORK - 1) as count:
        assert count == 1
    with parallel.kernel_threads(parallel.SERIAL_WORK) as count:
        assert count == th.get_threads()
    assert parallel.chunk_count(parallel.WORK_PER_CHUNK * 3, 100) == 3
    assert parallel.chunk_count(10, 100) == 1
    assert parallel.chunk_count(1e12, 5) == 5


def test_one_control_with_clear_errors():
    th.set_threads(1)
    try:
        assert th.get_threads() == 1
        with th.using_threads(parallel.available_threads() + 5):
            assert th.get_threads() == parallel.available_threads()  # capped
        assert th.get_threads() == 1
    finally:
        th.set_threads(None)
    assert th.get_threads() == parallel.available_threads()
    for bad in (0, -1, 1.5, "two", True):
        with pytest.raises(th.InvalidDataError, match="threads must be a whole number"):
            th.set_threads(bad)


def _in_fresh_python(code, **environment):
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME",
                          "TIEDHMM_NUM_THREADS")}
    env.update(environment)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_environment_is_honoured():
    spin = "import os, tiedhmm; print(os.environ.get('GOMP_SPINCOUNT'), tiedhmm.get_threads())"
    assert _in_fresh_python(spin) == ["3000", str(parallel.available_threads())]
    assert _in_fresh_python(spin, TIEDHMM_NUM_THREADS="1") == ["3000", "1"]
    assert _in_fresh_python(spin, OMP_WAIT_POLICY="ACTIVE")[0] == "None"  # the user's
    assert _in_fresh_python(spin, GOMP_SPINCOUNT="77")[0] == "77"
    bad = subprocess.run([sys.executable, "-m", "tiedhmm", "align", "x.fa", "--threads", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2  # a usage error


def test_threadpoolctl_limits_reach_the_kernels():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = th.get_threads()
    assert "tiedhmm" in [info["internal_api"] for info in threadpoolctl.threadpool_info()]
    for user_api in (None, "openmp"):
        with threadpoolctl.threadpool_limits(limits=1, user_api=user_api):
            assert th.get_threads() == 1
        assert th.get_threads() == before
    th.set_threads(None)
