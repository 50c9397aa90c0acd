"""Topology helpers for speech-style models: left-to-right chains and concatenation.

``left_right`` builds one chain of states with self-loops (``stay``), steps (``next``)
and optional skips (``skip``), entered at its first state and, with ``exit=True``,
left through a non-emitting exit after its last state(s). The ``stay``/``next``/``skip``
outcomes are relative, so one transition group can be shared by every state of the
chain (``transitions="tied"``) or by several models (pass the group object).

``concatenate`` joins models end to start (e.g. ``silence + word + silence``): every
exit edge of one model is linked to every entry edge of the next, and states keep
their groups, so a model used twice shares its groups by identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..emissions import EmissionGroup
from ..errors import TyingError
from ..tying import Label, TransitionGroup, scaled
from .model import HMM, BaseHMM

TRANSITION_CHOICES = ("tied", "untied")


def left_right(emissions: Sequence[EmissionGroup], *, skip: bool = False,
               transitions: str | TransitionGroup = "tied", exit: bool = True,
               skippable: bool = False, name: str | None = None, **settings: Any) -> HMM:
    """A left-to-right HMM: one state per emission group, each staying or moving on.

    States near the end that lack a destination for some outcome get their own group
    over the outcomes they have (the last state without an exit stays for ever).

    Parameters
    ----------
    emissions : sequence of EmissionGroup
        One per state, in order; a group may repeat (those states are tied).
    skip : bool, default False
        Add a ``skip`` outcome that jumps over the next state.
    transitions : "tied", "untied" or TransitionGroup, default "tied"
        ``"tied"``: one group of relative outcomes for every state that has a
        destination for each; ``"untied"``: one group per state; a
        :class:`TransitionGroup` over ``("stay", "next")`` (or with ``"skip"``): that
        group, to share across models.
    exit : bool, default True
        Leave through a non-emitting exit after the last state(s), so that the model
        can be concatenated or used as a speech unit.
    skippable : bool, default False
        Let the begin row go straight to the exit with a learned probability (HTK's
        tee model, such as an optional short pause between words).
    name : str, optional
        The model's name.
    **settings
        :class:`HMM`'s settings (``n_iter``, ``tol``, ``init``, ...).

    Returns
    -------
    HMM
        The chain.

    Examples
    --------
    >>> import tiedhmm as th
    >>> steps = th.TransitionGroup(["stay", "next"])
    >>> one = th.left_right([th.GaussianEmission(n_features=2) for _ in range(3)],
    ...                     transitions=steps)
    >>> two = th.left_right([th.GaussianEmission(n_features=2) for _ in range(4)],
    ...                     transitions=steps)
    >>> one.transitions[(0, 0)][0] is two.transitions[(2, 2)][0]   # shared across models
    True
    """
    n_states = len(emissions)
    if n_states == 0:
        raise TyingError("left_right needs at least one emission group")
    outcomes = ("stay", "next", "skip") if skip else ("stay", "next")
    shared = _shared_group(transitions, outcomes, name)
    start: dict[int | str, Label] = {0: 1.0}
    if skippable:
        if not exit:
            raise TyingError("a skippable chain needs an exit (exit=True)")
        tee = TransitionGroup(("enter", "skip"), name=f"{name or 'left-right'} skip")
        start = {0: (tee, "enter"), "end": (tee, "skip")}
    edges: dict[tuple[int, int], Label] = {}
    end: dict[int, Label] = {}
    for i in range(n_states):
        targets = {outcome: i + step for step, outcome in enumerate(outcomes)}
        usable = [o for o, j in targets.items() if j < n_states or (exit and j == n_states)]
        if len(usable) == 1:
            edges[(i, i)] = 1.0
            continue
        group = shared if shared is not None and len(usable) == len(outcomes) else \
            TransitionGroup(usable, name=f"{name or 'left-right'} row {i}")
        for outcome in usable:
            j = targets[outcome]
            if j == n_states:
                end[i] = (group, outcome)
            else:
                edges[(i, j)] = (group, outcome)
    return HMM(emissions, start, edges, end if exit else None, **settings)


def _shared_group(transitions: str | TransitionGroup, outcomes: tuple[str, ...],
                  name: str | None) -> TransitionGroup | None:
    if isinstance(transitions, TransitionGroup):
        if transitions.outcomes != outcomes:
            raise TyingError(f"{transitions!r} must have outcomes {outcomes} for this chain")
        return transitions
    if transitions not in TRANSITION_CHOICES:
        raise TyingError(f"transitions must be one of {TRANSITION_CHOICES} or a "
                         f"TransitionGroup, got {transitions!r}")
    return TransitionGroup(outcomes, name=name) if transitions == "tied" else None


def concatenate(models: Sequence[BaseHMM], **settings: Any) -> HMM:
    """One HMM that runs through ``models`` in order, sharing all their groups.

    The link ``i -> j`` from an exit of one model to an entry of the next has the
    product of both labels, so at least one of them must be a fixed probability (it
    becomes the label's factor). The hmmlearn-style estimators take part as the
    general HMM they compile to.

    Parameters
    ----------
    models : sequence of BaseHMM
        Each model but the last must have exit (end) edges. A model may appear twice;
        its states then share their groups by identity.
    **settings
        :class:`HMM`'s settings for the result.

    Returns
    -------
    HMM
        The concatenation.

    Raises
    ------
    tiedhmm.errors.TyingError
        A model without exits before the last, or a link of two group labels.

    Examples
    --------
    >>> import tiedhmm as th
    >>> silence = th.left_right([th.GaussianEmission(n_features=1)])
    >>> word = th.left_right([th.GaussianEmission(n_features=1) for _ in range(3)])
    >>> phrase = th.concatenate([silence, word, silence])
    >>> len(phrase.emissions), phrase.emissions[0] is phrase.emissions[4]
    (5, True)
    """
    if not models:
        raise TyingError("concatenate needs at least one model")
    general = [model.to_hmm() for model in models]
    emissions: list[EmissionGroup] = []
    start: dict[int | str, Label] = {}
    edges: dict[tuple[int, int], Label] = {}
    end: dict[int, Label] | None = None
    exits: dict[int, Label] = {}
    for position, model in enumerate(general):
        offset = len(emissions)
        emissions.extend(model.emissions)
        if "end" in model.start:
            raise TyingError(f"model {position} can be skipped (begin -> end edge); "
                             f"concatenate needs every model to emit")
        entries = {offset + j: label for j, label in model.start.items()}
        if position == 0:
            start = entries
        else:
            for i, exit_label in exits.items():
                for j, entry_label in entries.items():
                    edges[(i, j)] = _product(exit_label, entry_label, position)
        edges.update({(offset + i, offset + j): label
                      for (i, j), label in model.transitions.items()})
        if model.end is None and position < len(models) - 1:
            raise TyingError(f"model {position} has no exit (end) edges, so nothing can "
                             f"follow it; build it with exit=True")
        exits = {offset + i: label for i, label in (model.end or {}).items()}
        end = exits if model.end is not None else None
    ties = list({id(tie): tie for model in general for tie in model.soft_ties}.values())
    return HMM(emissions, start, edges, end, soft_ties=ties, **settings)


def _product(first: Label, second: Label, position: int) -> Label:
    """The label of an exit edge followed by an entry edge: fixed values scale a group
    label (as its factor); two group labels cannot be multiplied."""
    if not isinstance(first, tuple):
        return scaled(second, float(first))
    if isinstance(second, tuple):
        raise TyingError(f"cannot link model {position - 1} to model {position}: an exit and "
                         f"an entry edge are both parameterised ({first!r} x {second!r}); one "
                         f"of them must be a fixed probability")
    return scaled(first, float(second))
