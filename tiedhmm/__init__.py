"""tiedhmm: hidden Markov models with tied emission and transition parameters."""

__version__ = "0.9.4"

from . import errors
from .em import ConvergenceMonitor
from .emissions import (
    CategoricalEmission,
    DirichletPrior,
    EmissionGroup,
    GammaPrior,
    GaussianEmission,
    GMMEmission,
    MultinomialEmission,
    NormalPrior,
    PoissonEmission,
)
from .emissions.pair import MatchEmission
from .errors import (
    EMDecreaseError,
    ImpossibleSequenceError,
    InvalidDataError,
    MemoryLimitError,
    ModelFileError,
    TiedHMMError,
    TyingError,
)
from .estimators import GMMHMM, CategoricalHMM, GaussianHMM, MultinomialHMM, PoissonHMM
from .hmm import HMM, ModelSet, concatenate, left_right
from .msa import msa, msa_many
from .pair import DNA, PROTEIN, Alphabet, PairHMM, PairState, alignment
from .pair.reads import ReadContextModel, gatk_qualities, read_likelihoods
from .parallel import get_threads, set_threads, using_threads
from .tying import SoftTie, Topology, TransitionGroup
from .variational import VariationalCategoricalHMM, VariationalGaussianHMM

__all__ = ["DNA", "GMMHMM", "HMM", "PROTEIN", "Alphabet", "CategoricalEmission",
           "CategoricalHMM", "ConvergenceMonitor", "DirichletPrior", "EMDecreaseError",
           "EmissionGroup", "GMMEmission", "GammaPrior", "GaussianEmission", "GaussianHMM",
           "ImpossibleSequenceError", "InvalidDataError", "MatchEmission",
           "MemoryLimitError", "ModelFileError", "ModelSet", "MultinomialEmission",
           "MultinomialHMM", "NormalPrior", "PairHMM", "PairState", "PoissonEmission",
           "PoissonHMM", "ReadContextModel", "SoftTie",
           "TiedHMMError", "Topology", "TransitionGroup", "TyingError",
           "VariationalCategoricalHMM", "VariationalGaussianHMM", "__version__",
           "alignment", "concatenate", "errors", "gatk_qualities", "get_threads", "left_right",
           "msa", "msa_many", "read_likelihoods", "set_threads", "using_threads"]
