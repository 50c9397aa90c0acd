"""Match-posterior heatmaps with the alignment path drawn on them (``[plot]`` extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io.files import atomic_path


def save_posterior_plot(posterior: np.ndarray, alignment, x_name: str, y_name: str,
                        path: Path) -> None:
    """Write a PNG (or any matplotlib format, by suffix) of ``posterior`` with the path
    of ``alignment``; the file appears only once it is complete."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs the plot extra: pip install 'tiedhmm[plot]'") \
            from None
    figure, axes = plt.subplots(figsize=(6, 6 * posterior.shape[0] / max(posterior.shape[1], 1)
                                         if posterior.shape[1] else 6))
    image = axes.imshow(posterior, cmap="viridis", vmin=0.0, vmax=1.0, origin="upper",
                        aspect="auto", interpolation="nearest")
    figure.colorbar(image, ax=axes, label="P(x_i aligned to y_j)")
    rows, columns = _matched_cells(alignment)
    axes.plot(columns, rows, color="white", linewidth=1.0, label="alignment")
    axes.set_xlabel(y_name)
    axes.set_ylabel(x_name)
    axes.legend(loc="lower left")
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary)
    finally:
        plt.close(figure)


def _matched_cells(alignment) -> tuple[list[int], list[int]]:
    """Row and column of every aligned letter pair of a pairwise alignment."""
    rows, columns = [], []
    coordinates = alignment.coordinates
    for k in range(coordinates.shape[1] - 1):
        (i0, i1), (j0, j1) = coordinates[0, k:k + 2], coordinates[1, k:k + 2]
        if i1 - i0 and j1 - j0:
            rows.extend(range(i0, i1))
            columns.extend(range(j0, j1))
    return rows, columns
