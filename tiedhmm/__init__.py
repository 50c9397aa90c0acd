"""tiedhmm: hidden Markov models with tied emission and transition parameters."""

from . import alignment
from .alphabets import DNA, PROTEIN, Alphabet
from .em import ConvergenceMonitor, EMDecreaseError
from .emissions import CategoricalEmission, EmissionGroup, GaussianEmission, GMMEmission
from .emissions.pair import MatchEmission
from .estimators import GMMHMM, CategoricalHMM, GaussianHMM
from .hmm import HMM
from .modelset import ModelSet
from .pairhmm import PairHMM, PairState
from .topologies import concatenate, left_right
from .tying import SoftTie, Topology, TransitionGroup

__version__ = "0.1.0"

__all__ = ["DNA", "GMMHMM", "HMM", "PROTEIN", "Alphabet", "CategoricalEmission",
           "CategoricalHMM", "ConvergenceMonitor", "EMDecreaseError", "EmissionGroup",
           "GMMEmission", "GaussianEmission", "GaussianHMM", "MatchEmission", "ModelSet",
           "PairHMM", "PairState", "SoftTie", "Topology", "TransitionGroup", "__version__",
           "alignment", "concatenate", "left_right"]
