"""Topology validation and the tied transition bookkeeping."""

import numpy as np
import pytest

import tiedhmm as th


def _emissions(n_states, n_symbols=2):
    shared = th.CategoricalEmission(np.full(n_symbols, 1.0 / n_symbols))
    return [shared] * n_states


def test_row_sharing_and_multiplicity_assemble_dense_matrices():
    gap = th.TransitionGroup(["stay", "open"], [0.4, 0.3])
    start = th.TransitionGroup(["first"], [1.0])
    topology = th.Topology(_emissions(3), {0: (start, "first")},
                           {(0, 0): (gap, "stay"), (0, 1): (gap, "open"), (0, 2): (gap, "open"),
                            (1, 0): 1.0, (2, 2): 1.0})
    startprob, transmat = topology.start_and_transmat()
    np.testing.assert_allclose(startprob, [1, 0, 0])
    np.testing.assert_allclose(transmat, [[0.4, 0.3, 0.3], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(gap.multiplicity, [1, 2])
    assert topology.state_group.tolist() == [0, 0, 0] and len(topology.emission_groups) == 1


def test_transition_statistics_pool_counts_per_outcome():
    gap = th.TransitionGroup(["stay", "open"], [0.4, 0.3])
    topology = th.Topology(_emissions(3), {0: 1.0},
                           {(0, 0): (gap, "stay"), (0, 1): (gap, "open"), (0, 2): (gap, "open"),
                            (1, 0): 1.0, (2, 2): 1.0})
    counts = np.array([[5.0, 2.0, 3.0], [4.0, 0, 0], [0, 0, 7.0]])
    (stats,) = topology.transition_statistics(counts, np.array([1.0, 0, 0]))
    np.testing.assert_allclose(stats["counts"], [5.0, 5.0])
    gap.m_step(stats)
    np.testing.assert_allclose(gap.probs, [0.5, 0.25])  # 5 / 10 and 5 / (2 * 10)


def test_rows_that_do_not_sum_to_one_are_named():
    group = th.TransitionGroup(["a", "b"], [0.5, 0.4])
    with pytest.raises(ValueError, match=r"state 0: outgoing probabilities sum to 0\.9"):
        th.Topology(_emissions(2), {0: 1.0}, {(0, 0): (group, "a"), (0, 1): (group, "b"),
                                              (1, 1): 1.0})
    with pytest.raises(ValueError, match="state 1: outgoing probabilities sum to 0"):
        th.Topology(_emissions(2), {0: 1.0}, {(0, 1): 1.0})
    with pytest.raises(ValueError, match=r"begin: outgoing probabilities sum to 0\.7"):
        th.Topology(_emissions(1), {0: 0.7}, {(0, 0): 1.0})


def test_inconsistent_multiplicities_are_named():
    group = th.TransitionGroup(["stay", "move"])
    with pytest.raises(ValueError, match=r"different outcome multiplicities: state 0 has "
                                         r"\{stay: 1, move: 1\}, state 1 has \{stay: 1, move: 2\}"):
        th.Topology(_emissions(3), {0: 1.0},
                    {(0, 0): (group, "stay"), (0, 1): (group, "move"),
                     (1, 1): (group, "stay"), (1, 0): (group, "move"), (1, 2): (group, "move"),
                     (2, 2): 1.0})


def test_unknown_outcome_unused_outcome_and_missing_emission_are_errors():
    group = th.TransitionGroup(["stay", "move"])
    with pytest.raises(ValueError, match="unknown outcome 'jump'"):
        th.Topology(_emissions(1), {0: 1.0}, {(0, 0): (group, "jump")})
    with pytest.raises(ValueError, match=r"outcome\(s\) \['move'\] label no edge"):
        th.Topology(_emissions(1), {0: 1.0}, {(0, 0): (group, "stay")})
    with pytest.raises(TypeError, match="state 1 has no emission group"):
        th.Topology([_emissions(1)[0], None], {0: 1.0}, {(0, 0): 1.0, (1, 1): 1.0})
    with pytest.raises(ValueError, match=r"state 5 is not in 0\.\.1"):
        th.Topology(_emissions(2), {0: 1.0}, {(0, 5): 1.0})
    with pytest.raises(ValueError, match=r"fixed probability 1\.5"):
        th.Topology(_emissions(1), {0: 1.0}, {(0, 0): 1.5})


def test_group_shared_by_models_must_keep_its_multiplicities():
    group = th.TransitionGroup(["stay", "move"])
    th.Topology(_emissions(2), {0: 1.0}, {(0, 0): (group, "stay"), (0, 1): (group, "move"),
                                          (1, 1): 1.0})
    np.testing.assert_allclose(group.probs, [0.5, 0.5])
    with pytest.raises(ValueError, match="shared with a model"):
        th.Topology(_emissions(3), {0: 1.0},
                    {(0, 0): (group, "stay"), (0, 1): (group, "move"), (0, 2): (group, "move"),
                     (1, 1): 1.0, (2, 2): 1.0})


def test_end_edges_count_in_row_sums_and_give_end_probabilities():
    loop = th.TransitionGroup(["stay", "end"], [0.9, 0.1])
    topology = th.Topology(_emissions(1), {0: 1.0}, {(0, 0): (loop, "stay")},
                           {0: (loop, "end")})
    np.testing.assert_allclose(topology.end_probabilities(), [0.1])
    (stats,) = topology.transition_statistics(np.array([[3.0]]), np.array([1.0]),
                                              np.array([1.0]))
    np.testing.assert_allclose(stats["counts"], [3.0, 1.0])
    free = th.Topology(_emissions(1), {0: 1.0}, {(0, 0): 1.0})
    np.testing.assert_allclose(free.end_probabilities(), [1.0])
    with pytest.raises(ValueError, match=r"state 0: outgoing probabilities sum to 1\.5"):
        th.Topology(_emissions(1), {0: 1.0}, {(0, 0): 1.0}, {0: 0.5})


def test_soft_tie_needs_distinct_groups_of_one_family():
    a = th.CategoricalEmission([0.5, 0.5])
    with pytest.raises(ValueError, match="two distinct groups"):
        th.SoftTie([a, a], 1.0)
    with pytest.raises(ValueError, match="one family"):
        th.SoftTie([a, th.CategoricalEmission([0.2, 0.3, 0.5])], 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        th.SoftTie([a, a.copy()], -1.0)
