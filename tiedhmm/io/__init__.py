"""What crosses the library's edge: FASTA files in (:mod:`~tiedhmm.io.fasta`),
versioned model files out and in with atomic writes and the bundled models
(:mod:`~tiedhmm.io.files`), the codec between parameter groups and file records
(:mod:`~tiedhmm.io.records`), and the checks of what callers pass in: sequence
lengths, random states, memory limits (:mod:`~tiedhmm.io.checks`).

It imports only :mod:`tiedhmm.errors` (and Biopython lazily, for records); every
other package may import it.
"""

from .fasta import detect_alphabet, read_fasta

__all__ = ["detect_alphabet", "read_fasta"]
