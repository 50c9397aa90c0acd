"""Fit a tied duration model of the dishonest casino and decode which die was used.

Each die is two states in series that share one emission group and one
``{stay, next}`` transition group, so a die's run length is negative-binomial
rather than geometric: four states, but only two emission and two transition groups
are estimated. Usage: ``python scripts/casino.py [--rolls data/casino_rolls.txt]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tiedhmm as th

DEFAULT_ROLLS = Path(__file__).resolve().parent.parent / "data" / "casino_rolls.txt"


def read_rolls(path: Path) -> tuple[np.ndarray, str]:
    """Rolls as symbols 0-5 and the true die per roll, from the bundled file format."""
    lines = [line.strip() for line in path.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    if len(lines) != 2 or len(lines[0]) != len(lines[1]):
        raise ValueError(f"{path}: expected a line of rolls and a line of dice of equal length")
    rolls, dice = lines
    if set(rolls) - set("123456") or set(dice) - set("FL"):
        raise ValueError(f"{path}: rolls must be 1-6 and dice F or L")
    return np.array([int(r) - 1 for r in rolls])[:, None], dice


def tied_casino(rng: np.random.RandomState) -> th.HMM:
    """Fair (states 0, 1) and loaded (states 2, 3) dice, each two tied states in series."""
    fair = th.CategoricalEmission(rng.dirichlet(np.ones(6) * 20), name="fair")
    loaded = th.CategoricalEmission(rng.dirichlet(np.ones(6) * 20), name="loaded")
    fair_run = th.TransitionGroup(["stay", "next"], [0.8, 0.2], name="fair run")
    loaded_run = th.TransitionGroup(["stay", "next"], [0.8, 0.2], name="loaded run")
    transitions = {}
    for first, run, following in ((0, fair_run, 2), (2, loaded_run, 0)):
        transitions[(first, first)] = (run, "stay")
        transitions[(first, first + 1)] = (run, "next")
        transitions[(first + 1, first + 1)] = (run, "stay")
        transitions[(first + 1, following)] = (run, "next")
    return th.HMM([fair, fair, loaded, loaded], {0: 0.5, 2: 0.5}, transitions,
                  n_iter=200, tol=1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rolls", type=Path, default=DEFAULT_ROLLS,
                        help="rolls file (default: the bundled data/casino_rolls.txt)")
    args = parser.parse_args()
    X, dice = read_rolls(args.rolls)
    model = tied_casino(np.random.RandomState(0)).fit(X)
    fair, loaded = model.topology.emission_groups
    fair_run, loaded_run = model.topology.transition_groups
    if fair.probs[5] > loaded.probs[5]:
        fair, loaded, fair_run, loaded_run = loaded, fair, loaded_run, fair_run
    states = model.predict(X)
    loaded_states = [s for s in range(4) if model.emissions[s] is loaded]
    decoded = "".join("L" if s in loaded_states else "F" for s in states)
    accuracy = np.mean([a == b for a, b in zip(decoded, dice)])
    np.set_printoptions(precision=3, suppress=True)
    print(f"rolls: {len(dice)} from {args.rolls}")
    print(f"EM iterations: {model.monitor_.iter}, log-likelihood {model.monitor_.history[-1]:.2f}")
    print(f"fair die   P(1..6) = {fair.probs}  run stay = {fair_run.prob('stay'):.3f}")
    print(f"loaded die P(1..6) = {loaded.probs}  run stay = {loaded_run.prob('stay'):.3f}")
    print(f"Viterbi decoding agrees with the true die on {accuracy:.1%} of rolls")


if __name__ == "__main__":
    main()
