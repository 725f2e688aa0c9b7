"""The administrative burden as published figures: quartiles per area and per team, through the same
disclosure control as every other figure (threshold 10, minimum denominator 20)."""

from __future__ import annotations

from datetime import date

import httpx

from tests.stats.data import Dataset, Place
from tests.stats.helpers import BELOW, SMALL, codes, figures

Q1 = {"from": "2025-01-01", "to": "2025-03-31", "period": "quarter"}


async def test_intake_requests_per_area_and_team_with_small_groups_withheld(
    client: httpx.AsyncClient, place: Place
) -> None:
    gm, w1, w2, b0, b1, b2, _b3 = codes(place)
    data = Dataset(place)
    registered, agreed = date(2024, 12, 1), date(2025, 2, 3)
    # Team a: 20 households in b0 and 5 in b1 took 1..25 requests; team b: 6 households in b2.
    in_b0 = await data.households(place.buurten[0], 20, registered=registered)
    in_b1 = await data.households(place.buurten[1], 5, registered=registered)
    in_b2 = await data.households(place.buurten[2], 6, registered=registered)
    await data.intakes([*in_b0, *in_b1], range(1, 26), agreed)
    await data.intakes(in_b2, range(100, 106), agreed)
    # An intake still open (no agreed plan) is not a finished intake: not counted.
    open_intake = await data.households(place.buurten[0], 1, registered=registered)
    await data.intakes(open_intake, [500], None)

    teams = await figures(client, place, "intake_requests", level="team", **Q1)
    a, b = str(place.teams["a"].id), str(place.teams["b"].id)
    assert teams == {
        (a, "2025-Q1", "p25"): (7, None),
        (a, "2025-Q1", "median"): (13, None),
        (a, "2025-Q1", "p75"): (19, None),
        (b, "2025-Q1", "p25"): (None, BELOW),  # 6 households: no statistic of them at all
        (b, "2025-Q1", "median"): (None, BELOW),
        (b, "2025-Q1", "p75"): (None, BELOW),
    }
    buurten = await figures(client, place, "intake_requests", level="buurt", **Q1)
    assert buurten[(b0, "2025-Q1", "median")] == (11, None)  # 1..20: 10.5, rounded half up
    assert buurten[(b0, "2025-Q1", "p25")] == (6, None)  # 5.75
    assert buurten[(b0, "2025-Q1", "p75")] == (15, None)  # 15.25
    assert buurten[(b1, "2025-Q1", "median")] == (None, BELOW)
    assert buurten[(b2, "2025-Q1", "median")] == (None, BELOW)
    gemeente = await figures(client, place, "intake_requests", level="gemeente", **Q1)
    assert gemeente == {
        (gm, "2025-Q1", "p25"): (9, None),  # 1..25 and 100..105: 8.5
        (gm, "2025-Q1", "median"): (16, None),
        (gm, "2025-Q1", "p75"): (24, None),  # 23.5
    }
    wijken = await figures(client, place, "intake_requests", level="wijk", **Q1)
    assert wijken[(w1, "2025-Q1", "median")] == (13, None)
    assert wijken[(w2, "2025-Q1", "median")] == (None, BELOW)
    fields = await figures(client, place, "intake_fields", level="team", **Q1)
    assert fields[(a, "2025-Q1", "median")] == (39, None)


async def test_a_team_between_threshold_and_denominator_is_withheld_too(
    client: httpx.AsyncClient, place: Place
) -> None:
    data = Dataset(place)
    households = await data.households(place.buurten[0], 12, registered=date(2025, 1, 2))
    await data.intakes(households, range(1, 13), date(2025, 1, 20))
    teams = await figures(client, place, "intake_requests", level="team", **Q1)
    a = str(place.teams["a"].id)
    assert teams[(a, "2025-Q1", "median")] == (None, SMALL)


async def test_teams_only_for_the_burden_measures_and_the_whole_gemeente(
    client: httpx.AsyncClient, place: Place
) -> None:
    headers = await place.headers("analyst")
    cases = [
        ("households_registered", place.municipality.code, "level_not_offered"),
        ("intake_requests", place.wijken[0].code, "level_above_area"),
        # a team is a level, never an area to ask about
        ("intake_requests", str(place.teams["a"].id), "string_pattern_mismatch"),
    ]
    for measure, area, rule in cases:
        response = await client.get(
            f"/api/v1/stats/{measure}", params={"area": area, "level": "team", **Q1}, headers=headers
        )
        assert response.status_code == 422, response.text
        assert rule in response.text, response.text
