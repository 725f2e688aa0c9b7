"""Plan actions by performer, budget spent, and figures per resident network, against small
hand-computed datasets (threshold 10, rounding 5)."""

from __future__ import annotations

from datetime import date

import httpx

from tests.stats.data import Dataset, Place
from tests.stats.helpers import BELOW, COMPLEMENTARY, codes, figures

Q1 = {"from": "2025-01-01", "to": "2025-03-31", "period": "quarter"}
YEAR = {"from": "2025-01-01", "to": "2025-12-31", "period": "year"}
INFORMAL = {"household": 1, "volunteer": 1}


async def test_plan_actions_by_performer_and_the_informal_share(
    client: httpx.AsyncClient, place: Place
) -> None:
    gm, w1, w2, b0, b1, _b2, b3 = codes(place)
    data = Dataset(place)
    opened = date(2024, 10, 1)
    # b0: 12 households, 2 informal and 1 professional action each, in force all quarter.
    in_b0 = await data.households(place.buurten[0], 12, registered=opened)
    await data.plans(in_b0, created=date(2024, 11, 1), actions={**INFORMAL, "worker": 1})
    # b1: 15 informal actions, but of 3 households only: withheld whatever the number of actions.
    in_b1 = await data.households(place.buurten[1], 3, registered=opened)
    await data.plans(in_b1, created=date(2024, 11, 1), actions={"network_member": 5})
    # b2: 20 households; the version in force at the quarter's end replaced one with 4 partner actions.
    in_b2 = await data.households(place.buurten[2], 20, registered=opened)
    await data.plans(in_b2, created=date(2024, 11, 1), superseded=date(2025, 2, 1), actions={"partner": 4})
    await data.plans(in_b2, created=date(2025, 2, 1), actions={"household": 1, "worker": 1})
    # b3: closed before the quarter: not counted.
    in_b3 = await data.households(place.buurten[3], 10, registered=opened, closed=date(2024, 12, 15))
    await data.plans(in_b3, created=date(2024, 11, 1), actions={"worker": 3})

    wijken = await figures(client, place, "plan_actions", level="wijk", **Q1)
    assert wijken == {
        (w1, "2025-Q1", "total"): (50, None),  # 36 + 15 = 51 actions of 15 households
        (w1, "2025-Q1", "informal"): (40, None),  # 24 + 15
        (w1, "2025-Q1", "professional"): (10, None),  # 12
        (w2, "2025-Q1", "total"): (40, None),
        (w2, "2025-Q1", "informal"): (20, None),
        (w2, "2025-Q1", "professional"): (20, None),  # the superseded version's 80 do not count
    }
    gemeente = await figures(client, place, "plan_actions", level="gemeente", **Q1)
    assert gemeente == {
        (gm, "2025-Q1", "total"): (90, None),  # 91
        (gm, "2025-Q1", "informal"): (60, None),  # 59
        (gm, "2025-Q1", "professional"): (30, None),  # 32
    }
    buurten = await figures(client, place, "plan_actions", level="buurt", **Q1)
    assert buurten[(b1, "2025-Q1", "informal")] == (None, BELOW)  # 15 actions, 3 households
    assert buurten[(b1, "2025-Q1", "total")] == (None, BELOW)
    assert buurten[(b0, "2025-Q1", "informal")] == (None, COMPLEMENTARY)  # b1's partner in wijk 1
    assert buurten[(b3, "2025-Q1", "total")] == (None, BELOW)
    assert all(value is None for value, _ in buurten.values())  # every buurt has an empty sibling

    shares = await figures(client, place, "share_informal_plan_actions", level="wijk", **Q1)
    assert shares == {(w1, "2025-Q1", "total"): (0.8, None), (w2, "2025-Q1", "total"): (0.5, None)}
    share = await figures(client, place, "share_informal_plan_actions", level="gemeente", **Q1)
    assert share == {(gm, "2025-Q1", "total"): (0.67, None)}  # 60 / 90, from the published counts


async def test_budget_granted_and_spent_per_network_and_theme(
    client: httpx.AsyncClient, place: Place
) -> None:
    gm, w1, w2, b0, _b1, b2, _b3 = codes(place)
    data = Dataset(place)
    north, north_plan = await data.network("Noord")
    south, south_plan = await data.network("Zuid")
    created, decided = date(2025, 1, 10), date(2025, 3, 1)
    a = await data.initiatives(
        north, place.buurten[0], 10, created=created, status="completed", themes=["debts"]
    )
    a2 = await data.initiatives(
        north, place.buurten[2], 2, created=created, status="running", themes=["debts"]
    )
    b = await data.initiatives(
        south, place.buurten[2], 11, created=created, status="completed", themes=["debts"]
    )
    await data.grants(north_plan, a, 15_000, decided)
    await data.grants(north_plan, a2, 10_000, decided)
    await data.grants(south_plan, b, 20_000, decided)
    await data.spent(a, 10_000)
    await data.spent(b, 5_000)  # a2 is still running: nothing spent reported yet

    granted = await figures(client, place, "initiative_budget_granted", level="network", **YEAR)
    spent = await figures(client, place, "initiative_budget_spent", level="network", **YEAR)
    n, s = str(north), str(south)
    assert granted[(n, "2025", "debts")] == (1700, None)  # 12 grants: 10 x 150 + 2 x 100
    assert granted[(s, "2025", "debts")] == (2200, None)
    assert spent[(n, "2025", "debts")] == (1000, None)
    assert spent[(s, "2025", "debts")] == (550, None)
    assert spent[(n, "2025", "loneliness")] == (None, BELOW)
    gemeente = await figures(client, place, "initiative_budget_spent", level="gemeente", **YEAR)
    assert gemeente[(gm, "2025", "debts")] == (1550, None)
    wijken = await figures(client, place, "initiative_budget_spent", level="wijk", **YEAR)
    assert wijken[(w1, "2025", "debts")] == (1000, None)
    assert wijken[(w2, "2025", "debts")] == (550, None)
    buurten = await figures(client, place, "initiative_budget_spent", level="buurt", **YEAR)
    assert buurten[(b0, "2025", "debts")] == (None, COMPLEMENTARY)  # b1 has none
    assert buurten[(b2, "2025", "debts")] == (None, COMPLEMENTARY)

    counts = await figures(client, place, "initiatives", level="network", **YEAR)
    assert counts[(n, "2025", "total")] == (10, None)  # 12
    assert counts[(s, "2025", "total")] == (10, None)  # 11
    assert counts[(n, "2025", "completed")] == (10, None)
    assert counts[(n, "2025", "running")] == (None, BELOW)  # 2
    assert counts[(s, "2025", "running")] == (None, BELOW)  # 0


async def test_a_small_network_is_withheld_with_a_partner(client: httpx.AsyncClient, place: Place) -> None:
    """The gemeente is the sum of its networks as well as of its wijken: a network under the threshold
    gets a partner among the networks, so it cannot be had from the gemeente minus the others."""
    gm = place.municipality.code
    data = Dataset(place)
    big, _ = await data.network("Groot")
    small, _ = await data.network("Klein")
    third, _ = await data.network("Derde")
    january = date(2025, 1, 20)
    await data.initiatives(big, place.buurten[0], 20, created=january, status="idea")
    await data.initiatives(small, place.buurten[0], 4, created=january, status="idea")
    await data.initiatives(third, place.buurten[2], 12, created=january, status="idea")

    rows = await figures(client, place, "initiatives", level="network", **YEAR)
    assert rows[(str(small), "2025", "total")] == (None, BELOW)
    assert rows[(str(third), "2025", "total")] == (None, COMPLEMENTARY)  # the smaller published one
    assert rows[(str(big), "2025", "total")] == (20, None)
    gemeente = await figures(client, place, "initiatives", level="gemeente", **YEAR)
    assert gemeente[(gm, "2025", "total")] == (35, None)  # 36


async def test_network_level_is_offered_for_initiative_measures_of_a_gemeente_only(
    client: httpx.AsyncClient, place: Place
) -> None:
    headers = await place.headers("analyst")
    cases = [
        ("households_registered", place.municipality.code, "level_not_offered"),
        ("initiatives", place.wijken[0].code, "level_above_area"),
    ]
    for measure, area, rule in cases:
        response = await client.get(
            f"/api/v1/stats/{measure}",
            params={"area": area, "level": "network", "from": "2025-01-01", "to": "2025-12-31"},
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert [(e["loc"], e["rule"]) for e in response.json()["errors"]] == [(["query", "level"], rule)]
