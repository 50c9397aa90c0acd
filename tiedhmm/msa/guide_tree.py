"""Guide trees for progressive alignment: UPGMA on a distance matrix, and Newick text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tree:
    """A rooted binary tree over leaves ``0 .. N-1``: ``merges[k] = (a, b)`` joins nodes
    a and b into node ``N + k`` at ``heights[k]``; the last merge is the root."""

    n_leaves: int
    merges: tuple[tuple[int, int], ...]
    heights: tuple[float, ...]

    def leaves(self, node: int) -> list[int]:
        """The leaves below ``node``, left to right."""
        if node < self.n_leaves:
            return [node]
        a, b = self.merges[node - self.n_leaves]
        return self.leaves(a) + self.leaves(b)

    def leaf_weights(self) -> np.ndarray:
        """ClustalW's sequence weights (Thompson, Higgins and Gibson 1994): each leaf
        sums, over the branches from it to the root, the branch length shared by the
        leaves below that branch, so that close relatives split their weight. Scaled to
        a mean of 1 (all ones when every branch has length 0)."""
        n = self.n_leaves
        if n == 1:
            return np.ones(1)
        height = np.concatenate((np.zeros(n), np.asarray(self.heights, dtype=float)))
        parent = np.full(n + len(self.merges), -1)
        below = np.concatenate((np.ones(n), np.zeros(len(self.merges))))
        for k, (a, b) in enumerate(self.merges):
            parent[a] = parent[b] = n + k
            below[n + k] = below[a] + below[b]
        weights = np.zeros(n)
        for leaf in range(n):
            node = leaf
            while parent[node] >= 0:
                weights[leaf] += (height[parent[node]] - height[node]) / below[node]
                node = parent[node]
        total = weights.sum()
        return weights * n / total if total > 0 else np.ones(n)

    def newick(self, names: list[str]) -> str:
        """The tree in Newick format with branch lengths (UPGMA heights)."""
        def height(node: int) -> float:
            return 0.0 if node < self.n_leaves else self.heights[node - self.n_leaves]

        def text(node: int, parent_height: float) -> str:
            length = f":{parent_height - height(node):.6g}"
            if node < self.n_leaves:
                return _newick_name(names[node]) + length
            a, b = self.merges[node - self.n_leaves]
            return f"({text(a, height(node))},{text(b, height(node))}){length}"

        if self.n_leaves == 1:
            return _newick_name(names[0]) + ";"
        root = self.n_leaves + len(self.merges) - 1
        a, b = self.merges[-1]
        return f"({text(a, height(root))},{text(b, height(root))});"


def _newick_name(name: str) -> str:
    if any(c in name for c in " ():;,[]'"):
        return "'" + name.replace("'", "''") + "'"
    return name


def upgma(distances: np.ndarray) -> Tree:
    """UPGMA: repeatedly join the two closest clusters (the lowest pair index on ties),
    a joined cluster's distance to another being the size-weighted mean of its parts'."""
    n = distances.shape[0]
    current = distances.astype(float).copy()
    np.fill_diagonal(current, np.inf)
    nodes = list(range(n))
    sizes = [1] * n
    merges, heights = [], []
    active = list(range(n))
    for step in range(n - 1):
        block = current[np.ix_(active, active)]
        flat = int(np.argmin(block))
        p, q = sorted(divmod(flat, len(active)))
        a, b = active[p], active[q]
        merges.append((nodes[a], nodes[b]))
        heights.append(float(current[a, b]) / 2)
        joined = (sizes[a] * current[a] + sizes[b] * current[b]) / (sizes[a] + sizes[b])
        current[a], current[:, a] = joined, joined
        current[a, a] = np.inf
        sizes[a] += sizes[b]
        nodes[a] = n + step
        active.remove(b)
    return Tree(n, tuple(merges), tuple(heights))
