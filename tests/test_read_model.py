"""The read model tied by repeat context: contexts, the E-step against brute force,
EM recovering context-dependent indel rates, and files."""

from __future__ import annotations

import numpy as np
import pytest

import tiedhmm as th
from tiedhmm._kernels import reads as kernel
from tiedhmm.pair.reads.contexts import column_contexts, letter_contexts
from tiedhmm.pair.reads.inputs import letter_bits, sequences
from tiedhmm.pair.reads.likelihoods import read_batch

from .naive import context_brute_force

LETTERS = "ACGT"
#: Reads differ from their haplotype by indels only (their base qualities still say Q20):
#: GATK's model emits inserted letters with probability 1, so inside a long homopolymer
#: an insertion plus a deletion (placed anywhere in the tract: many paths) explains a
#: substitution nearly as well as a mismatch does; with 1 % substitutions the fitted
#: opening rate of tracts of 6+ comes out 1.6x the simulated one.
SUBSTITUTION = 0.0


def _contexts(text, max_period=8, max_repeat=20):
    return letter_contexts(letter_bits(text, "test"), max_period, max_repeat).tolist()


def test_repeat_contexts():
    # non-repeat 0; period 1 x n is n - 1; period 2 x n is 1 + 19 + n - 2
    assert _contexts("ACGT") == [0, 0, 0, 0]
    assert _contexts("CAAAAG") == [0, 3, 3, 3, 3, 0]
    assert _contexts("GACACACT") == [0] + [21] * 6 + [0]
    assert _contexts("AAAAAA") == [5] * 6  # period 1 x 6, not period 2 x 3
    assert _contexts("A" * 30) == [19] * 30  # capped at 20
    assert _contexts("ACGACGAC", max_period=2) == [0] * 8  # period 3 not looked for
    model = th.ReadContextModel()
    assert model.context_names()[4] == "period 1 x 5"
    assert model.context_names()[21] == "period 2 x 3"
    assert column_contexts(letter_bits("CAAAAG", "h"), 8, 20).tolist() == \
        [0, 3, 3, 3, 3, 0, 0]


def _random_table(rng, n_contexts):
    opens = rng.dirichlet([8, 1, 1], n_contexts)
    extends = rng.dirichlet([1, 1], n_contexts)
    return np.column_stack([opens[:, 0], extends[:, 1], opens[:, 1], extends[:, 0],
                            opens[:, 2]])


def test_statistics_equal_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(10):
        hap = "".join(rng.choice(list("ACGTN"), rng.integers(1, 5)))
        read = "".join(rng.choice(list("ACGTN"), rng.integers(1, 4)))
        base = rng.integers(3, 40, len(read))
        table = _random_table(rng, 3)
        contexts = rng.integers(0, 3, len(hap) + 1)
        batch = read_batch([read], [base], None, None, None, gaps_from_model=True)
        haps = sequences([hap], "haplotype")
        loglik = np.empty(1)
        opens, extends = kernel.context_statistics(
            np.zeros(1, np.int64), np.zeros(1, np.int64), np.array([0, 1]),
            batch.reads.bits, batch.reads.starts, batch.parameters, haps.bits, haps.starts,
            contexts.astype(np.int64), table, loglik)
        expected_log10, expected_opens, expected_extends = context_brute_force(
            hap, read, base, table, contexts)
        assert loglik[0] / np.log(10) == pytest.approx(expected_log10, abs=1e-9)
        np.testing.assert_allclose(opens, expected_opens, atol=1e-9)
        np.testing.assert_allclose(extends, expected_extends, atol=1e-9)


def test_default_model_is_gatk_with_default_gap_qualities():
    rng = np.random.default_rng(4)
    haps = ["".join(rng.choice(list(LETTERS), 60)) + "AAAAAAA" + "CA" * 6 for _ in range(3)]
    reads = [h[20:70] for h in haps]
    base = [rng.integers(10, 40, len(r)) for r in reads]
    model = th.ReadContextModel()
    for precision in ("mixed", "double"):
        np.testing.assert_allclose(
            th.read_likelihoods(haps, reads, base, model=model, precision=precision),
            th.read_likelihoods(haps, reads, base, 45, 45, 10, precision=precision),
            rtol=0, atol=1e-12)


#: Indel rates by context for the simulations: period 1 (homopolymers) opens more
#: the longer the tract; period 2 more than non-repeats.
MAX_PERIOD, MAX_REPEAT = 2, 6


def _true_rates():
    model = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT)
    names = model.context_names()
    rates = {}
    for k, name in enumerate(names):
        if name == "non-repeat":
            opening, extension = 0.002, 0.1
        elif name.startswith("period 1"):
            repeat = int(name.split("x")[1])
            opening, extension = 0.003 * repeat, 0.3
        else:
            opening, extension = 0.01, 0.2
        rates[k] = (opening, extension)
    return rates


def _haplotype(rng, length):
    """Random sequence with homopolymers and dinucleotide repeats spliced in."""
    parts, total = [], 0
    while total < length:
        kind = rng.integers(3)
        if kind == 0:
            part = "".join(rng.choice(list(LETTERS), rng.integers(3, 10)))
        elif kind == 1:
            part = rng.choice(list(LETTERS)) * int(rng.integers(2, 9))
        else:
            part = "".join(rng.choice(list(LETTERS), 2, replace=False)) * int(rng.integers(2, 5))
        parts.append(part)
        total += len(part)
    return "".join(parts)[:length]


def _simulate(rng, haps, rates, n_reads, read_length, model):
    """Reads drawn from the context model's own process: indels open and extend with
    the rates of the context of the column they leave (and ``SUBSTITUTION``)."""
    contexts = [column_contexts(letter_bits(h, "h"), model.max_period, model.max_repeat)
                for h in haps]
    reads, base, origin = [], [], []
    while len(reads) < n_reads:
        h = int(rng.integers(len(haps)))
        hap, context = haps[h], contexts[h]
        j = int(rng.integers(0, len(hap) - read_length))
        read, state = [], "M"
        while len(read) < read_length and j < len(hap):
            opening, extension = rates[context[j]]
            if state == "M":
                state = rng.choice(["M", "I", "D"], p=[1 - 2 * opening, opening, opening]) \
                    if read else "M"
            else:
                state = state if rng.random() < extension else "M"
            if state == "I":
                read.append(rng.choice(list(LETTERS)))
            elif state == "D":
                j += 1
            else:
                letter = hap[j]
                if rng.random() < SUBSTITUTION:
                    letter = rng.choice([c for c in LETTERS if c != letter])
                read.append(letter)
                j += 1
        if len(read) == read_length and state != "D":
            reads.append("".join(read))
            base.append(np.full(read_length, 20))
            origin.append(h)
    return reads, base, np.array(origin)


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(20261206)
    haps = [_haplotype(rng, 400) for _ in range(6)]
    rates = _true_rates()
    model = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT)
    train = _simulate(rng, haps, rates, 1500, 100, model)
    held_out = _simulate(rng, haps, rates, 300, 100, model)
    fitted = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=30, tol=1e-3)
    fitted.fit(haps, train[0], train[1], haplotype_of=train[2])
    return haps, rates, train, held_out, fitted


def test_em_recovers_each_context_rates(simulated):
    haps, rates, train, _, fitted = simulated
    contexts = np.concatenate([column_contexts(letter_bits(h, "h"), MAX_PERIOD, MAX_REPEAT)
                               for h in haps])
    coverage = len(train[0]) * 100 / sum(len(h) for h in haps)
    checked_open = checked_extend = 0
    for k, (opening, extension) in rates.items():
        openings = (contexts == k).sum() * coverage * opening  # of each kind, about
        name = fitted.context_names()[k]
        if openings >= 150:  # enough indels to estimate the rates from
            probs = fitted.open_groups[k].current()
            assert probs[1] == pytest.approx(opening, rel=0.25), name
            assert probs[2] == pytest.approx(opening, rel=0.25), name
            checked_open += 1
        if 2 * openings >= 300:
            assert fitted.extend_groups[k].current()[0] == pytest.approx(extension, abs=0.08)
            checked_extend += 1
    # homopolymers of 6+ and dinucleotide repeats of 2, 3 and 4 units; the other
    # contexts see too few indels in this sample to pin down
    assert checked_open >= 4 and checked_extend >= 4


def test_em_never_decreases(simulated):
    history = np.array(simulated[4].monitor_.history)
    assert len(history) >= 3
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))


def test_held_out_likelihood_beats_the_flat_model(simulated):
    haps, _, train, held_out, fitted = simulated
    pick = (np.arange(len(held_out[0])), held_out[2])
    # the flat model: one open and one extend group tied across every context
    fitted_flat = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=30, tol=1e-3)
    fitted_flat.open_groups = [fitted_flat.open_groups[0]] * len(fitted_flat.open_groups)
    fitted_flat.extend_groups = [fitted_flat.extend_groups[0]] * len(fitted_flat.extend_groups)
    fitted_flat.fit(haps, train[0], train[1], haplotype_of=train[2])
    tied = th.read_likelihoods(haps, held_out[0], held_out[1], model=fitted)[pick].sum()
    one_group = th.read_likelihoods(haps, held_out[0], held_out[1], model=fitted_flat)[pick]
    assert tied > one_group.sum() + 10  # log10 units over 300 reads


def test_frozen_groups_stay_and_soft_ties_pull(simulated):
    haps, _, train, _, _ = simulated
    frozen = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=2)
    frozen.open_groups[0].trainable = False
    before = frozen.open_groups[0].current().copy()
    frozen.fit(haps, train[0][:200], train[1][:200], haplotype_of=train[2][:200])
    np.testing.assert_array_equal(frozen.open_groups[0].current(), before)
    assert not np.array_equal(frozen.open_groups[4].current(),
                              th.ReadContextModel(MAX_PERIOD, MAX_REPEAT).open_groups[4].current())
    alone = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=3)
    pulled = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=3, soft_tie=1e6)
    for model in (alone, pulled):
        model.fit(haps, train[0][:300], train[1][:300], haplotype_of=train[2][:300])
    spread = [np.ptp([g.current()[1] for g in m.open_groups if g.current()[1] != 10 ** -4.5])
              for m in (alone, pulled)]
    assert spread[1] < spread[0] / 10


def test_saves_and_loads(tmp_path, simulated):
    haps, _, _, held_out, fitted = simulated
    fitted.open_groups[3].trainable = False
    path = tmp_path / "reads.json"
    fitted.save(path)
    loaded = th.ReadContextModel.load(path)
    assert loaded.get_params() == fitted.get_params()
    assert not loaded.open_groups[3].trainable
    np.testing.assert_array_equal(
        th.read_likelihoods(haps, held_out[0][:20], held_out[1][:20], model=loaded),
        th.read_likelihoods(haps, held_out[0][:20], held_out[1][:20], model=fitted))
    fitted.open_groups[3].trainable = True
    with pytest.raises(th.ModelFileError):
        th.PairHMM.load(path)


def test_default_haplotype_is_the_most_likely(simulated):
    haps, _, train, _, _ = simulated
    given = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=1)
    chosen = th.ReadContextModel(MAX_PERIOD, MAX_REPEAT, n_iter=1)
    given.fit(haps, train[0][:100], train[1][:100], haplotype_of=train[2][:100])
    chosen.fit(haps, train[0][:100], train[1][:100])
    np.testing.assert_allclose(given.transition_table(), chosen.transition_table(),
                               rtol=1e-6)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"max_period": 0}, "max_period must be a whole number >= 1"),
    ({"max_repeat": 1}, "max_repeat must be a whole number >= 2"),
    ({"gap_open": 0.7}, "gap_open must be in"),
])
def test_bad_settings(arguments, message):
    with pytest.raises(th.InvalidDataError, match=message):
        th.ReadContextModel(**arguments)


def test_bad_haplotype_of():
    model = th.ReadContextModel(2, 4)
    with pytest.raises(th.InvalidDataError, match="haplotype_of must hold one haplotype"):
        model.fit(["ACGTACGT"], ["ACGT", "CGTA"], ["IIII", "IIII"], haplotype_of=[0, 1])
