"""Slow, obviously correct references: enumerate every state path of tiny HMMs."""

from __future__ import annotations

import itertools

import numpy as np


def path_probabilities(startprob, transmat, emission_prob, endprob=None):
    """Every state path of length T with its joint probability P(path, x), ending
    through ``endprob`` (all ones: a free end)."""
    n_steps, n_states = emission_prob.shape
    endprob = np.ones(n_states) if endprob is None else endprob
    for path in itertools.product(range(n_states), repeat=n_steps):
        prob = startprob[path[0]] * emission_prob[0, path[0]]
        for t in range(1, n_steps):
            prob *= transmat[path[t - 1], path[t]] * emission_prob[t, path[t]]
        yield path, prob * endprob[path[-1]]


def hmm_reference(startprob, transmat, emission_prob, endprob=None):
    """Forward/backward variables, posteriors, counts and Viterbi of one sequence.

    ``emission_prob[t, i]`` is P(x_t | state i). Returns a dict with ``loglik``,
    ``alpha`` (P(x_0..t, z_t)), ``beta`` (P(x_t+1.. | z_t)), ``posterior``,
    ``transitions`` (expected counts of i -> j), ``starts``, ``ends``,
    ``viterbi_path`` and ``viterbi_logprob``.
    """
    n_steps, n_states = emission_prob.shape
    paths = list(path_probabilities(startprob, transmat, emission_prob, endprob))
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
                             for _, prob in path_probabilities(start, transmat, suffix,
                                                               endprob))
    best_path, best_prob = max(paths, key=lambda item: item[1])
    with np.errstate(divide="ignore"):
        return {
            "loglik": np.log(total), "alpha": alpha, "beta": beta,
            "posterior": posterior / total, "transitions": transitions / total,
            "starts": posterior[0] / total, "ends": posterior[-1] / total,
            "viterbi_path": np.array(best_path),
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


def pair_paths(n, m, dx, dy):
    """Every state sequence that consumes exactly n letters of x and m of y."""
    if n == 0 and m == 0:
        yield ()
        return
    for k in range(len(dx)):
        if dx[k] <= n and dy[k] <= m:
            for rest in pair_paths(n - dx[k], m - dy[k], dx, dy):
                yield (*rest, k)


def pair_reference(x, y, dx, dy, emission, start, transmat, end):
    """Enumerate all alignments (state paths) of a tiny pair: the pair kernels' truth."""
    n, m = len(x), len(y)
    gap = emission.shape[1] - 1
    n_states = len(start)
    paths = []
    for path in pair_paths(n, m, dx, dy):
        i = j = 0
        prob, cells = 1.0, []
        for t, k in enumerate(path):
            i, j = i + dx[k], j + dy[k]
            a = x[i - 1] if dx[k] else gap
            b = y[j - 1] if dy[k] else gap
            prob *= (start[k] if t == 0 else transmat[path[t - 1], k]) * emission[k, a, b]
            cells.append((i, j, a, b))
        prob *= end[path[-1]]
        paths.append((path, cells, prob))
    total = sum(prob for _, _, prob in paths)
    match_posterior = np.zeros((n, m))
    transitions = np.zeros((n_states, n_states))
    starts, ends = np.zeros(n_states), np.zeros(n_states)
    emissions = np.zeros(emission.shape)
    for path, cells, prob in paths:
        weight = prob / total
        starts[path[0]] += weight
        ends[path[-1]] += weight
        for t, (k, (i, j, a, b)) in enumerate(zip(path, cells)):
            emissions[k, a, b] += weight
            if dx[k] and dy[k]:
                match_posterior[i - 1, j - 1] += weight
            if t:
                transitions[path[t - 1], k] += weight
    best_path, _, best_prob = max(paths, key=lambda item: item[2])
    return {"loglik": np.log(total), "match_posterior": match_posterior,
            "transitions": transitions, "starts": starts, "ends": ends,
            "emissions": emissions, "viterbi_path": np.array(best_path),
            "viterbi_logprob": np.log(best_prob)}


def random_pair_model(rng, dx, dy, n_letters, free_end=False):
    """Random start/transition/end probabilities and per-state emission tables."""
    n_states = len(dx)
    start = rng.dirichlet(np.ones(n_states))
    rows = rng.dirichlet(np.ones(n_states + 1), size=n_states)
    transmat, end = rows[:, :n_states], rows[:, n_states]
    if free_end:
        transmat = transmat / transmat.sum(axis=1, keepdims=True)
        end = np.ones(n_states)
    emission = np.zeros((n_states, n_letters + 1, n_letters + 1))
    for k in range(n_states):
        if dx[k] and dy[k]:
            emission[k, :n_letters, :n_letters] = rng.dirichlet(
                np.ones(n_letters ** 2)).reshape(n_letters, n_letters)
        elif dx[k]:
            emission[k, :n_letters, n_letters] = rng.dirichlet(np.ones(n_letters))
        else:
            emission[k, n_letters, :n_letters] = rng.dirichlet(np.ones(n_letters))
    return start, transmat, end, emission


def _pair_logs(x, y, emission, start, transmat, end):
    gap = emission.shape[1] - 1
    with np.errstate(divide="ignore"):
        logs = tuple(np.log(a) for a in (emission, start, transmat, end))
    xp = np.concatenate(([gap], x)).astype(int)
    yp = np.concatenate(([gap], y)).astype(int)
    return logs, xp, yp, gap


def _pair_forward_table(x, y, dx, dy, emission, start, transmat, end):
    """Log forward ``f[i, j, k]`` over anti-diagonals (numpy, no scaling)."""
    n, m = len(x), len(y)
    (log_e, log_s, log_t, _), xp, yp, gap = _pair_logs(x, y, emission, start, transmat, end)
    n_states = len(start)
    f = np.full((n + 1, m + 1, n_states), -np.inf)
    for d in range(1, n + m + 1):
        i = np.arange(max(0, d - m), min(n, d) + 1)
        j = d - i
        for k in range(n_states):
            ok = (i >= dx[k]) & (j >= dy[k])
            ii, jj = i[ok], j[ok]
            if ii.size == 0:
                continue
            pi, pj = ii - dx[k], jj - dy[k]
            terms = f[pi, pj, :] + log_t[:, k]
            acc = np.logaddexp.reduce(terms, axis=1)
            begin = (pi == 0) & (pj == 0)
            acc[begin] = np.logaddexp(acc[begin], log_s[k])
            a = np.where(dx[k], xp[ii], gap)
            b = np.where(dy[k], yp[jj], gap)
            f[ii, jj, k] = acc + log_e[k, a, b]
    return f


def pair_forward_log(x, y, dx, dy, emission, start, transmat, end):
    """Log-space pair forward over anti-diagonals (numpy, no scaling): the numerics truth."""
    f = _pair_forward_table(x, y, dx, dy, emission, start, transmat, end)
    with np.errstate(divide="ignore"):
        return np.logaddexp.reduce(f[len(x), len(y)] + np.log(end))


def pair_posterior_log(x, y, dx, dy, emission, start, transmat, end):
    """log P and the match posterior from full log-space forward and backward tables:
    the full-matrix truth for long pairs."""
    n, m = len(x), len(y)
    (log_e, _, log_t, log_end), xp, yp, gap = _pair_logs(x, y, emission, start, transmat,
                                                         end)
    f = _pair_forward_table(x, y, dx, dy, emission, start, transmat, end)
    n_states = len(dx)
    b = np.full((n + 1, m + 1, n_states), -np.inf)
    b[n, m] = log_end
    for d in range(n + m - 1, -1, -1):
        i = np.arange(max(0, d - m), min(n, d) + 1)
        j = d - i
        terms = np.full((i.size, n_states, n_states), -np.inf)  # [cell, from l, to k]
        for k in range(n_states):
            ok = (i + dx[k] <= n) & (j + dy[k] <= m)
            ii, jj = i[ok] + dx[k], j[ok] + dy[k]
            a = np.where(dx[k], xp[ii], gap)
            c = np.where(dy[k], yp[jj], gap)
            terms[ok, :, k] = log_t[:, k] + (log_e[k, a, c] + b[ii, jj, k])[:, None]
        b[i, j] = np.logaddexp.reduce(terms, axis=2)
    loglik = np.logaddexp.reduce(f[n, m] + log_end)
    match = np.flatnonzero(np.asarray(dx) * np.asarray(dy))
    posterior = np.exp(f[1:, 1:, match] + b[1:, 1:, match] - loglik).sum(axis=2)
    return loglik, posterior


def mea_reference(posterior):
    """The MEA alignment of a posterior matrix by the textbook DP from the start (ties:
    match, then x gap): its summed posteriors and moves (0 match, 1 x gap, 2 y gap)."""
    n, m = posterior.shape
    score = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=int)
    move[1:, 0], move[0, 1:] = 1, 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = (score[i - 1, j - 1] + posterior[i - 1, j - 1], score[i - 1, j],
                       score[i, j - 1])
            move[i, j] = int(np.argmax(options))
            score[i, j] = options[move[i, j]]
    moves, i, j = [], n, m
    while i or j:
        moves.append(move[i, j])
        i, j = i - (move[i, j] != 2), j - (move[i, j] != 1)
    return score[n, m], np.array(moves[::-1])


def gatk_parameters(base, ins, dele, gcp):
    """Per-position probabilities of GATK's pair HMM from phred qualities: match and
    mismatch emissions, M->M, gap->M, M->I, gap extension, M->D."""
    e = [10.0 ** (-np.asarray(q, dtype=float) / 10.0) for q in (base, ins, dele, gcp)]
    return (1 - e[0], e[0] / 3, np.clip(1 - (e[1] + e[2]), 0, 1), 1 - e[3], e[1], e[3], e[2])


def _agrees(a, b):
    return a == b or "N" in (a, b)


def gatk_brute_force(hap, read, base, ins, dele, gcp):
    """log10 P(read | hap) as the sum over every alignment path of GATK's pair HMM,
    each path enumerated one by one (tiny inputs only)."""
    match, mismatch, mm, gm, mi, ext, md = gatk_parameters(base, ins, dele, gcp)
    hap, read = hap.upper(), read.upper()
    n, m = len(read), len(hap)

    def prior(i, j):  # 1-based cell
        return match[i - 1] if _agrees(read[i - 1], hap[j - 1]) else mismatch[i - 1]

    def walk(state, i, j, prob):
        total = prob if i == n and state in "MI" else 0.0
        if i < n and j < m:  # to M
            into = mm[i] if state == "M" else gm[i]
            total += walk("M", i + 1, j + 1, prob * into * prior(i + 1, j + 1))
        if i < n and state in "MI":  # to I
            total += walk("I", i + 1, j, prob * (mi[i] if state == "M" else ext[i]))
        if j < m and state in "MD" and i >= 1:  # to D (row i's parameters)
            total += walk("D", i, j + 1, prob * (md[i - 1] if state == "M" else ext[i - 1]))
        return total

    # start: the read's first letter in M at any column, through row 0's deletion row
    total = sum(walk("M", 1, j, (1.0 / m) * gm[0] * prior(1, j)) for j in range(1, m + 1))
    return np.log10(total)


def gatk_recurrence(hap, read, base, ins, dele, gcp):
    """log10 P(read | hap) by GATK's recurrence, plainly, in float64 (no scaling)."""
    match, mismatch, mm, gm, mi, ext, md = gatk_parameters(base, ins, dele, gcp)
    hap, read = hap.upper(), read.upper()
    n, m = len(read), len(hap)
    M, I, D = (np.zeros((n + 1, m + 1)) for _ in range(3))
    D[0, :] = 1.0 / m
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            p = match[i - 1] if _agrees(read[i - 1], hap[j - 1]) else mismatch[i - 1]
            M[i, j] = p * (mm[i - 1] * M[i - 1, j - 1]
                           + gm[i - 1] * (I[i - 1, j - 1] + D[i - 1, j - 1]))
            I[i, j] = mi[i - 1] * M[i - 1, j] + ext[i - 1] * I[i - 1, j]
            D[i, j] = md[i - 1] * M[i, j - 1] + ext[i - 1] * D[i, j - 1]
    return np.log10(M[n, 1:].sum() + I[n, 1:].sum())


def gatk_log_recurrence(hap, read, base, ins, dele, gcp):
    """The same recurrence in natural-log space, a row at a time (long inputs): the
    deletions along a row are a scaled cumulative log-sum."""
    match, mismatch, mm, gm, mi, ext, md = (np.log(p) for p in
                                            gatk_parameters(base, ins, dele, gcp))
    codes = {c: k for k, c in enumerate("ACGTN")}
    x = np.array([codes[c] for c in read.upper()])
    y = np.array([codes[c] for c in hap.upper()])
    n, m = len(x), len(y)
    minus = np.full(m + 1, -np.inf)
    M, I, D = minus.copy(), minus.copy(), np.full(m + 1, -np.log(m))
    steps = np.arange(m + 1)
    with np.errstate(divide="ignore"):
        for i in range(n):
            agree = (y == x[i]) | (y == 4) | (x[i] == 4)
            new_m, new_i = minus.copy(), minus.copy()
            new_m[1:] = np.where(agree, match[i], mismatch[i]) + np.logaddexp(
                mm[i] + M[:-1], gm[i] + np.logaddexp(I[:-1], D[:-1]))
            new_i[1:] = np.logaddexp(mi[i] + M[1:], ext[i] + I[1:])
            # D[j] = sum_{k<j} md M[k] ext^(j-1-k)
            shifted = md[i] + new_m[:-1] - steps[:-1] * ext[i]
            new_d = minus.copy()
            new_d[1:] = np.logaddexp.accumulate(shifted) + (steps[1:] - 1) * ext[i]
            M, I, D = new_m, new_i, new_d
    return np.logaddexp.reduce(np.concatenate([M[1:], I[1:]])) / np.log(10)


def context_brute_force(hap, read, base, table, contexts):
    """Every alignment path of a context model, one by one (tiny inputs): log10 P and
    the expected count of every transition by the context of the column it leaves,
    ``(contexts, 3)`` out of M (match, insert, delete) and ``(contexts, 2)`` out of a
    gap (extend, match). ``table[c]`` is M->M, gap->M, M->I, gap->gap, M->D;
    ``contexts[j]`` is column j's context (j = 0 .. len(hap))."""
    match, mismatch = gatk_parameters(base, base, base, base)[:2]
    hap, read = hap.upper(), read.upper()
    n, m = len(read), len(hap)
    paths = []

    def prior(i, j):
        return match[i - 1] if _agrees(read[i - 1], hap[j - 1]) else mismatch[i - 1]

    def walk(state, i, j, prob, used):
        if i == n and state in "MI":
            paths.append((prob, used))
        c = contexts[j]
        mm, gm, mi, ext, md = table[c]
        if i < n and j < m:
            into, mark = (mm, ("open", c, 0)) if state == "M" else (gm, ("extend", c, 1))
            walk("M", i + 1, j + 1, prob * into * prior(i + 1, j + 1), [*used, mark])
        if i < n and state in "MI":
            into, mark = (mi, ("open", c, 1)) if state == "M" else (ext, ("extend", c, 0))
            walk("I", i + 1, j, prob * into, [*used, mark])
        if j < m and state in "MD" and i >= 1:
            into, mark = (md, ("open", c, 2)) if state == "M" else (ext, ("extend", c, 0))
            walk("D", i, j + 1, prob * into, [*used, mark])

    for j in range(1, m + 1):
        gm = table[contexts[j - 1]][1]
        walk("M", 1, j, gm * prior(1, j) / m, [("extend", contexts[j - 1], 1)])
    total = sum(prob for prob, _ in paths)
    counts = {"open": np.zeros((len(table), 3)), "extend": np.zeros((len(table), 2))}
    for prob, used in paths:
        for kind, c, outcome in used:
            counts[kind][c, outcome] += prob / total
    return np.log10(total), counts["open"], counts["extend"]
