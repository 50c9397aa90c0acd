"""Multiple sequence alignment from pair-HMM posteriors: the family's sparse posteriors
with consistency and column scores (:mod:`~tiedhmm.msa.posteriors`), guide trees
(:mod:`~tiedhmm.msa.guide_tree`), k-mer distances and neighbourhoods for large families
(:mod:`~tiedhmm.msa.kmers`), and progressive alignment with refinement
(:mod:`~tiedhmm.msa.progressive`).

It may import :mod:`tiedhmm.pair` and everything below it; only the CLI imports it.
"""

from .progressive import msa, msa_many

__all__ = ["msa", "msa_many"]
