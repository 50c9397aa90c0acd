"""Alignment paths: Biopython coordinates of runs of moves, and the aligned core of a
local model's state path."""

import numpy as np
from numba import njit


@njit(cache=True)
def run_coordinates(steps, i, j):
    """Positions after each run of equal moves, from ``(i, j)``."""
    n_steps = steps.shape[0]
    coordinates = np.empty((2, n_steps + 1), dtype=np.int64)
    coordinates[0, 0], coordinates[1, 0] = i, j
    count = 1
    for s in range(n_steps):
        i += steps[s, 0]
        j += steps[s, 1]
        if s + 1 == n_steps or steps[s + 1, 0] != steps[s, 0] or steps[s + 1, 1] != steps[s, 1]:
            coordinates[0, count], coordinates[1, count] = i, j
            count += 1
    return coordinates[:, :count].copy()


@njit(cache=True)
def core_steps(path, moves, flank):
    """Moves of a state path's aligned (non-``flank``) states, and the letters of x
    and y the flanks before them consumed (where the aligned part starts)."""
    steps = np.empty((path.shape[0], 2), dtype=np.int64)
    count, start_x, start_y = 0, 0, 0
    for state in path:
        if flank[state]:
            if count == 0:
                start_x += moves[state, 0]
                start_y += moves[state, 1]
        else:  # element by element: a row assignment makes a view per step
            steps[count, 0], steps[count, 1] = moves[state, 0], moves[state, 1]
            count += 1
    return steps[:count].copy(), start_x, start_y
