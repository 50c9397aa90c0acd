"""
Training on data larger than memory, a chunk at a time
======================================================

Every E-step of EM needs all sequences, but not all at once: ``model.statistics(X,
lengths)`` runs the E-step over one chunk of whole sequences, the statistics of chunks
add up, and ``model.update(total)`` is the M-step. One pass over the chunks is one EM
iteration, equal to one iteration of ``fit`` on everything. Here the data live in a
memory-mapped ``.npy`` file and at most one chunk (a tenth of it) is read at a time.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tiedhmm

truth = tiedhmm.GaussianHMM(n_components=3, covariance_type="diag", random_state=0)
truth.startprob_ = np.array([0.5, 0.3, 0.2])
truth.transmat_ = np.array([[0.95, 0.03, 0.02], [0.04, 0.92, 0.04], [0.02, 0.03, 0.95]])
truth.means_ = np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 4.0]])
truth.covars_ = np.array([[1.0, 0.5], [0.8, 1.0], [0.6, 0.6]])

folder = Path(tempfile.mkdtemp())
lengths = np.full(200, 500)            # 200 recordings of 500 frames, written one by one
data = np.lib.format.open_memmap(folder / "frames.npy", mode="w+", dtype=float,
                                 shape=(int(lengths.sum()), 2))
for k, start in enumerate(np.arange(0, lengths.sum(), 500)):
    data[start:start + 500] = truth.sample(500, random_state=k)[0]
data.flush()
del data

# %%
# Read back as a memory map: slicing it reads only those rows from disk.
frames = np.load(folder / "frames.npy", mmap_mode="r")
per_chunk = 20                          # sequences per chunk: a tenth of the data
offsets = np.concatenate(([0], np.cumsum(lengths)))


def chunks():
    for k in range(0, len(lengths), per_chunk):
        rows = slice(offsets[k], offsets[k + per_chunk])
        yield np.asarray(frames[rows]), lengths[k:k + per_chunk]


model = tiedhmm.GaussianHMM(n_components=3, covariance_type="diag", random_state=1)
model.initialize(np.asarray(frames[::50]))  # k-means and the rest from a sample of frames
history = []
for _ in range(30):
    total = sum(model.statistics(X, chunk_lengths) for X, chunk_lengths in chunks())
    history.append(total.loglik)
    model.update(total)

print(f"{total.n_sequences} sequences per iteration, {per_chunk} in memory at a time")
print("means found:\n", np.round(model.means_[np.argsort(model.means_[:, 0])], 2))

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, len(history) + 1), history, marker="o")
ax.set_xlabel("EM iteration (one pass over the chunks)")
ax.set_ylabel("log-likelihood of all data")
ax.set_title("Streamed Baum-Welch on a memory-mapped file")
fig.tight_layout()
plt.show()
