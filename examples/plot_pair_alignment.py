"""
A pair alignment and its posterior matrix
=========================================

A pair HMM sums over every alignment of two sequences, so besides the single best
(Viterbi) alignment it gives the **posterior probability that each letter pair is
aligned**. Bright cells are sure; a smeared band is where the alignment is uncertain
(here, around an insertion in a repeat-like stretch).
"""

# %%
import matplotlib.pyplot as plt

import tiedhmm as th
from tiedhmm.plotting import plot_posterior

model = th.PairHMM.load("protein")   # ProbCons' published defaults, bundled
x = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"
y = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQGGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKW"

viterbi = model.align(x, y)
mea = model.align(x, y, method="mea")
print(viterbi)
print(f"log-likelihood {model.loglik(x, y):.2f}, "
      f"expected accuracy {model.expected_accuracy(x, y):.3f}")

# %%
# Symmetric tying: the model is the same read either way
assert abs(model.loglik(x, y) - model.loglik(y, x)) < 1e-9

# %%
posterior = model.posterior(x, y)
figure, ax = plt.subplots(figsize=(6, 6))
plot_posterior(posterior, mea, "x", "y", ax=ax)
ax.set_title("P(x_i ~ y_j) with the MEA alignment")
plt.show()
