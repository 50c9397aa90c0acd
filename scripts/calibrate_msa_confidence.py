"""Calibrate ``tiedhmm msa``'s column confidence on BAliBASE 3 (dev split), and show its
reliability.

Every dev case is aligned (cached under ``--cache``, so a rerun only re-fits). Each
column of each alignment that holds a residue of a reference *core* column is decided:
correct when its residues are exactly those of one core column, wrong otherwise
(:func:`tiedhmm.msa.compare.column_agreement`); the other columns do not count. The
map from the raw confidence (the mean posterior of the residue pairs a column aligns)
to the chance that the column is correct is the isotonic (pool-adjacent-violators)
fit over the decided columns, weighted so that every case counts equally; it is
written to ``tiedhmm/data/msa_confidence.json``, which ``tiedhmm.msa`` reads.

Printed: the reliability curve (calibrated confidence against the observed share of
correct columns, per bin), the share correct among columns at or above each threshold,
and the same two read on each reference set with the map fitted on the other five
(leave one set out: how the calibration carries to data it did not see).
Usage: ``python scripts/calibrate_msa_confidence.py [--cache DIR] [--write]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

import tiedhmm as th
from tiedhmm.msa.compare import column_agreement, read_reference

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CASES = SHARED / "data" / "balibase3-dev"
TABLE = Path(th.__file__).resolve().parent / "data" / "msa_confidence.json"
SETS = ("RV11", "RV12", "RV20", "RV30", "RV40", "RV50")
BINS = np.linspace(0.0, 1.0, 11)
#: The raw scores the shipped table holds the fit at.
GRID = np.linspace(0.0, 1.0, 101)
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def aligned_cases(cache: Path) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """``(set, case, raw confidence, agreement)`` of every dev case, aligning those not
    in the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    found = []
    for reference_set in SETS:
        for tfa in sorted((CASES / reference_set).glob("*.tfa")):
            stored = cache / f"{tfa.stem}.npz"
            if not stored.exists():
                alignment = th.msa(str(tfa))
                agreement = column_agreement(alignment, read_reference(tfa.with_suffix(".xml")))
                np.savez(stored, confidence=alignment.mean_posterior, agreement=agreement)
                print(f"aligned {reference_set} {tfa.stem}", flush=True)
            data = np.load(stored)
            found.append((reference_set, tfa.stem, data["confidence"], data["agreement"]))
    return found


def isotonic(x: np.ndarray, y: np.ndarray, weight: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """The non-decreasing fit of ``y`` on ``x`` (pool adjacent violators, ties pooled
    first), read on :data:`GRID`: the table ``np.interp`` evaluates. ``x`` is rounded to
    the grid first, so that no sliver of raw scores (the columns at exactly 1, say,
    against those just below) holds a block of its own that the interpolation would
    spread over its neighbours."""
    step = GRID[1] - GRID[0]
    unique, inverse = np.unique(np.round(x / step) * step, return_inverse=True)
    totals = np.bincount(inverse, weights=weight)
    means = np.bincount(inverse, weights=weight * y) / totals
    blocks: list[list[float]] = []  # [sum w x, sum w y, sum w]
    for xi, yi, wi in zip(unique, means, totals):
        blocks.append([wi * xi, wi * yi, wi])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last)]
    centres = np.array([b[0] / b[2] for b in blocks])
    values = np.array([b[1] / b[2] for b in blocks])
    return GRID, np.interp(GRID, centres, values)


def decided(cases: list[tuple[str, str, np.ndarray, np.ndarray]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raw confidence (NaN as 0), correctness, case weight and set of every decided
    column."""
    raws, correct, weights, sets = [], [], [], []
    for reference_set, _, confidence, agreement in cases:
        keep = agreement >= 0
        raws.append(np.nan_to_num(confidence[keep]))
        correct.append(agreement[keep].astype(float))
        weights.append(np.full(keep.sum(), 1.0 / max(keep.sum(), 1)))
        sets.append(np.full(keep.sum(), reference_set))
    return (np.concatenate(raws), np.concatenate(correct), np.concatenate(weights),
            np.concatenate(sets))


def reliability(calibrated: np.ndarray, correct: np.ndarray, weight: np.ndarray
                ) -> list[str]:
    """Rows of the reliability curve and of the threshold table."""
    lines = ["  bin          columns  mean confidence  share correct"]
    for low, high in itertools.pairwise(BINS):
        inside = (calibrated >= low) & ((calibrated < high) | (high == 1.0))
        if inside.any():
            lines.append(f"  {low:.1f}-{high:.1f}  {inside.sum():10d}  "
                         f"{np.average(calibrated[inside], weights=weight[inside]):15.3f}  "
                         f"{np.average(correct[inside], weights=weight[inside]):13.3f}")
    lines.append("  threshold    columns  share correct (columns at or above it)")
    for c in THRESHOLDS:
        above = calibrated >= c
        share = np.average(correct[above], weights=weight[above]) if above.any() else np.nan
        lines.append(f"  >= {c:.1f}   {above.sum():10d}  {share:13.3f}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tiedhmm-msa-confidence"))
    parser.add_argument("--write", action="store_true",
                        help=f"write the fitted map to {TABLE}")
    args = parser.parse_args(argv)
    if not CASES.is_dir():
        raise SystemExit(f"the BAliBASE dev cases are not at {CASES} (../shared beside the "
                         f"project)")
    cases = aligned_cases(args.cache)
    raw, correct, weight, sets = decided(cases)
    breaks, values = isotonic(raw, correct, weight)
    print(f"{len(cases)} cases, {len(raw)} decided columns, "
          f"{np.average(correct, weights=weight):.3f} correct")
    print("\nall dev cases, fitted on all of them:")
    print("\n".join(reliability(np.interp(raw, breaks, values), correct, weight)))
    print("\neach set, fitted on the other five (leave one set out):")
    held_out = np.empty_like(raw)
    for reference_set in SETS:
        rest = sets != reference_set
        fold_breaks, fold_values = isotonic(raw[rest], correct[rest], weight[rest])
        held_out[~rest] = np.interp(raw[~rest], fold_breaks, fold_values)
    print("\n".join(reliability(held_out, correct, weight)))
    if args.write:
        TABLE.write_text(json.dumps({
            "about": "tiedhmm msa column confidence: raw mean pair posterior -> chance the "
                     "column is a correct core column (isotonic fit, BAliBASE 3 dev, "
                     "scripts/calibrate_msa_confidence.py)",
            "cases": len(cases), "columns": len(raw),
            "raw": [round(float(b), 4) for b in breaks],
            "calibrated": [round(float(v), 4) for v in values]}) + "\n")
        print(f"\nwrote {TABLE}")


if __name__ == "__main__":
    main()
