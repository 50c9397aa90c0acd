"""The errors tiedhmm raises for problems that are the caller's to fix.

Every member subclasses :class:`TiedHMMError`, itself a ``ValueError``, so code that
catches ``ValueError`` keeps working and a caller can catch exactly what is theirs to
fix. Anything else escaping tiedhmm is a bug: the command line reports it as an
internal error and asks for a report (:data:`BUG_REPORT`).
"""

from __future__ import annotations

BUG_REPORT = ("this is a bug in tiedhmm: please report it with the command and a small "
              "input that shows it (--debug prints the traceback)")


class TiedHMMError(ValueError):
    """A problem with the caller's data, model or settings (not a bug in tiedhmm).

    Examples
    --------
    >>> import tiedhmm as th
    >>> try:
    ...     th.PairHMM.load("protein").loglik("MKT*AY", "MKTAY")
    ... except th.TiedHMMError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    InvalidDataError True
    """


class InvalidDataError(TiedHMMError):
    """Observations, sequences, files or settings that tiedhmm cannot use as given."""


class TyingError(TiedHMMError):
    """A model structure that breaks the tying rules: rows not summing to 1, one group
    used with different outcome multiplicities, inconsistent soft ties."""


class ModelFileError(TiedHMMError):
    """A model file that is missing, of another kind or version, truncated or malformed."""


class ImpossibleSequenceError(TiedHMMError):
    """A sequence (or pair) the model cannot generate: its log-likelihood is ``-inf``."""


class EMDecreaseError(TiedHMMError):
    """The log-likelihood went down between EM iterations beyond rounding."""


class MemoryLimitError(TiedHMMError, MemoryError):
    """Work whose matrices would not fit in the memory allowed; the message names the
    bytes needed, the limit and what to do instead."""
