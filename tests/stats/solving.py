"""Reading published figures the way an attacker would, to check that no withheld cell can be solved.

Every published count is the interval its rounding allows, a ``below_threshold`` cell lies in
0..threshold-1, a ``complementary`` one holds at least the threshold, and every declared sum holds
exactly. For each hidden cell an exact integer program (scipy's HiGHS MILP) looks for its largest and
smallest feasible value; they must differ, or the cell could be solved.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from app.domain.stats.disclosure import CountTable, Key, Policy, Published, Suppression


def _bounds(cell: Published, policy: Policy, ceiling: int, *, sized: bool) -> tuple[int, int]:
    """What a reader knows of a cell; a withheld small cell of a table whose groups are protected
    (``sized`` False) may hold any count."""
    if cell.value is not None:
        assert isinstance(cell.value, int)
        return policy.interval(cell.value)
    if cell.suppressed is Suppression.below_threshold:
        return 0, policy.threshold - 1 if sized else ceiling
    return policy.threshold, ceiling


def assert_no_cell_can_be_solved(table: CountTable, result: Mapping[Key, Published], policy: Policy) -> None:
    keys = sorted(result)
    index = {key: i for i, key in enumerate(keys)}
    relations = table.relations()
    matrix = lil_matrix((max(len(relations), 1), len(keys)))
    for row, (parent, children) in enumerate(relations):
        matrix[row, index[parent]] = 1
        for child in children:
            matrix[row, index[child]] = -1
    ceiling = 10 * sum(table.counts.values()) + 100
    bounds = [_bounds(result[key], policy, ceiling, sized=table.groups is None) for key in keys]
    low, high = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    truth = np.array([table.counts[key] for key in keys])
    assert np.all(low <= truth) and np.all(truth <= high)  # the reader's model admits the truth
    sums = LinearConstraint(matrix.tocsr(), 0, 0)
    integral = np.ones(len(keys))

    def solve(objective: np.ndarray) -> np.ndarray:
        res = milp(objective, constraints=[sums], integrality=integral, bounds=Bounds(low, high))
        assert res.status == 0, res.message
        return np.rint(res.x)

    hidden = np.array([result[key].value is None for key in keys])
    unsolved = set(np.flatnonzero(hidden))
    # Any feasible integer solution shows a second value for every hidden cell it moves; pushing all
    # hidden cells up, then down, settles most of them, the rest are maximised and minimised one by one.
    for sign in (-1.0, 1.0, -1.0, 1.0):
        if unsolved:
            target = np.zeros(len(keys))
            target[sorted(unsolved)] = sign
            unsolved -= set(np.flatnonzero(solve(target) != truth))
    for i in sorted(unsolved):
        objective = np.zeros(len(keys))
        moved = False
        for sign in (-1.0, 1.0):
            objective[i] = sign
            if solve(objective)[i] != truth[i]:
                moved = True
                break
        assert moved, f"{keys[i]} can be solved from the published figures: {truth[i]}"
