"""Linked tables from leaf rows (tables.py) and the remembered protection (no database)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.stats import disclosure
from app.domain.stats.disclosure import CountTable, Dimension, Policy, protect_array, protect_counts
from app.domain.stats.tables import leaves, roll_up, scatter, sum_matrix

AREAS = Dimension(
    ("GM", "W1", "W2", "B1", "B2", "B3", "N1", "N2"),
    {"GM": ("W1", "W2"), "W1": ("B1", "B2"), "W2": ("B3",)},
    (("GM", ("N1", "N2")),),
)
PERIODS = Dimension(
    ("Y", "Q1", "Q2", "M1", "M2", "M4"), {"Y": ("Q1", "Q2"), "Q1": ("M1", "M2"), "Q2": ("M4",)}
)
CATEGORIES = Dimension(("total", "a", "b"), {"total": ("a", "b")})


def test_leaves_and_sum_matrices() -> None:
    assert leaves(AREAS) == ["B1", "B2", "B3", "N1", "N2"]
    matrix = sum_matrix(AREAS, leaves(AREAS))
    assert matrix.tolist() == [
        [1, 1, 1, 0, 0],  # GM: its buurten (the networks are leaves of their own)
        [1, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
    ]
    assert sum_matrix(PERIODS, leaves(PERIODS))[0].tolist() == [1, 1, 1]


def test_roll_up_sums_every_level_and_matches_the_hand_sums() -> None:
    # B1: 3 in M1 of a; B2: 4 in M4 of b; B3: 5 in M2 of a; network N1 has the a's, N2 the b's.
    index = [np.array([0, 1, 2, 3, 3, 4]), np.array([0, 2, 1, 0, 1, 2]), np.array([0, 1, 0, 0, 0, 1])]
    cells = scatter((5, 3, 2), index, np.array([3, 4, 5, 3, 5, 4]))
    table = roll_up(
        cells,
        sum_matrix(AREAS, leaves(AREAS)),
        sum_matrix(PERIODS, leaves(PERIODS)),
        sum_matrix(CATEGORIES, leaves(CATEGORIES)),
    )
    assert table.dtype == np.int64 and table.shape == (8, 6, 3)
    gm, w1, y, q1, total, a = 0, 1, 0, 1, 0, 1
    assert table[gm, y, total] == 12 and table[gm, q1, a] == 8 and table[w1, y, total] == 7
    assert table[6, y, total] == 8 and table[7, y, total] == 4  # the networks
    amounts = roll_up(
        cells.astype(np.float64) * 1.25,
        *(sum_matrix(d, leaves(d)) for d in (AREAS, PERIODS, CATEGORIES)),
    )
    assert amounts[gm, y, total] == 15.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 30), min_size=5 * 3 * 2, max_size=5 * 3 * 2))
def test_rolled_up_tables_add_up_and_protect_like_mappings(values: list[int]) -> None:
    cells = np.array(values, np.int64).reshape(5, 3, 2)
    cells[3:, :, :] = 0  # networks: put each buurt's cases in one of them, so both sums agree
    cells[3, :, :] = cells[0, :, :] + cells[1, :, :]
    cells[4, :, :] = cells[2, :, :]
    table = roll_up(cells, *(sum_matrix(d, leaves(d)) for d in (AREAS, PERIODS, CATEGORIES)))
    counts = {
        (a, p, c): int(table[i, j, k])
        for i, a in enumerate(AREAS.nodes)
        for j, p in enumerate(PERIODS.nodes)
        for k, c in enumerate(CATEGORIES.nodes)
    }
    from_array = protect_array(AREAS, PERIODS, CATEGORIES, table, Policy())  # raises if it did not add up
    assert dict(from_array) == dict(protect_counts(CountTable(AREAS, PERIODS, CATEGORIES, counts), Policy()))


def test_protection_is_remembered_for_the_same_counts_only() -> None:
    disclosure.forget_protected()
    table = CountTable(
        Dimension.flat(["A"]), Dimension.flat(["P"]), Dimension.flat(["c"]), {("A", "P", "c"): 12}
    )
    first = protect_counts(table, Policy())
    assert protect_counts(table, Policy()) is first  # remembered
    changed = CountTable(table.areas, table.periods, table.categories, {("A", "P", "c"): 13})
    assert protect_counts(changed, Policy()) is not first
    assert protect_counts(table, Policy(threshold=15)) is not first  # the policy is part of it
    assert protect_counts(table, Policy(threshold=15))[("A", "P", "c")].value is None
    disclosure.forget_protected()
    assert protect_counts(table, Policy()) is not first
