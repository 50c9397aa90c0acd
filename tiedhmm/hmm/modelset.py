"""Several HMMs fitted together and used as a classifier (one model per word or class).

Models may hold the same group objects (a silence model shared by every word, one
transition group for all words). ``ModelSet.fit`` runs one EM over all models, each
on its own labelled sequences, and pools the statistics of every shared group across
models. Fitting one model alone with ``HMM.fit`` also updates its shared groups, and
every other model holding them sees the change: that is what sharing means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..em.model import EMModel, stored_dict
from ..errors import InvalidDataError
from ..io.checks import check_random_state, lengths_to_offsets
from .model import BaseHMM, named_hmms_document, named_hmms_from_document


class ModelSet(EMModel):
    """Named HMMs, fitted jointly on labelled sequences and classifying by best score.

    The models may be general HMMs or hmmlearn-style estimators, and may hold the same
    group objects (a silence model shared by every word): joint EM pools the statistics
    of every shared group across models. ``save`` writes each shared group once, and
    ``load`` restores the sharing.

    Parameters
    ----------
    models : mapping of str to BaseHMM
        The models by name (a word, a class label).
    n_iter : int, default 10
        The most EM iterations.
    tol : float, default 1e-2
        EM stops when the log-likelihood gains less than this.
    verbose : bool, default False
        Print each iteration's log-likelihood to stderr.
    random_state : int, numpy.random.RandomState or None
        Seeds the initialisation of unset parameters.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        No models.
    TypeError
        A model that is not a tiedhmm HMM.

    Examples
    --------
    >>> import numpy as np
    >>> import tiedhmm as th
    >>> silence = th.GaussianEmission(n_features=1, name="silence")
    >>> words = {w: th.left_right([silence, th.GaussianEmission(n_features=1), silence])
    ...          for w in ("yes", "no")}
    >>> rng = np.random.RandomState(0)
    >>> X = np.concatenate([rng.normal(m, 0.3, (30, 1)) for m in (0, 3, 0, 0, -3, 0)])
    >>> models = th.ModelSet(words, n_iter=5, random_state=0)
    >>> models = models.fit(X, [90, 90], ["yes", "no"])
    >>> names, scores = models.classify(X, [90, 90])
    >>> names.tolist()
    ['yes', 'no']
    >>> models.models["yes"].emissions[0] is models.models["no"].emissions[0]
    True
    """

    document_kind = "tiedhmm.ModelSet"

    def __init__(self, models: Mapping[str, BaseHMM], *, n_iter: int = 10, tol: float = 1e-2,
                 verbose: bool = False,
                 random_state: int | np.random.RandomState | None = None) -> None:
        if not models:
            raise InvalidDataError("a ModelSet needs at least one model")
        for name, model in models.items():
            if not isinstance(model, BaseHMM):
                raise TypeError(f"model {name!r} is not a tiedhmm HMM (got {model!r})")
        self.models = stored_dict(models)
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def _split(self, X: np.ndarray, lengths: Sequence[int] | None,
               labels: Sequence[Any]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each model's rows of ``X``, lengths and row indices, from one label per
        sequence."""
        X = np.asarray(X)
        offsets = lengths_to_offsets(X.shape[0], lengths)
        names = np.asarray(labels)
        if names.shape != (offsets.shape[0] - 1,):
            raise InvalidDataError(f"labels must have one entry per sequence "
                                   f"({offsets.shape[0] - 1}), got shape {names.shape}")
        unknown = sorted(set(names.tolist()) - set(self.models))
        if unknown:
            raise InvalidDataError(f"labels {unknown} name no model; models: {self.names}")
        parts = {}
        for name in self.models:
            chosen = np.flatnonzero(names == name)
            if chosen.size:
                rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in chosen])
                parts[name] = (X[rows], np.diff(offsets)[chosen], rows)
        return parts

    def fit(self, X: np.ndarray, lengths: Sequence[int] | None, labels: Sequence[Any], *,
            state_labels: Sequence[int] | np.ndarray | None = None, client: Any = None,
            callback: Callable[[int, float], None] | None = None) -> ModelSet:
        """Joint EM: every model on the sequences labelled with its name.

        Shared groups are pooled across models; models without data keep their
        parameters.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Observations of all sequences, end to end.
        lengths : sequence of int or None
            The length of each sequence.
        labels : sequence
            One model name per sequence.
        state_labels : array of shape (n_samples,), optional
            The known state of frames within their sequence's model, ``-1`` where
            unknown (see :meth:`BaseHMM.fit <tiedhmm.hmm.model.BaseHMM.fit>`).
        client : dask.distributed.Client, optional
            Run each model's E-step over chunks on this cluster.
        callback : callable, optional
            ``callback(iteration, loglik)`` hears every iteration.

        Returns
        -------
        ModelSet
            ``self``, fitted.

        Raises
        ------
        tiedhmm.errors.InvalidDataError
            Labels that name no model, or not one label per sequence.
        """
        rng = check_random_state(self.random_state)
        if state_labels is not None:
            state_labels = np.asarray(state_labels)
            if state_labels.shape != (np.shape(X)[0],):
                raise InvalidDataError(f"state_labels must hold one entry per sample "
                                       f"({np.shape(X)[0]}), got shape {state_labels.shape}")
        plans = [self.models[name].em_plan(
                     rows, model_lengths, rng, client=client,
                     state_labels=None if state_labels is None else state_labels[indices])
                 for name, (rows, model_lengths, indices)
                 in self._split(X, lengths, labels).items()]
        ties = {id(tie): tie for plan in plans for tie in plan.soft_ties}
        self._run_em([plan.source for plan in plans], soft_ties=list(ties.values()),
                     callback=callback)
        for plan in plans:
            plan.finish()
        return self

    def _document(self) -> dict[str, Any]:
        return {**named_hmms_document(self.models),
                "settings": {"n_iter": self.n_iter, "tol": self.tol}}

    @classmethod
    def _from_document(cls, document: dict[str, Any], version: int) -> ModelSet:
        return cls(named_hmms_from_document(document), **document["settings"])

    def score_matrix(self, X: np.ndarray, lengths: Sequence[int] | None = None
                     ) -> np.ndarray:
        """``(n_sequences, n_models)`` log-likelihood of every sequence under every model
        (each model's forward runs in parallel over sequences)."""
        return np.stack([model.sequence_scores(X, lengths) for model in self.models.values()],
                        axis=1)

    def classify(self, X: np.ndarray, lengths: Sequence[int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """The best model's name per sequence and the score matrix it was chosen from."""
        scores = self.score_matrix(X, lengths)
        return np.array(self.names)[np.argmax(scores, axis=1)], scores
