"""
The dishonest casino with a tied duration model
===============================================

A casino switches between a fair die and a loaded one. A plain two-state HMM makes each
die's run length geometric: most runs would be a single roll. Here each die is **two
states in series that share one emission group and one ``{stay, next}`` transition
group**, so a run's length is negative-binomial (at least two rolls, a mode above one)
while the model still has just two dice and two run parameters to learn.
"""

# %%
# Simulate rolls from a casino whose runs are long
import matplotlib.pyplot as plt
import numpy as np

import tiedhmm as th

rng = np.random.RandomState(1)
fair_faces = np.full(6, 1 / 6)
loaded_faces = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
rolls, dice = [], []
while len(rolls) < 3000:
    use_loaded = not dice[-1] if dice else False   # the dice take turns
    run = 2 + rng.negative_binomial(2, 0.08)       # long runs of one die
    faces = loaded_faces if use_loaded else fair_faces
    rolls += list(rng.choice(6, size=run, p=faces))
    dice += [use_loaded] * run
X, dice = np.array(rolls)[:, None], np.array(dice)

# %%
# The tied model: four states, two emission groups, two transition groups.
# States 0 and 1 hold the same ``fair`` object, 2 and 3 the same ``loaded`` object.
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
model = th.HMM([fair, fair, loaded, loaded], {0: 0.5, 2: 0.5}, transitions,
               n_iter=200, tol=1e-6)
model.fit(X)
print(f"EM: {model.monitor_.iter} iterations, log-likelihood {model.monitor_.history[-1]:.1f}")
print("free parameters:", model.n_free_parameters())
if fair.probs[5] > loaded.probs[5]:   # EM does not know which die is which
    fair, loaded, fair_run, loaded_run = loaded, fair, loaded_run, fair_run
print("loaded die:", np.round(loaded.probs, 3), " stay:", round(loaded_run.prob("stay"), 3))

# %%
# Posterior of the loaded die, and Viterbi decoding
posterior = model.predict_proba(X)
loaded_states = [s for s in range(4) if model.emissions[s] is loaded]
p_loaded = posterior[:, loaded_states].sum(axis=1)
decoded = np.isin(model.predict(X), loaded_states)
print(f"Viterbi agrees with the true die on {np.mean(decoded == dice):.1%} of rolls")

# %%
# Above: the posterior of the loaded die against the truth. Below: the run-length
# distribution the tied states imply (negative-binomial, not geometric).
figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.5))
window = slice(0, 600)
top.fill_between(np.arange(600), dice[window], step="mid", alpha=0.3, label="true: loaded")
top.plot(p_loaded[window], color="tab:red", label="P(loaded | rolls)")
top.set_xlabel("roll")
top.legend(loc="upper right")
stay = loaded_run.prob("stay")
lengths = np.arange(1, 80)
two_states = (lengths - 1) * (1 - stay) ** 2 * stay ** (lengths - 2)
one_state = (1 - stay) * stay ** (lengths - 1)
bottom.plot(lengths, two_states, label="two tied states (fitted)")
bottom.plot(lengths, one_state, "--", label="one state, same stay")
bottom.set_xlabel("run length of the loaded die")
bottom.set_ylabel("probability")
bottom.legend()
figure.tight_layout()
plt.show()
