"""Multiple sequence alignment from pair-HMM posteriors: the family's sparse posteriors
with consistency and column scores (:mod:`~tiedhmm.msa.posteriors`), guide trees
(:mod:`~tiedhmm.msa.guide_tree`), k-mer distances and neighbourhoods for large families
(:mod:`~tiedhmm.msa.kmers`), progressive alignment with refinement
(:mod:`~tiedhmm.msa.progressive`), calibrated column confidence and trimming
(:mod:`~tiedhmm.msa.confidence`), and scoring against a reference
(:mod:`~tiedhmm.msa.compare`).

It may import :mod:`tiedhmm.pair` and everything below it; only the CLI imports it.
"""

from .compare import AlignmentScores, column_agreement, compare, read_reference
from .confidence import trim
from .progressive import msa, msa_many

# ``tiedhmm.msa`` is the function at the top level (as before the package existed), so
# ``tiedhmm.msa.compare`` is reached through it too.
msa.compare = compare  # type: ignore[attr-defined]
msa.trim = trim  # type: ignore[attr-defined]

__all__ = ["AlignmentScores", "column_agreement", "compare", "msa", "msa_many",
           "read_reference", "trim"]
