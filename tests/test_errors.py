"""The error hierarchy: every error is a ValueError, each names what is wrong, and work
that would not fit in memory says so before it starts."""

import numpy as np
import pytest

import tiedhmm as th
from tiedhmm.io import checks

ERRORS = [th.InvalidDataError, th.TyingError, th.ModelFileError,
          th.ImpossibleSequenceError, th.EMDecreaseError, th.MemoryLimitError]


def test_every_error_is_a_tiedhmm_value_error():
    for error in ERRORS:
        assert issubclass(error, th.TiedHMMError) and issubclass(error, ValueError)
    assert issubclass(th.MemoryLimitError, MemoryError)


def test_each_kind_of_problem_raises_its_error():
    with pytest.raises(th.InvalidDataError, match="letter 'J' at position 3"):
        th.PairHMM.load("dna").loglik("ACJT", "ACGT")
    group = th.TransitionGroup(["stay", "next"], [0.5, 0.4])
    emission = th.CategoricalEmission(np.array([1.0]))
    with pytest.raises(th.TyingError, match=r"state 0: outgoing probabilities sum to 0\.9"):
        th.HMM([emission, emission], {0: 1.0},
               {(0, 0): (group, "stay"), (0, 1): (group, "next"), (1, 1): 1.0})
    never = th.CategoricalHMM(2, n_features=2, init_params="", params="")
    never.startprob_ = np.array([1.0, 0.0])
    never.transmat_ = np.eye(2)
    never.emissionprob_ = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert never.score(np.array([[1]])) == -np.inf
    with pytest.raises(th.ImpossibleSequenceError, match="sequence 0 has probability 0"):
        never.decode(np.array([[1]]))
    with pytest.raises(th.ModelFileError, match="no model file"):
        th.HMM.load("/no/such/model.json")


def test_posterior_work_beyond_the_memory_limit_raises_before_allocating(monkeypatch):
    model = th.PairHMM.load("dna")
    monkeypatch.setattr(checks, "available_memory", lambda: 64 * 2**20)
    x = y = "ACGT" * 750  # 3,000 x 3,000: a dense posterior alone takes 69 MiB
    with pytest.raises(th.MemoryLimitError) as error:
        model.posterior(x, y)
    message = str(error.value)
    assert "3000 x 3000 pair" in message and "64 MiB is available" in message
    assert "threshold=" in message and "method='viterbi'" in message
    assert model.posterior(x, y, threshold=0.01).nnz >= 3000  # sparse: bounded, it runs
    with pytest.raises(th.MemoryLimitError, match="8 MiB is the memory= limit"):
        model.align(x, y, method="mea", memory="8M")  # its moves alone take 9 MB
    for call in (lambda: model.expected_accuracy_many([(x, y)], memory="1M"),
                 lambda: model.fit([(x, y)], memory="1M")):
        with pytest.raises(th.MemoryLimitError):
            call()
    assert model.align(x, y).score < 0  # Viterbi needs a byte a cell: it still runs


def test_an_allocation_failure_becomes_a_memory_limit_error(monkeypatch):
    from tiedhmm._kernels import pair as pair_kernels

    def fails(*args):
        raise MemoryError("Allocation failed (probably too large).")

    monkeypatch.setattr(pair_kernels, "posterior_pass", fails)
    with pytest.raises(th.MemoryLimitError, match="posteriors of a 4 x 3 pair: out of memory"):
        th.PairHMM.load("dna").posterior("ACGT", "ACG")


def test_available_memory_sees_an_address_space_limit():
    import subprocess
    import sys
    code = ("import resource, os; from tiedhmm.io import checks as v; "
            "used = int(open('/proc/self/statm').read().split()[0]) * os.sysconf('SC_PAGE_SIZE'); "
            "resource.setrlimit(resource.RLIMIT_AS, (used + 2**30, resource.RLIM_INFINITY)); "
            "print(v.available_memory())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert 0 < int(result.stdout) <= 2**30
