"""
A family's multiple alignment with per-column confidence
========================================================

:func:`tiedhmm.msa` builds a multiple alignment from every pair's match posteriors
(ProbCons' method on this library's pair HMMs). Each column carries a **confidence**: the
chance that it is correct, calibrated on BAliBASE from the mean posterior of the residue
pairs it aligns. Low columns are where a user should look twice, or what
:func:`tiedhmm.msa.trim` drops before building a tree.
"""

# %%
# A family evolved from one root with substitutions and short indels
import matplotlib.pyplot as plt
import numpy as np

import tiedhmm as th
from tiedhmm.plotting import plot_column_confidence

rng = np.random.RandomState(3)
letters = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
root = "".join(rng.choice(letters, size=90))


def evolve(sequence: str, rate: float) -> str:
    out = []
    for letter in sequence:
        if rng.rand() < rate / 10:
            continue                                    # deletion
        out.append(rng.choice(letters) if rng.rand() < rate else letter)
        if rng.rand() < rate / 10:
            out.extend(rng.choice(letters, size=rng.randint(1, 4)))   # insertion
    return "".join(out)


family = [evolve(root, rate) for rate in (0.1, 0.15, 0.2, 0.3, 0.35, 0.4)]
alignment = th.msa(family)
print(alignment)
print("guide tree:", alignment.tree)

# %%
figure, ax = plt.subplots(figsize=(8, 2.5))
plot_column_confidence(alignment, ax=ax)
ax.set_title("Per-column confidence")
figure.tight_layout()
plt.show()
