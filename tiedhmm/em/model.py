"""The skeleton every fitted model shares: settings, the EM driver, files, parameters.

``HMM`` and the hmmlearn-style estimators, ``ModelSet`` and ``PairHMM`` all keep their
EM settings (``n_iter``, ``tol``, ``verbose``) as constructor arguments, run EM through
:meth:`EMModel._run_em` (which takes ``callback=`` and leaves ``monitor_``), and save
and load one versioned JSON document through :meth:`EMModel.save` and
:meth:`EMModel.load`. ``get_params`` / ``set_params`` follow scikit-learn, so
``sklearn.base.clone`` and ``GridSearchCV`` work without tiedhmm depending on it.
"""

from __future__ import annotations

import copy
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import em
from ..errors import InvalidDataError
from ..io import files as model_files
from ..io.records import decoding
from ..tying import SoftTie


def stored_list(value: Any) -> list[Any]:
    """A constructor argument kept as given when it is already a list, so that
    ``get_params`` returns the very object passed (scikit-learn's rule)."""
    return value if isinstance(value, list) else list(value)


def stored_dict(value: Any) -> dict[Any, Any]:
    """A mapping argument kept as given when it is already a dict."""
    return value if isinstance(value, dict) else dict(value)


#: Each class's constructor argument names, read once per class (the estimators' compiled
#: groups are keyed by them on every call).
_ARGUMENT_NAMES: dict[type, tuple[str, ...]] = {}


def _constructor_arguments(cls: type) -> tuple[str, ...]:
    """The names of a class's constructor arguments (not ``*args`` or ``**kwargs``)."""
    if cls not in _ARGUMENT_NAMES:
        signature = inspect.signature(cls)  # (its __init__, without self)
        _ARGUMENT_NAMES[cls] = tuple(
            name for name, parameter in signature.parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD))
    return _ARGUMENT_NAMES[cls]


class Parametrized:
    """scikit-learn's parameter protocol: the constructor's arguments, read and set."""

    @classmethod
    def _parameter_names(cls) -> tuple[str, ...]:
        return _constructor_arguments(cls)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments as stored (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._parameter_names()}

    def set_params(self, **params: Any) -> Parametrized:
        """Set constructor arguments by name; unknown names are an error."""
        known = self._parameter_names()
        for name, value in params.items():
            if name not in known:
                raise InvalidDataError(f"{type(self).__name__} has no parameter {name!r}; "
                                       f"its parameters are {list(known)}")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags (asked for by its model selection, with scikit-learn
        installed): an unsupervised estimator fitted on ``(X, lengths)``."""
        from sklearn.utils import InputTags, Tags, TargetTags
        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    input_tags=InputTags(allow_nan=False))

    def __sklearn_clone__(self) -> Parametrized:
        """A new model from deep copies of the arguments, copied *together*: groups that
        several arguments hold stay one object in the copy (scikit-learn's own clone
        copies each argument separately, which would untie them)."""
        return type(self)(**copy.deepcopy(self.get_params(deep=False)))


class EMModel(Parametrized, ABC):
    """Settings, EM driver and files of a model fitted by EM (see the module docstring)."""

    #: The ``format`` of this model's files.
    document_kind: str = ""
    n_iter: int
    tol: float
    verbose: bool

    @property
    def monitor_(self) -> em.ConvergenceMonitor:
        """The last fit's convergence monitor; before any fit, an empty one with the
        current settings (as hmmlearn has one from construction). A monitor set here
        (tiedhmm's or hmmlearn's kind) is reset and used by the following fits."""
        if getattr(self, "_monitor", None) is None:
            self._monitor = em.ConvergenceMonitor(self.tol, self.n_iter, self.verbose)
        return self._monitor

    @monitor_.setter
    def monitor_(self, monitor: em.ConvergenceMonitor) -> None:
        self._monitor = monitor
        self._monitor_given = True

    def _run_em(self, sources: Sequence[em.StatisticsSource], *,
                soft_ties: Sequence[SoftTie] = (), emission_params: str | None = None,
                callback: Callable[[int, float], None] | None = None,
                anchor: float = 0.0) -> None:
        """EM on the groups behind ``sources``; ``monitor_`` holds its history."""
        em.fit(sources, self._fresh_monitor(callback), soft_ties=soft_ties,
               emission_params=emission_params, anchor=anchor)

    def _fresh_monitor(self, callback: Callable[[int, float], None] | None
                       ) -> em.ConvergenceMonitor:
        """The monitor of a new fit (a monitor the user set, reset), ``n_iter`` checked."""
        if isinstance(self.n_iter, bool) or not isinstance(self.n_iter, (int, np.integer)) \
                or self.n_iter < 0:
            raise InvalidDataError(f"n_iter must be an integer >= 0, got {self.n_iter!r}")
        if getattr(self, "_monitor_given", False):
            self._monitor._reset()  # hmmlearn's monitors have no public reset
        else:
            self._monitor = em.ConvergenceMonitor(self.tol, self.n_iter, self.verbose,
                                                  callback)
        return self._monitor

    @abstractmethod
    def _document(self) -> dict[str, Any]:
        """The body of this model's file (everything but format and version)."""

    @classmethod
    @abstractmethod
    def _from_document(cls, document: dict[str, Any], version: int) -> Any:
        """The model a document describes (errors are turned into ModelFileError)."""

    def save(self, path: str | Path) -> None:
        """Write the model as versioned JSON, atomically (a temporary file, then a rename).

        Every group is written once, so ties survive a round trip; a model saved alone
        keeps its own copy of groups it shares with other models (save a
        :class:`~tiedhmm.ModelSet` to keep that sharing).

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            The file's folder does not exist.
        """
        model_files.write_document(path, self.document_kind, self._document())

    @classmethod
    def load(cls, name_or_path: str | Path) -> Any:
        """Read a model written by ``save``, or a bundled model by name.

        Parameters
        ----------
        name_or_path : str or pathlib.Path
            A file, or the name of a bundled model (``"protein"``, ``"dna"`` for pair HMMs).

        Returns
        -------
        EMModel
            A model of the calling class.

        Raises
        ------
        tiedhmm.errors.ModelFileError
            A missing, malformed, truncated or foreign file, naming what is wrong.

        Examples
        --------
        >>> import tiedhmm as th
        >>> model = th.PairHMM.load("dna")
        >>> model.alphabet.name
        'dna'
        """
        document, version, where = model_files.read_document(name_or_path, cls.document_kind)
        with decoding(where):
            return cls._from_document(document, version)
