"""Dask distributed: E-step statistics, fitted models and batch scores from a 2-worker
LocalCluster equal the in-process ones (to rounding: only the summation order differs)."""

import numpy as np
import pytest

import tiedhmm as th
from tests.test_recognizer import _units, _utterance
from tiedhmm import em
from tiedhmm.hmm import inference
from tiedhmm.speech import Recognizer, recognizer

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


def _gaussian_data(seed=0):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(20, 60, size=30)
    X = np.concatenate([rng.normal(loc=rng.choice([-3.0, 0.0, 3.0]), size=(n, 2))
                        for n in lengths])
    return X, lengths


def test_hmm_estep_statistics_equal_in_process(client):
    X, lengths = _gaussian_data()
    model = th.GaussianHMM(3, emission_groups=[0, 1, 1], random_state=0, n_iter=2).fit(X, lengths)
    topology, _ = model._model()
    batch = inference.Batch.from_data(topology, X, lengths)
    local_total, local = em.pooled_statistics([inference.batch_source(topology, batch)])
    remote_total, remote = em.pooled_statistics(
        [inference.batch_source(topology, batch, client)])
    assert remote_total == pytest.approx(local_total, rel=1e-12)
    assert local.keys() == remote.keys()
    for key, (group, stats) in local.items():
        assert remote[key][0] is group
        for name, value in stats.items():
            np.testing.assert_allclose(remote[key][1][name], value, rtol=1e-10, atol=1e-10)


def test_fitted_hmm_and_model_set_equal_in_process(client):
    X, lengths = _gaussian_data(1)
    kwargs = dict(emission_groups=[0, 1, 1], transition_groups=[0, 1, 1], random_state=0,
                  n_iter=5, tol=-np.inf)
    local = th.GaussianHMM(3, **kwargs).fit(X, lengths)
    remote = th.GaussianHMM(3, **kwargs).fit(X, lengths, client=client)
    for name in ("startprob_", "transmat_", "means_", "covars_"):
        np.testing.assert_allclose(getattr(remote, name), getattr(local, name), rtol=1e-8,
                                   atol=1e-10)
    tied_local = th.GaussianHMM(3, "tied", **kwargs).fit(X, lengths)
    tied_remote = th.GaussianHMM(3, "tied", **kwargs).fit(X, lengths, client=client)
    np.testing.assert_allclose(tied_remote.covars_, tied_local.covars_, rtol=1e-8)

    def word_set():
        silence = th.GaussianEmission([0.0, 0.0], [1.0, 1.0], name="silence")
        return th.ModelSet({w: th.left_right([silence, th.GaussianEmission(n_features=2),
                                              silence], init="segments") for w in "ab"},
                           n_iter=4, tol=-np.inf, random_state=0)
    labels = ["a" if k % 2 else "b" for k in range(len(lengths))]
    local_set = word_set().fit(X, lengths, labels)
    remote_set = word_set().fit(X, lengths, labels, client=client)
    np.testing.assert_allclose(remote_set.monitor_.history, local_set.monitor_.history,
                               rtol=1e-10)
    np.testing.assert_allclose(remote_set.score_matrix(X, lengths),
                               local_set.score_matrix(X, lengths), rtol=1e-9)
    shared = remote_set.models["a"].emissions[0]
    assert shared is remote_set.models["b"].emissions[2]


def test_pair_hmm_fit_and_all_vs_all_scores_equal_in_process(client):
    truth = th.PairHMM.durbin("dna", delta=0.05, epsilon=0.5, tau=0.02)
    pairs = truth.sample(60, random_state=2)
    local = th.PairHMM.durbin("dna", delta=0.02, epsilon=0.3, tau=0.02, n_iter=4,
                              tol=-np.inf).fit(pairs)
    remote = th.PairHMM.durbin("dna", delta=0.02, epsilon=0.3, tau=0.02, n_iter=4,
                               tol=-np.inf).fit(pairs, client=client)
    np.testing.assert_allclose(remote.monitor_.history, local.monitor_.history, rtol=1e-10)
    for a, b in zip(remote.topology.transition_groups, local.topology.transition_groups):
        np.testing.assert_allclose(a.probs, b.probs, rtol=1e-9)
    model = th.PairHMM.load("dna")
    sequences = [x for x, _ in pairs[:12]]
    all_pairs = [(a, b) for i, a in enumerate(sequences) for b in sequences[i + 1:]]
    np.testing.assert_array_equal(model.loglik_many(all_pairs, client=client),
                                  model.loglik_many(all_pairs))
    np.testing.assert_array_equal(model.expected_accuracy_many(all_pairs, client=client),
                                  model.expected_accuracy_many(all_pairs))
    for threshold in (None, 0.05):
        remote_posteriors = model.posterior_many(all_pairs, threshold=threshold, client=client)
        for found, expected in zip(remote_posteriors,
                                   model.posterior_many(all_pairs, threshold=threshold)):
            dense = found.toarray() if threshold else found
            np.testing.assert_array_equal(dense, expected.toarray() if threshold else expected)
    remote_alignments = model.align_many(all_pairs, client=client)
    for found, expected in zip(remote_alignments, model.align_many(all_pairs)):
        np.testing.assert_array_equal(found.coordinates, expected.coordinates)
        assert found.score == expected.score
    with pytest.raises(ValueError, match="pair 1: y: letter 'Q'"):
        model.loglik_many([("AC", "AC"), ("AC", "QQ")], client=client)


def test_cli_scheduler_scores_equal_in_process(client, tmp_path, capsys):
    from tiedhmm.cli import main
    example = tmp_path / "seqs.fa"
    example.write_text(">a\nACGTTGCA\n>b\nACGTGCA\n>c\nTTGACGA\n")
    assert main(["score", str(example), "--all-vs-all", "--model", "dna"]) == 0
    local = capsys.readouterr().out
    address = client.scheduler.address
    assert main(["score", str(example), "--all-vs-all", "--model", "dna",
                 "--scheduler", address]) == 0
    assert capsys.readouterr().out == local
    assert main(["score", str(example), "--model", "dna", "--scheduler",
                 "tcp://127.0.0.1:9"]) == 1
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_msa_on_a_cluster_equals_in_process(client):
    family = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "MKTAYIAKQRQLSFVKSHFSRQLEELGLIEVQ",
              "MKVAYIAKQRQISFVKHFSRQAEERLGLIEV", "MRTAYIAKQRQISFVKSHFARQLEERLGLVEVQAP"]
    local = th.msa(family, refinement=10)
    remote = th.msa(family, refinement=10, client=client)
    assert [str(remote[k]) for k in range(4)] == [str(local[k]) for k in range(4)]
    np.testing.assert_allclose(remote.confidence, local.confidence, rtol=1e-12)


def test_recognizer_embedded_training_equals_in_process(client, monkeypatch):
    monkeypatch.setattr(recognizer, "FRAMES_PER_PART", 64)  # several parts: several tasks
    rng = np.random.RandomState(0)
    transcripts = [list(rng.choice(["a", "b"], size=rng.randint(1, 4))) for _ in range(12)]
    data = [_utterance(rng, words, frames_per_state=3)[0] for words in transcripts]
    X, lengths = np.concatenate(data), [len(x) for x in data]
    fitted = []
    for remote in (None, client):
        model = Recognizer(_units(), silence="sil", pause="sp", n_iter=3, tol=-np.inf)
        fitted.append(model.fit(X, lengths, transcripts, client=remote))
    local, distributed_model = fitted
    np.testing.assert_allclose(distributed_model.monitor_.history, local.monitor_.history,
                               rtol=1e-10)
    for a, b in zip(local.inventory.emission_groups, distributed_model.inventory.emission_groups):
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9)
    for a, b in zip(local.inventory.transition_groups,
                    distributed_model.inventory.transition_groups):
        np.testing.assert_allclose(a.probs, b.probs, rtol=1e-9)


def _numba_threads(_owner, chunk):
    import numba
    return [numba.get_num_threads()] * len(chunk)


def test_dask_workers_run_kernels_on_one_thread(client):
    from tiedhmm import parallel
    found = parallel.map_chunks(client, _numba_threads, None, [[0, 1], [2, 3]])
    assert [threads for chunk in found for threads in chunk] == [1, 1, 1, 1]


def test_read_likelihoods_equal_in_process(client):
    rng = np.random.default_rng(6)
    haps = ["".join(rng.choice(list("ACGT"), 200)) for _ in range(5)]
    reads = [h[k:k + 90] for h in haps for k in (10, 60)]
    quals = [rng.integers(10, 40, len(r)) for r in reads]
    local = th.read_likelihoods(haps, reads, quals, 45, 45, 10)
    spread = th.read_likelihoods(haps, reads, quals, 45, 45, 10, client=client)
    np.testing.assert_array_equal(spread, local)  # each pair is computed alone
