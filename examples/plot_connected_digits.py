"""
Connected words with shared units
=================================

Speech-style training in the manner of HTK: word units that are **left-to-right HMMs
with exits**, a silence unit, and a short-pause unit that *shares silence's state* (the
same emission object). Utterances are known only by their transcripts; embedded
training builds each utterance's composite network from the shared units and pools
every statistic into them. Decoding runs Viterbi over a word loop.

The features here are synthetic (two dimensions, one cluster per state) so that the
example runs anywhere; ``scripts/bench_connected_digits.py`` runs the same workflow on
MFCCs of the Free Spoken Digit Dataset.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import tiedhmm as th
from tiedhmm.speech import Grammar, Recognizer, score_transcripts

rng = np.random.RandomState(0)
words = ["one", "two", "three"]
centres = {"one": [(0, 4), (2, 4), (4, 4)], "two": [(0, -4), (-2, -4), (-4, -4)],
           "three": [(4, 0), (4, -2), (2, -2)], "sil": [(-5, 3)]}


def utterance(said: list[str]) -> np.ndarray:
    """Frames of silence, the words, silence: 3-6 frames per state, unit noise."""
    frames = []
    for unit in ["sil", *said, "sil"]:
        for centre in centres[unit]:
            n = rng.randint(3, 7)
            frames.append(np.array(centre) + 0.7 * rng.randn(n, 2))
    return np.concatenate(frames)


def dataset(n: int) -> tuple[np.ndarray, list[int], list[list[str]]]:
    said = [list(rng.choice(words, size=rng.randint(1, 5))) for _ in range(n)]
    utterances = [utterance(s) for s in said]
    return np.concatenate(utterances), [len(u) for u in utterances], said


# %%
# Units: one chain per word, silence, and a skippable pause tied to silence
def chain(name: str, n: int) -> th.HMM:
    return th.left_right([th.GaussianEmission(n_features=2) for _ in range(n)], name=name)


units = {word: chain(word, 3) for word in words}
units["sil"] = chain("sil", 1)
units["sp"] = th.left_right(units["sil"].emissions, skippable=True)
recognizer = Recognizer(units, silence="sil", pause="sp", n_iter=10, random_state=0)

X, lengths, said = dataset(60)
recognizer.fit(X, lengths, said)   # embedded re-estimation from transcripts alone
print(f"EM: {recognizer.monitor_.iter} iterations")
assert units["sp"].emissions[0] is units["sil"].emissions[0]   # still one object

# %%
# Decode held-out utterances with a word loop
X_test, lengths_test, said_test = dataset(30)
heard = recognizer.decode(X_test, lengths_test, Grammar.loop(words), word_penalty=-2.0)
scores = score_transcripts(said_test, [h.transcript for h in heard])
print(scores)

# %%
# Forced alignment of one utterance: where each word starts and ends
aligned = recognizer.align(X_test[:lengths_test[0]], [lengths_test[0]], [said_test[0]])[0]
figure, ax = plt.subplots(figsize=(8, 3))
ax.plot(X_test[:lengths_test[0]], linewidth=1)
for number, segment in enumerate(aligned.words):
    ax.axvspan(segment.start, segment.end, alpha=0.2, color=f"C{2 + number % 4}")
    ax.text((segment.start + segment.end) / 2, ax.get_ylim()[1] * 0.85, segment.label,
            ha="center")
ax.set_xlabel("frame")
ax.set_ylabel("feature")
ax.set_title("Forced alignment: " + " ".join(said_test[0]))
figure.tight_layout()
plt.show()
