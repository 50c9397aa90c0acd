"""Pair-HMM emissions: match tables ``p(a, b)`` and their kernel tables over letter codes.

Match states hold a :class:`MatchEmission`; insert states hold a
:class:`~tiedhmm.emissions.categorical.CategoricalEmission` over the alphabet (X and
Y inserts of a symmetric model hold the *same* object). The kernels read one table
per state over letter *codes* (letters then ambiguity codes, plus a gap code):
``S p S^T`` for a match, ``S q`` for an insert, with ``S`` the code → letter
membership matrix. Expected counts over codes go back to letters in proportion to
the letters' share of each code's probability (the E-step for an ambiguous letter).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidDataError
from ..io.records import group_kind
from ..parameters import ParameterGroup, Stats
from .categorical import CategoricalEmission

SYMMETRY_TOLERANCE = 1e-12


@group_kind("match")
class MatchEmission(ParameterGroup):
    """Joint probabilities ``table[a, b]`` of aligned letter pairs, shared by match states.

    Parameters
    ----------
    table : array of shape (n_letters, n_letters)
        Sums to one.
    symmetric : bool, default False
        Keep ``p(a, b) = p(b, a)``: the M-step fits ``p = (n + n^T) / (2 sum n)`` from the
        pooled counts.
    name : str, optional
        A name for messages and model files.
    trainable : bool, default True
        False freezes the group: EM leaves it bit-identical.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        A table that is not square, not a distribution, or not symmetric when asked to be.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> match = th.MatchEmission(np.full((4, 4), 1 / 16), symmetric=True)
    >>> match.table.shape
    (4, 4)
    """

    param_letters = "e"
    pullable = True

    def __init__(self, table: np.ndarray, *, symmetric: bool = False, name: str | None = None,
                 trainable: bool = True) -> None:
        super().__init__(name=name, trainable=trainable)
        table = np.array(table, dtype=float)
        if table.ndim != 2 or table.shape[0] != table.shape[1]:
            raise InvalidDataError(f"{self!r}: match table must be square, got shape {table.shape}")
        if not np.all(np.isfinite(table)) or np.any(table < 0):
            raise InvalidDataError(f"{self!r}: match table must be finite and non-negative")
        if abs(table.sum() - 1.0) > 1e-8:
            raise InvalidDataError(f"{self!r}: match table must sum to 1, got {table.sum():.10g}")
        if symmetric and np.abs(table - table.T).max() > SYMMETRY_TOLERANCE:
            raise InvalidDataError(f"{self!r}: symmetric=True needs table[a, b] == table[b, a]")
        self.table = table
        self.symmetric = symmetric

    @property
    def size(self) -> int:
        return int(self.table.shape[0])

    def batch_key(self) -> tuple[Any, ...]:
        return (type(self), self.size, self.symmetric)

    def m_step(self, stats: Stats, params: str) -> None:
        counts = stats["counts"]
        if "e" not in params or counts.sum() <= 0:
            return
        if self.symmetric:
            counts = counts + counts.T
        self.table = counts / counts.sum()

    def pull_toward(self, reference: MatchEmission, share: float) -> None:
        self.table = (1.0 - share) * self.table + share * reference.table

    def free_parameters(self, params: str) -> int:
        k = self.size
        return (k * (k + 1) // 2 if self.symmetric else k * k) - 1 if "e" in params else 0

    def parameter_arrays(self) -> tuple[np.ndarray | None, ...]:
        return (self.table,)

    def to_record(self) -> dict[str, Any]:
        return {"symmetric": self.symmetric, "table": self.table.tolist()}

    @classmethod
    def from_record(cls, record: dict[str, Any], *, name: str | None,
                    trainable: bool) -> MatchEmission:
        return cls(np.array(record["table"], dtype=float), symmetric=bool(record["symmetric"]),
                   name=name, trainable=trainable)


def state_table(group: Any, dx: int, dy: int, membership: np.ndarray) -> np.ndarray:
    """``(C + 1, C + 1)`` emission table over codes (index ``C`` = no letter) for one state."""
    n_codes = membership.shape[0]
    table = np.zeros((n_codes + 1, n_codes + 1))
    if dx and dy:
        table[:n_codes, :n_codes] = membership @ group.table @ membership.T
    elif dx:
        table[:n_codes, n_codes] = membership @ group.probs
    else:
        table[n_codes, :n_codes] = membership @ group.probs
    return table


def state_statistics(group: Any, dx: int, dy: int, membership: np.ndarray,
                     table: np.ndarray, counts: np.ndarray) -> Stats:
    """Letter statistics of one state from its expected counts over codes."""
    n_codes = membership.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(table > 0, counts / table, 0.0)
    if dx and dy:
        letters = group.table * (membership.T @ ratio[:n_codes, :n_codes] @ membership)
    elif dx:
        letters = group.probs * (membership.T @ ratio[:n_codes, n_codes])
    else:
        letters = group.probs * (membership.T @ ratio[n_codes, :n_codes])
    return {"weight": np.array(letters.sum()), "counts": letters}


def check_state_group(group: ParameterGroup, dx: int, dy: int, n_letters: int,
                      where: str) -> None:
    """Match states need a MatchEmission, inserts a CategoricalEmission, over the alphabet."""
    if dx and dy:
        if not isinstance(group, MatchEmission) or group.size != n_letters:
            raise InvalidDataError(f"{where}: a match state needs a {n_letters} x {n_letters} "
                                   f"MatchEmission, got {group!r}")
    elif not isinstance(group, CategoricalEmission) or group.n_features != n_letters \
            or group.probs is None:
        raise InvalidDataError(f"{where}: an insert state needs a CategoricalEmission over "
                               f"{n_letters} letters with probs set, got {group!r}")
