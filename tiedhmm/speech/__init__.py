"""Speech workflows in the manner of HTK: features (:mod:`~tiedhmm.speech.features`),
shared units in composite networks (:mod:`~tiedhmm.speech.network`), grammars,
embedded training, decoding and forced alignment (:mod:`~tiedhmm.speech.recognizer`),
mixture splitting, state tying (:mod:`~tiedhmm.speech.clustering`) and HResults-style
scoring (:mod:`~tiedhmm.speech.scoring`).

It may import :mod:`tiedhmm.hmm` and everything below it (kernels, emissions, tying,
EM, io, parallel, errors); nothing in tiedhmm imports it.
"""

from .clustering import cluster_groups, tie_states
from .features import deltas, mfcc_from_wav, with_deltas
from .grammar import Grammar
from .mixtures import split_heaviest, split_mixtures
from .network import BEGIN, END
from .recognizer import Recognition, Recognizer, Segment
from .scoring import WordScores, align_words, score_transcripts

__all__ = ["BEGIN", "END", "Grammar", "Recognition", "Recognizer", "Segment", "WordScores",
           "align_words", "cluster_groups", "deltas", "mfcc_from_wav", "score_transcripts",
           "split_heaviest", "split_mixtures", "tie_states", "with_deltas"]
