"""Figures of pair-HMM posteriors and of multiple-alignment confidence (``[plot]`` extra).

matplotlib is imported when a figure is drawn, not with this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .io.files import atomic_path


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs the plot extra: pip install 'tiedhmm[plot]'") \
            from None
    return plt


def plot_posterior(posterior: np.ndarray, alignment: Any, x_name: str = "x",
                   y_name: str = "y", ax: Any = None) -> Any:
    """Draw a match-posterior matrix as a heatmap with an alignment's path on it.

    Parameters
    ----------
    posterior : array of shape (len(x), len(y))
        ``P(x_i aligned to y_j)``, as :meth:`tiedhmm.PairHMM.posterior` gives it (a
        sparse matrix is made dense).
    alignment : Bio.Align.Alignment
        A pairwise alignment of x and y, whose aligned letter pairs are drawn as a line.
    x_name, y_name : str
        Axis labels.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install "tiedhmm[plot]"``).
    """
    plt = _pyplot()
    posterior = posterior.toarray() if hasattr(posterior, "toarray") else np.asarray(posterior)
    if ax is None:
        height = 6 * posterior.shape[0] / max(posterior.shape[1], 1) if posterior.shape[1] else 6
        _, ax = plt.subplots(figsize=(6, height))
    image = ax.imshow(posterior, cmap="viridis", vmin=0.0, vmax=1.0, origin="upper",
                      aspect="auto", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="P(x_i aligned to y_j)")
    rows, columns = _matched_cells(alignment)
    ax.plot(columns, rows, color="white", linewidth=1.0, label="alignment")
    ax.set_xlabel(y_name)
    ax.set_ylabel(x_name)
    ax.legend(loc="lower left")
    return ax


def plot_column_confidence(alignment: Any, ax: Any = None) -> Any:
    """Draw a multiple alignment's per-column confidence as bars.

    Parameters
    ----------
    alignment : Bio.Align.Alignment
        An alignment from :func:`tiedhmm.msa`, which carries ``confidence``: per column,
        the calibrated chance that it is correct (:mod:`tiedhmm.msa.confidence`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install "tiedhmm[plot]"``).
    ValueError
        The alignment has no ``confidence`` (it was not made by :func:`tiedhmm.msa`).
    """
    confidence = getattr(alignment, "confidence", None)
    if confidence is None:
        raise ValueError("the alignment has no confidence: make it with tiedhmm.msa")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.5))
    columns = np.arange(len(confidence))
    ax.bar(columns, np.nan_to_num(confidence, nan=0.0), width=1.0, color="tab:blue")
    ax.set_xlim(-0.5, len(confidence) - 0.5)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("alignment column")
    ax.set_ylabel("confidence")
    return ax


def save_posterior_plot(posterior: np.ndarray, alignment: Any, x_name: str, y_name: str,
                        path: Path) -> None:
    """Write :func:`plot_posterior`'s figure to ``path`` (PNG, or any matplotlib format
    by suffix); the file appears only once it is complete.

    Parameters
    ----------
    posterior : array of shape (len(x), len(y))
        The match posteriors.
    alignment : Bio.Align.Alignment
        The pairwise alignment drawn on them.
    x_name, y_name : str
        Axis labels.
    path : pathlib.Path
        The file to write.

    Raises
    ------
    ImportError
        matplotlib is not installed.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")  # a file, not a window (as the command line wants)
    except ImportError:
        raise ImportError("plotting needs the plot extra: pip install 'tiedhmm[plot]'") \
            from None
    plt = _pyplot()
    ax = plot_posterior(posterior, alignment, x_name, y_name)
    try:
        with atomic_path(path) as temporary:
            ax.figure.savefig(temporary)
    finally:
        plt.close(ax.figure)


def _matched_cells(alignment: Any) -> tuple[list[int], list[int]]:
    """Row and column of every aligned letter pair of a pairwise alignment."""
    rows: list[int] = []
    columns: list[int] = []
    coordinates = alignment.coordinates
    for k in range(coordinates.shape[1] - 1):
        (i0, i1), (j0, j1) = coordinates[0, k:k + 2], coordinates[1, k:k + 2]
        if i1 - i0 and j1 - j0:
            rows.extend(range(int(i0), int(i1)))
            columns.extend(range(int(j0), int(j1)))
    return rows, columns
