"""Linked tables from finest-grain rollup rows: the sums up every dimension, done as matrix products.

The rollups hold counts per buurt (and network), month and category. Every other figure of a linked
table (wijk, gemeente, quarter, year, total) is a sum of those *leaves*, and which leaves a node sums
is fixed by the dimension (``Dimension.sums``). So the whole table is ``S_area x leaves x S_period x
S_category`` for three 0/1 matrices: a few microseconds of numpy instead of a GROUP BY with 18
grouping sets. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.domain.stats.disclosure import Dimension


def leaves(dimension: Dimension) -> list[str]:
    """The nodes that are no sum of others along ``sums``, in declaration order."""
    return [node for node in dimension.nodes if node not in dimension.sums]


def sum_matrix(dimension: Dimension, leaf_nodes: Sequence[str]) -> np.ndarray:
    """``S[i, j] = 1`` when node i sums leaf j (a leaf sums itself), following ``sums`` only.

    Nodes that split up in more ways than one (``also``) are summed through ``sums``; their other
    decompositions must be leaves that the data fills consistently (networks of the gemeente).
    """
    column = {leaf: j for j, leaf in enumerate(leaf_nodes)}
    matrix = np.zeros((len(dimension.nodes), len(leaf_nodes)), np.int64)
    covered: dict[str, list[int]] = {}

    def cover(node: str) -> list[int]:
        if node not in covered:
            children = dimension.sums.get(node)
            covered[node] = [j for child in children for j in cover(child)] if children else [column[node]]
        return covered[node]

    for i, node in enumerate(dimension.nodes):
        if node in column or node in dimension.sums:
            matrix[i, cover(node)] = 1
    return matrix


def roll_up(cells: np.ndarray, areas: np.ndarray, periods: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """The full table [area, period, category] from the leaf table, one sum matrix per axis.

    Computed in float64, where the products run in BLAS (integer ones do not): exact for counts and
    sums far beyond any municipality (below 2**53); integer leaves come back as int64."""
    out = np.tensordot(areas.astype(np.float64), cells.astype(np.float64), axes=(1, 0))
    out = np.tensordot(out, periods.astype(np.float64), axes=(1, 1))  # [area, category leaf, period]
    out = np.tensordot(out, categories.astype(np.float64), axes=(1, 1))  # [area, period, category]
    out = np.ascontiguousarray(out)
    return np.rint(out).astype(np.int64) if np.issubdtype(cells.dtype, np.integer) else out


def scatter(
    shape: tuple[int, int, int], index: Sequence[np.ndarray], values: np.ndarray, dtype: type = np.int64
) -> np.ndarray:
    """A leaf table with ``values`` added at (area, period, category) ``index`` (repeats add up)."""
    table: np.ndarray = np.zeros(shape, dtype)
    np.add.at(table, tuple(index), values)
    return table
