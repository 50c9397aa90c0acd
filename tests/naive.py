"""Slow, obviously correct references: enumerate every state path of tiny HMMs."""

from __future__ import annotations

import itertools

import numpy as np


def path_probabilities(startprob, transmat, emission_prob):
    """Every state path of length T with its joint probability P(path, x)."""
    n_steps, n_states = emission_prob.shape
    for path in itertools.product(range(n_states), repeat=n_steps):
        prob = startprob[path[0]] * emission_prob[0, path[0]]
        for t in range(1, n_steps):
            prob *= transmat[path[t - 1], path[t]] * emission_prob[t, path[t]]
        yield path, prob


def hmm_reference(startprob, transmat, emission_prob):
    """Forward/backward variables, posteriors, counts and Viterbi of one sequence.

    ``emission_prob[t, i]`` is P(x_t | state i). Returns a dict with ``loglik``,
    ``alpha`` (P(x_0..t, z_t)), ``beta`` (P(x_t+1.. | z_t)), ``posterior``,
    ``transitions`` (expected counts of i -> j), ``starts``, ``viterbi_path`` and
    ``viterbi_logprob``.
    """
    n_steps, n_states = emission_prob.shape
    paths = list(path_probabilities(startprob, transmat, emission_prob))
    total = sum(prob for _, prob in paths)
    posterior = np.zeros((n_steps, n_states))
    transitions = np.zeros((n_states, n_states))
    for path, prob in paths:
        for t, state in enumerate(path):
            posterior[t, state] += prob
        for t in range(1, n_steps):
            transitions[path[t - 1], path[t]] += prob
    alpha = np.zeros((n_steps, n_states))
    beta = np.zeros((n_steps, n_states))
    for t in range(n_steps):
        prefix = emission_prob[: t + 1]
        for path, prob in path_probabilities(startprob, transmat, prefix):
            alpha[t, path[-1]] += prob
        suffix = emission_prob[t:]
        for i in range(n_states):
            start = np.zeros(n_states)
            start[i] = 1.0
            beta[t, i] = sum(prob / emission_prob[t, i] if emission_prob[t, i] else 0.0
                             for _, prob in path_probabilities(start, transmat, suffix))
    best_path, best_prob = max(paths, key=lambda item: item[1])
    with np.errstate(divide="ignore"):
        return {
            "loglik": np.log(total), "alpha": alpha, "beta": beta,
            "posterior": posterior / total, "transitions": transitions / total,
            "starts": posterior[0] / total, "viterbi_path": np.array(best_path),
            "viterbi_logprob": np.log(best_prob),
        }


def random_hmm(rng, n_states, n_symbols, zero_fraction=0.0):
    """Random start, transition and emission probabilities; some transitions zeroed."""
    startprob = rng.dirichlet(np.ones(n_states))
    transmat = rng.dirichlet(np.ones(n_states), size=n_states)
    if zero_fraction:
        mask = rng.rand(n_states, n_states) < zero_fraction
        mask[np.arange(n_states), rng.randint(n_states, size=n_states)] = False
        transmat = np.where(mask, 0.0, transmat)
        transmat /= transmat.sum(axis=1, keepdims=True)
    emissionprob = rng.dirichlet(np.ones(n_symbols), size=n_states)
    return startprob, transmat, emissionprob
