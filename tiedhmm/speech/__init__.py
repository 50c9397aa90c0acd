"""Speech workflows: features, shared units in composite networks, embedded training,
decoding, forced alignment, mixture splitting, state tying and scoring."""

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
