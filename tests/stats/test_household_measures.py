"""Household measures against small hand-computed datasets (threshold 10, rounding 5).

Each test explains the expected pattern: which cells are under the threshold, which partner the
complementary rule picks (the smallest published child of a relation) and how the rest rounds.
"""

from __future__ import annotations

from datetime import date

import httpx

from tests.stats.data import Dataset, Place
from tests.stats.helpers import BELOW, COMPLEMENTARY, SMALL, codes, figures


async def test_households_registered_per_year_and_quarter(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    await data.households(place.buurten[0], 12, registered=date(2025, 1, 15))
    await data.households(place.buurten[0], 10, registered=date(2025, 4, 15))
    await data.households(place.buurten[1], 3, registered=date(2025, 2, 15))
    await data.households(place.buurten[2], 14, registered=date(2025, 3, 10))
    await data.households(place.buurten[3], 11, registered=date(2025, 1, 20))
    await data.households(place.buurten[3], 30, registered=date(2024, 12, 31))  # another year
    span = {"from": "2025-01-01", "to": "2025-12-31"}

    year = await figures(client, place, "households_registered", level="buurt", period="year", **span)
    # b1 (3) is under the threshold; wijk 1 (25) is published, so its only other buurt b0 (22) goes too.
    assert year == {
        (b0, "2025", "total"): (None, COMPLEMENTARY),
        (b1, "2025", "total"): (None, BELOW),
        (b2, "2025", "total"): (15, None),  # 14
        (b3, "2025", "total"): (10, None),  # 11
    }
    wijken = await figures(client, place, "households_registered", level="wijk", period="year", **span)
    assert wijken == {(w1, "2025", "total"): (25, None), (w2, "2025", "total"): (25, None)}
    gemeente = await figures(client, place, "households_registered", level="gemeente", period="year", **span)
    assert gemeente == {(gm, "2025", "total"): (50, None)}

    quarters = await figures(client, place, "households_registered", level="wijk", period="quarter", **span)
    assert quarters[(w1, "2025-Q1", "total")] == (15, None)
    assert quarters[(w2, "2025-Q1", "total")] == (25, None)
    # Q2: wijk 2 has none (under the threshold); the gemeente's 10 is published, so wijk 1 is hidden.
    assert quarters[(w1, "2025-Q2", "total")] == (None, COMPLEMENTARY)
    assert quarters[(w2, "2025-Q2", "total")] == (None, BELOW)
    assert quarters[(w1, "2025-Q3", "total")] == (None, BELOW)
    assert len(quarters) == 8
    gemeente_q = await figures(
        client, place, "households_registered", level="gemeente", period="quarter", **span
    )
    assert gemeente_q[(gm, "2025-Q1", "total")] == (40, None)
    assert gemeente_q[(gm, "2025-Q2", "total")] == (10, None)


async def test_households_closed_by_reason(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    march, start = date(2025, 3, 15), date(2024, 6, 1)
    await data.households(place.buurten[2], 11, registered=start, closed=march, reason="goals_reached")
    await data.households(place.buurten[2], 4, registered=start, closed=march, reason="moved")
    await data.households(place.buurten[3], 12, registered=start, closed=march, reason="goals_reached")
    await data.households(place.buurten[0], 10, registered=start, closed=march, reason="moved")
    await data.households(place.buurten[1], 5, registered=start)  # still open: not closed
    span = {"from": "2025-01-01", "to": "2025-12-31", "period": "year"}

    buurten = await figures(client, place, "households_closed", level="buurt", **span)
    rest = ["referred_specialist", "declined_support", "no_contact", "deceased", "other"]
    expected = {
        # b0: total 10, all 'moved'; b1 has none, so in wijk 1 (published) b0 needs a partner: itself.
        (b0, "total"): (None, COMPLEMENTARY),
        (b0, "moved"): (None, COMPLEMENTARY),
        (b0, "goals_reached"): (None, BELOW),
        # b2: 15 closed, 11 goals reached (hidden: at gemeente level wijk 1 has 0 goals reached, so
        # wijk 2's 23 is hidden, and with it both its buurten), 4 moved.
        (b2, "total"): (15, None),
        (b2, "goals_reached"): (None, COMPLEMENTARY),
        (b2, "moved"): (None, BELOW),
        (b3, "total"): (10, None),  # 12
        (b3, "goals_reached"): (None, COMPLEMENTARY),
        (b3, "moved"): (None, BELOW),
    }
    expected |= {(b1, c): (None, BELOW) for c in ["total", "goals_reached", "moved", *rest]}
    expected |= {(b, c): (None, BELOW) for b in (b0, b2, b3) for c in rest}
    assert {(a, c): v for (a, _, c), v in buurten.items()} == expected

    wijken = await figures(client, place, "households_closed", level="wijk", **span)
    assert wijken[(w1, "2025", "total")] == (10, None)
    assert wijken[(w2, "2025", "total")] == (25, None)  # 27
    assert wijken[(w1, "2025", "moved")] == (None, COMPLEMENTARY)
    assert wijken[(w2, "2025", "moved")] == (None, BELOW)
    assert wijken[(w2, "2025", "goals_reached")] == (None, COMPLEMENTARY)
    gemeente = await figures(client, place, "households_closed", level="gemeente", **span)
    assert gemeente[(gm, "2025", "total")] == (35, None)  # 37
    assert gemeente[(gm, "2025", "goals_reached")] == (25, None)  # 23
    assert gemeente[(gm, "2025", "moved")] == (15, None)  # 14
    assert all(gemeente[(gm, "2025", c)] == (None, BELOW) for c in rest)
    # All closings fell in March: Q1 and the month show the same pattern, other quarters none.
    quarters = await figures(
        client,
        place,
        "households_closed",
        level="gemeente",
        period="quarter",
        **{k: v for k, v in span.items() if k != "period"},
    )
    assert quarters[(gm, "2025-Q1", "total")] == (35, None)
    assert quarters[(gm, "2025-Q2", "total")] == (None, BELOW)


async def test_households_active_per_quarter(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    await data.households(place.buurten[0], 12, registered=date(2024, 12, 1))
    await data.households(place.buurten[1], 3, registered=date(2024, 6, 1), closed=date(2024, 12, 31))
    await data.households(place.buurten[1], 2, registered=date(2024, 6, 1))
    await data.households(place.buurten[2], 10, registered=date(2025, 1, 5), closed=date(2025, 2, 10))
    await data.households(place.buurten[3], 20, registered=date(2025, 3, 31))
    await data.households(place.buurten[3], 7, registered=date(2025, 4, 1))  # after Q1

    cells = await figures(
        client,
        place,
        "households_active",
        level="buurt",
        period="quarter",
        **{"from": "2025-01-01", "to": "2025-06-30"},
    )
    assert {(a, p): v for (a, p, _), v in cells.items()} == {
        (b0, "2025-Q1"): (None, COMPLEMENTARY),  # 12, the partner of b1 in wijk 1
        (b1, "2025-Q1"): (None, BELOW),  # 2: three were closed before the quarter began
        (b2, "2025-Q1"): (10, None),  # open in January and February
        (b3, "2025-Q1"): (20, None),
        (b0, "2025-Q2"): (None, COMPLEMENTARY),
        (b1, "2025-Q2"): (None, BELOW),
        (b2, "2025-Q2"): (None, BELOW),  # closed in February
        (b3, "2025-Q2"): (None, COMPLEMENTARY),  # 27, the partner of b2
    }
    wijken = await figures(
        client,
        place,
        "households_active",
        level="wijk",
        period="quarter",
        **{"from": "2025-01-01", "to": "2025-06-30"},
    )
    assert wijken[(w1, "2025-Q1", "total")] == (15, None)  # 14
    assert wijken[(w2, "2025-Q1", "total")] == (30, None)
    assert wijken[(w2, "2025-Q2", "total")] == (25, None)  # 27
    gemeente = await figures(
        client,
        place,
        "households_active",
        level="gemeente",
        period="year",
        **{"from": "2025-01-01", "to": "2025-12-31"},
    )
    assert gemeente == {(gm, "2025", "total"): (50, None)}  # 14 + 10 + 27 = 51 open at some time in 2025


async def test_households_by_theme(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, b1, b2, _b3 = codes(place)
    data = Dataset(place)
    in_b0 = await data.households(place.buurten[0], 12, registered=date(2024, 11, 1))
    in_b2 = await data.households(place.buurten[2], 11, registered=date(2025, 2, 1))
    await data.themes(in_b0, "debts", date(2025, 1, 10))
    await data.themes(in_b0[:5], "loneliness", date(2025, 1, 10))
    await data.themes(in_b2, "loneliness", date(2025, 2, 1))
    await data.themes(in_b2, "debts", date(2025, 5, 1))  # after the quarter: not counted in Q1
    span = {"from": "2025-01-01", "to": "2025-03-31", "period": "quarter"}

    gemeente = await figures(client, place, "households_by_theme", level="gemeente", **span)
    assert gemeente[(gm, "2025-Q1", "debts")] == (10, None)  # 12
    assert gemeente[(gm, "2025-Q1", "loneliness")] == (15, None)  # 16
    assert (gm, "2025-Q1", "total") not in gemeente  # themes overlap: no total
    others = {k: v for k, v in gemeente.items() if k[2] not in ("debts", "loneliness")}
    assert others and all(v == (None, BELOW) for v in others.values())
    wijken = await figures(client, place, "households_by_theme", level="wijk", **span)
    # debts: wijk 2 has none, so wijk 1 (12) is hidden; loneliness: wijk 1 has 5, so wijk 2 (11) is.
    assert wijken[(w1, "2025-Q1", "debts")] == (None, COMPLEMENTARY)
    assert wijken[(w2, "2025-Q1", "debts")] == (None, BELOW)
    assert wijken[(w1, "2025-Q1", "loneliness")] == (None, BELOW)
    assert wijken[(w2, "2025-Q1", "loneliness")] == (None, COMPLEMENTARY)
    buurten = await figures(client, place, "households_by_theme", level="buurt", **span)
    assert all(value is None for value, _ in buurten.values())
    assert buurten[(b0, "2025-Q1", "debts")] == (None, COMPLEMENTARY)
    assert buurten[(b2, "2025-Q1", "loneliness")] == (None, COMPLEMENTARY)
    assert buurten[(b1, "2025-Q1", "debts")] == (None, BELOW)


async def test_median_days_to_first_contact(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    registered = date(2025, 2, 1)
    in_b0 = await data.households(place.buurten[0], 20, registered=registered)
    for days, household in enumerate(in_b0):  # first contact after 0, 1, ..., 19 days
        later = date.fromordinal(registered.toordinal() + days)
        await data.contacts(household, date.fromordinal(later.toordinal() + 30), later)
    in_b2 = await data.households(place.buurten[2], 12, registered=registered)
    for household in in_b2:
        await data.contacts(household, date.fromordinal(registered.toordinal() + 3))
    await data.households(place.buurten[2], 5, registered=registered)  # no contact yet: not counted
    span = {"from": "2025-01-01", "to": "2025-03-31", "period": "quarter"}

    buurten = await figures(client, place, "days_to_first_contact", level="buurt", **span)
    assert buurten == {
        (b0, "2025-Q1", "total"): (10, None),  # median of 0..19 is 9.5, rounded half up
        (b1, "2025-Q1", "total"): (None, BELOW),
        (b2, "2025-Q1", "total"): (None, SMALL),  # 12 households: at least 20 are needed
        (b3, "2025-Q1", "total"): (None, BELOW),
    }
    wijken = await figures(client, place, "days_to_first_contact", level="wijk", **span)
    assert wijken == {(w1, "2025-Q1", "total"): (10, None), (w2, "2025-Q1", "total"): (None, SMALL)}
    gemeente = await figures(client, place, "days_to_first_contact", level="gemeente", **span)
    # 32 values: 0, 1, 2, thirteen 3s, 4..19: the 16th and 17th are 3 and 4.
    assert gemeente == {(gm, "2025-Q1", "total"): (4, None)}
