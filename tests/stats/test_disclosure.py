"""Disclosure rules and calendar periods on hand-made examples (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.stats.disclosure import (
    CountTable,
    Dimension,
    Policy,
    Published,
    Suppression,
    protect_counts,
    protect_median,
    protect_ratio,
)
from app.domain.stats.periods import Granularity, period_of, periods_between, year_block
from tests.stats.solving import assert_no_cell_can_be_solved

BELOW, PARTNER, SMALL = Suppression.below_threshold, Suppression.complementary, Suppression.small_denominator


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 9},
        {"threshold": 5},
        {"rounding_base": 4},
        {"rounding_base": 1},
        {"threshold": 12},  # not a multiple of the rounding base
        {"min_denominator": 9},
    ],
)
def test_the_policy_can_only_be_made_stricter(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Policy(**kwargs)


def test_stricter_policies_are_accepted() -> None:
    policy = Policy(threshold=20, rounding_base=10, min_denominator=50)
    assert policy.round(24) == 20 and policy.round(25) == 30
    assert policy.interval(20) == (20, 24) and policy.interval(30) == (25, 34)


def test_rounding_half_up_and_the_reader_intervals() -> None:
    policy = Policy()
    assert [policy.round(v) for v in (10, 11, 12, 13, 17, 18, 22, 23)] == [10, 10, 10, 15, 15, 20, 20, 25]
    assert policy.interval(10) == (10, 12)  # never under the threshold
    assert policy.interval(15) == (13, 17)


def _areas() -> Dimension:
    return Dimension(
        ("GM", "W1", "W2", "B1", "B2", "B3", "B4"),
        {"GM": ("W1", "W2"), "W1": ("B1", "B2"), "W2": ("B3", "B4")},
    )


def _table(leaves: dict[str, dict[str, int]]) -> CountTable:
    """A gemeente of two wijken of two buurten each, one period, categories a and b with a total."""
    counts: dict[tuple[str, str, str], int] = {}
    parents = {"B1": "W1", "B2": "W1", "B3": "W2", "B4": "W2"}
    for buurt, by_category in leaves.items():
        for category, n in by_category.items():
            for area in (buurt, parents[buurt], "GM"):
                for cat in (category, "total"):
                    key = (area, "P", cat)
                    counts[key] = counts.get(key, 0) + n
    categories = Dimension(("total", "a", "b"), {"total": ("a", "b")})
    return CountTable(_areas(), Dimension.flat(["P"]), categories, counts)


def test_a_small_cell_gets_partners_in_its_row_and_next_level_up() -> None:
    table = _table(
        {
            "B1": {"a": 30, "b": 4},
            "B2": {"a": 20, "b": 25},
            "B3": {"a": 40, "b": 30},
            "B4": {"a": 35, "b": 45},
        }
    )
    result = protect_counts(table, Policy())
    assert result[("B1", "P", "b")] == Published(None, BELOW)
    # Row: B1's total is published (34 -> 35), so its other category hides too.
    assert result[("B1", "P", "a")] == Published(None, PARTNER)
    # Next level up: wijk W1 is published, so its other buurt B2 hides in category b (25, the smallest)...
    assert result[("B2", "P", "b")] == Published(None, PARTNER)
    # ... and B2's row then needs a second hidden cell too, and wijk W1's column for a.
    assert result[("B2", "P", "a")] == Published(None, PARTNER)
    assert result[("B1", "P", "total")] == Published(35, None)
    assert result[("W1", "P", "b")] == Published(30, None)  # 29
    assert result[("B3", "P", "a")] == Published(40, None)
    assert_no_cell_can_be_solved(table, result, Policy())


def test_zero_is_withheld_like_any_small_count() -> None:
    table = _table({"B1": {"a": 30}, "B2": {"a": 20}, "B3": {"a": 40}, "B4": {"a": 35}})
    result = protect_counts(table, Policy())
    assert result[("B1", "P", "b")] == Published(None, BELOW)
    assert result[("GM", "P", "b")] == Published(None, BELOW)
    assert all(cell.value != 0 for cell in result.values())


def test_a_tight_total_is_not_allowed_to_pin_small_cells() -> None:
    """Two buurten of 9 in a wijk of 18 (published 20, so 18..22): 9 + 9 is the only way to reach
    18 with two counts under 10, so the wijk (and the gemeente, its only parent) must hide too."""
    areas = Dimension(("GM", "W1", "B1", "B2"), {"GM": ("W1",), "W1": ("B1", "B2")})
    counts = {("GM", "P", "t"): 18, ("W1", "P", "t"): 18, ("B1", "P", "t"): 9, ("B2", "P", "t"): 9}
    table = CountTable(areas, Dimension.flat(["P"]), Dimension.flat(["t"]), counts)
    result = protect_counts(table, Policy())
    assert {k[0]: v.suppressed for k, v in result.items()} == {
        "GM": PARTNER,
        "W1": PARTNER,
        "B1": BELOW,
        "B2": BELOW,
    }
    assert_no_cell_can_be_solved(table, result, Policy())


def test_counts_that_do_not_add_up_are_refused() -> None:
    areas = Dimension(("GM", "B1"), {"GM": ("B1",)})
    counts = {("GM", "P", "t"): 12, ("B1", "P", "t"): 11}
    with pytest.raises(ValueError, match="add up"):
        protect_counts(CountTable(areas, Dimension.flat(["P"]), Dimension.flat(["t"]), counts), Policy())
    with pytest.raises(ValueError, match="known nodes"):
        Dimension(("GM",), {"GM": ("B9",)})


def test_ratios_come_from_published_counts_above_the_minimum_denominator() -> None:
    policy = Policy()
    assert protect_ratio(Published(10), Published(45), policy) == Published(0.22)
    assert protect_ratio(Published(10), Published(15), policy) == Published(None, SMALL)
    assert protect_ratio(Published(None, BELOW), Published(50), policy) == Published(None, BELOW)
    assert protect_ratio(Published(20), Published(None, PARTNER), policy) == Published(None, PARTNER)


def test_medians_need_a_large_enough_group() -> None:
    policy = Policy()
    assert protect_median(9, 4.0, policy) == Published(None, BELOW)
    assert protect_median(19, 4.0, policy) == Published(None, SMALL)
    assert protect_median(20, 9.5, policy) == Published(10)
    assert protect_median(20, 1.25, policy, digits=1) == Published(1.3)
    assert protect_median(0, None, policy) == Published(None, BELOW)


def test_calendar_periods() -> None:
    q = period_of(date(2025, 5, 17), Granularity.quarter)
    assert (q.key, q.start, q.last_day) == ("2025-Q2", date(2025, 4, 1), date(2025, 6, 30))
    months = [p.key for p in periods_between(date(2024, 11, 30), date(2025, 2, 1), Granularity.month)]
    assert months == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert period_of(date(2025, 12, 31), Granularity.year).end == date(2026, 1, 1)


def test_a_year_block_holds_only_finished_periods_and_their_sums() -> None:
    dimension, periods = year_block(2025, today=date(2025, 8, 15))
    assert set(dimension.nodes) == {"2025-Q1", "2025-Q2", *(f"2025-{m:02d}" for m in range(1, 8))}
    assert dimension.sums == {
        "2025-Q1": ("2025-01", "2025-02", "2025-03"),
        "2025-Q2": ("2025-04", "2025-05", "2025-06"),
    }
    assert all(p.finished(date(2025, 8, 15)) for p in periods.values())
    whole, _ = year_block(2024, today=date(2025, 1, 1))
    assert whole.sums["2024"] == ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4")
