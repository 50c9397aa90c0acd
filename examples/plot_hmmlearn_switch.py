"""
Switching from hmmlearn by changing an import
=============================================

tiedhmm's estimators take hmmlearn's arguments and keep its attribute names, so the
same code fits either library. Started from the same parameters, the two give the same
log-likelihood path. Then tiedhmm does what hmmlearn cannot: tie states.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import tiedhmm

try:
    from hmmlearn import hmm as hmmlearn_hmm
except ImportError:            # hmmlearn is optional here
    hmmlearn_hmm = None

rng = np.random.RandomState(0)
truth = tiedhmm.GaussianHMM(n_components=3, covariance_type="diag", random_state=0)
truth.startprob_ = np.array([0.6, 0.3, 0.1])
truth.transmat_ = np.array([[0.90, 0.05, 0.05], [0.05, 0.90, 0.05], [0.05, 0.05, 0.90]])
truth.means_ = np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0]])
truth.covars_ = np.ones((3, 2))
X, _ = truth.sample(3000, random_state=1)
lengths = [1000, 1000, 1000]


def fitted(module):
    """The same code for either library: only ``module`` differs."""
    model = module.GaussianHMM(n_components=3, covariance_type="diag", n_iter=30, tol=-1,
                               init_params="", random_state=0)
    model.startprob_ = np.full(3, 1 / 3)
    model.transmat_ = np.full((3, 3), 1 / 3)
    model.means_ = np.array([[-1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    model.covars_ = np.full((3, 2), 2.0)
    return model.fit(X, lengths)


ours = fitted(tiedhmm)
histories = {"tiedhmm": ours.monitor_.history}
print(f"tiedhmm:  log-likelihood {ours.score(X, lengths):.4f}")
if hmmlearn_hmm is not None:
    theirs = fitted(hmmlearn_hmm)
    histories["hmmlearn"] = list(theirs.monitor_.history)
    print(f"hmmlearn: log-likelihood {theirs.score(X, lengths):.4f}")
    print("largest difference in means:", np.abs(ours.means_ - theirs.means_).max())

# %%
# Tying: states 1 and 2 share one Gaussian (one emission group), the rest as before
tied = tiedhmm.GaussianHMM(n_components=3, covariance_type="diag", n_iter=30,
                           emission_groups=[0, 1, 1], random_state=0).fit(X, lengths)
print("tied means equal:", np.array_equal(tied.means_[1], tied.means_[2]))
print("free parameters, untied vs tied:", ours.n_free_parameters(), tied.n_free_parameters())

figure, ax = plt.subplots(figsize=(6, 3.5))
for name, history in histories.items():
    ax.plot(np.arange(1, len(history) + 1), history, "o-" if name == "tiedhmm" else "x--",
            label=name)
ax.set_xlabel("EM iteration")
ax.set_ylabel("log-likelihood")
ax.legend()
figure.tight_layout()
plt.show()
