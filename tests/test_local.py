"""Local pair HMMs (unaligned flanks) and the scaled edge labels they are built from."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tiedhmm as th
from tests.naive import pair_reference
from tests.test_pairhmm import PRESETS, _arrays

CORE = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"


def test_scaled_labels_count_as_full_rows_and_em_uses_the_tied_update():
    """Begin: a fixed 0.4 to state 1 beside the group scaled by 0.6; state 0 uses the
    group in full, its `move` split over two edges with factors 0.25 and 0.75."""
    group = th.TransitionGroup(["stay", "move"], [0.7, 0.3])
    emissions = [th.CategoricalEmission([0.5, 0.5]) for _ in range(3)]
    topology = th.Topology(emissions, {0: (group, "stay", 0.6), 1: 0.4,
                                       2: (group, "move", 0.6)},
                           {(0, 0): (group, "stay"), (0, 1): (group, "move", 0.25),
                            (0, 2): (group, "move", 0.75), (1, 1): 1.0, (2, 2): 1.0})
    np.testing.assert_allclose(group.multiplicity, [1.0, 1.0])
    startprob, transmat = topology.start_and_transmat()
    np.testing.assert_allclose(startprob, [0.42, 0.4, 0.18])
    np.testing.assert_allclose(transmat[0], [0.7, 0.075, 0.225])
    (stats,) = topology.transition_statistics(np.diag([3.0, 0, 0]) + np.eye(3, k=1),
                                              np.array([1.0, 0.0, 0.0]))
    group.m_step(stats)
    np.testing.assert_allclose(group.probs, [4 / 5, 1 / 5])
    with pytest.raises(ValueError, match=r"factor 1.5 is not in \(0, 1\]"):
        th.Topology(emissions[:1], {0: (group, "stay", 1.5)}, {(0, 0): 1.0})
    other = th.TransitionGroup(["stay", "move"])
    with pytest.raises(ValueError, match="different outcome multiplicities"):
        th.Topology(emissions[:2], {0: (other, "stay"), 1: (other, "move")},
                    {(0, 0): (other, "stay"), (0, 1): (other, "move", 0.5), (1, 1): 1.0})


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("x, y", [("AC", "G"), ("T", "GA"), ("GA", "")])
def test_local_models_match_enumeration(preset, x, y):
    model = PRESETS[preset]("dna").local(mean_flank=3.0)
    codes = [model.alphabet.encode(s) for s in (x, y)]
    ref = pair_reference(*codes, *_arrays(model))
    np.testing.assert_allclose(model.loglik(x, y), ref["loglik"], rtol=1e-12)
    np.testing.assert_allclose(model.posterior(x, y), ref["match_posterior"], atol=1e-12)
    np.testing.assert_allclose(model.align(x, y).score, ref["viterbi_logprob"], rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(x=st.text(alphabet="ACGT", min_size=1, max_size=6),
       y=st.text(alphabet="ACGT", min_size=1, max_size=6),
       preset=st.sampled_from(sorted(PRESETS)))
def test_symmetric_local_models_stay_symmetric(x, y, preset):
    model = PRESETS[preset]("dna", symmetric=True).local(mean_flank=5.0)
    np.testing.assert_allclose(model.loglik(x, y), model.loglik(y, x), rtol=1e-12)
    np.testing.assert_allclose(model.posterior(x, y), model.posterior(y, x).T, atol=1e-12)


@pytest.mark.parametrize("model", [th.PairHMM.durbin("protein"), th.PairHMM.load("protein")],
                         ids=["durbin", "probcons"])
def test_local_alignment_reports_the_shared_core_where_it_starts(model):
    x = "WWWWPPPPGGGGCCHHWW" + CORE + "DDEEDDEE"
    y = "NNRRNNRR" + CORE + "YYFFYYFFYYFF"
    local = model.local(mean_flank=50.0).align(x, y)
    assert tuple(local.coordinates[:, 0]) == (18, 8)
    assert tuple(local.coordinates[:, -1]) == (18 + len(CORE), 8 + len(CORE))
    assert local[0] == local[1] == CORE
    global_alignment = model.align(x, y)
    assert tuple(global_alignment.coordinates[:, 0]) == (0, 0)


def test_local_model_fits_saves_and_keeps_its_core_groups(tmp_path):
    truth = th.PairHMM.durbin("dna", delta=0.05, epsilon=0.5, tau=0.05)
    pairs = [("TTTTGG" + x + "CCAA", "GGAC" + y + "A") for x, y in
             truth.sample(150, random_state=5)]
    base = th.PairHMM.durbin("dna", delta=0.02, epsilon=0.3, tau=0.05)
    local = base.local(mean_flank=4.0)
    local.n_iter, local.tol = 6, -np.inf
    local.fit(pairs)
    history = np.array(local.monitor_.history)
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
    assert local.states[0].emission is base.states[0].emission  # core groups shared
    flank = next(state.emission for state in local.states if state.flank)
    assert flank.probs.tolist() == [0.25] * 4  # frozen background
    local.save(tmp_path / "local.json")
    loaded = th.PairHMM.load(tmp_path / "local.json")
    assert [s.flank for s in loaded.states] == [s.flank for s in local.states]
    assert loaded.loglik(*pairs[0]) == local.loglik(*pairs[0])
    with pytest.raises(ValueError, match="already local"):
        local.local()


def test_long_flanks_build_despite_rounding_in_the_fixed_edges():
    """A mean flank of 10^6 leaves 1e-12 of the begin row to the core's labels; the
    multiplicity check works on the probability scale, so rounding does not trip it."""
    for model in (th.PairHMM.durbin("protein"), th.PairHMM.load("protein")):
        local = model.local(mean_flank=1e6)
        assert np.isfinite(local.loglik("ACDEFG", "ACEFG"))
        np.testing.assert_allclose(local.loglik("ACDEFG", "ACEFG"),
                                   local.loglik("ACEFG", "ACDEFG"), rtol=1e-12)
