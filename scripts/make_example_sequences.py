"""Regenerate ``data/example_proteins.fa``: synthetic proteins for the README's example.

Pairs are sampled from the Durbin 3-state preset with the bundled protein tables
(seeded), so the file is reproducible and free of licence questions: ``query`` and
``relative`` come from one pair (related by the model's substitutions and gaps),
``other_1`` and ``other_2`` from a second pair (unrelated to the query).
Usage: ``python scripts/make_example_sequences.py``.
"""

from __future__ import annotations

from pathlib import Path

import tiedhmm as th

DATA = Path(__file__).resolve().parent.parent / "data"
NAMES = ("query", "relative", "other_1", "other_2")


def main() -> None:
    model = th.PairHMM.durbin("protein", tau=1.0 / 200)
    pairs = [pair for pair in model.sample(200, random_state=1)
             if all(120 <= len(s) <= 300 for s in pair)][:2]
    sequences = [s for pair in pairs for s in pair]
    lines = [f">{name} sampled from the tiedhmm Durbin protein preset\n{sequence}\n"
             for name, sequence in zip(NAMES, sequences)]
    (DATA / "example_proteins.fa").write_text("".join(lines))


if __name__ == "__main__":
    main()
