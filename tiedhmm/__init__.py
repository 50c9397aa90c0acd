"""tiedhmm: hidden Markov models with tied emission and transition parameters."""

from .em import ConvergenceMonitor, EMDecreaseError
from .emissions import CategoricalEmission, EmissionGroup, GaussianEmission
from .estimators import CategoricalHMM, GaussianHMM
from .hmm import HMM
from .tying import SoftTie, Topology, TransitionGroup

__version__ = "0.1.0"

__all__ = ["HMM", "CategoricalEmission", "CategoricalHMM", "ConvergenceMonitor",
           "EMDecreaseError", "EmissionGroup", "GaussianEmission", "GaussianHMM", "SoftTie",
           "Topology", "TransitionGroup", "__version__"]
