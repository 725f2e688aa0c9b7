"""Figures come from the rollups: as of their last refresh, refreshed without blocking requests, in a
few statements per request; the bytes served match the documented model."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.domain.stats import rollups
from app.domain.stats.schemas import StatsResult
from tests.stats.data import Dataset, Place
from tests.stats.helpers import figures, refresh, unrefreshed_figures
from tests.support.statements import counting_statements

SPAN = {"level": "gemeente", "period": "year", "from": "2025-01-01", "to": "2025-12-31"}


async def _get(client: httpx.AsyncClient, place: Place, measure: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/stats/{measure}",
        params={"area": place.municipality.code, **SPAN, **params},
        headers=await place.headers("analyst"),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_bytes_served_are_the_documented_model(client: httpx.AsyncClient, place: Place) -> None:
    await Dataset(place).households(place.buurten[0], 12, registered=date(2025, 2, 1))
    await refresh(place.app)
    for measure, level in (("households_registered", "buurt"), ("share_specialist_referral", "wijk")):
        body = await _get(client, place, measure, level=level, period="quarter")
        result = StatsResult.model_validate(body)
        assert result.model_dump(mode="json", by_alias=True) == body
        assert result.rows and result.as_of.tzinfo is not None


async def test_figures_are_as_of_the_last_refresh(client: httpx.AsyncClient, place: Place) -> None:
    data = Dataset(place)
    await data.households(place.buurten[0], 20, registered=date(2025, 2, 1))
    before = await figures(client, place, "households_registered", **SPAN)
    first = (await _get(client, place, "households_registered"))["as_of"]
    await data.households(place.buurten[0], 20, registered=date(2025, 3, 1))
    # Not refreshed yet: the same (remembered) answer, with the same as_of.
    assert await unrefreshed_figures(client, place, "households_registered", **SPAN) == before
    assert (await _get(client, place, "households_registered"))["as_of"] == first
    after = await figures(client, place, "households_registered", **SPAN)
    assert after == {(place.municipality.code, "2025", "total"): (40, None)}
    assert before == {(place.municipality.code, "2025", "total"): (20, None)}
    assert (await _get(client, place, "households_registered"))["as_of"] > first


async def test_a_request_that_finds_old_rollups_refreshes_them_in_the_background(
    client: httpx.AsyncClient, place: Place, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    await refresh(app)
    await Dataset(place).households(place.buurten[0], 15, registered=date(2025, 2, 1))
    monkeypatch.setattr(app.state.settings, "stats_refresh_seconds", 0)  # every answer is stale
    stale = await _get(client, place, "households_registered")
    assert stale["rows"][0]["suppressed"] == "below_threshold"  # answered at once, from the old rollups
    for task in list(rollups._background):
        await task
    monkeypatch.setattr(app.state.settings, "stats_refresh_seconds", 86_400)
    fresh = await _get(client, place, "households_registered")
    assert fresh["as_of"] > stale["as_of"]
    assert fresh["rows"][0]["value"] == 15


async def test_one_background_refresh_at_a_time(app: FastAPI) -> None:
    assert rollups.refresh_in_background(app.state.db)
    assert not rollups.refresh_in_background(app.state.db)
    for task in list(rollups._background):
        await task
    assert not rollups._background


@pytest.mark.parametrize("measure", ["households_closed", "households_by_theme", "days_to_first_contact"])
async def test_a_request_runs_a_few_statements_whatever_the_areas_and_periods(
    client: httpx.AsyncClient, place: Place, app: FastAPI, measure: str
) -> None:
    await refresh(app)
    with counting_statements(app.state.db) as statements:
        await _get(client, place, measure, level="buurt", period="month", **{"from": "2024-01-01"})
    data_statements = [s for s in statements if "stats_" in s or "areas" in s or "municipalities" in s]
    assert len(data_statements) <= 5, data_statements


async def test_a_range_over_two_years_reads_each_year_in_its_place(
    client: httpx.AsyncClient, place: Place
) -> None:
    data = Dataset(place)
    await data.households(place.buurten[0], 11, registered=date(2024, 12, 20))
    await data.households(place.buurten[0], 16, registered=date(2025, 1, 5))
    months = await figures(
        client,
        place,
        "households_registered",
        level="gemeente",
        period="month",
        **{"from": "2024-12-01", "to": "2025-01-31"},
    )
    gm = place.municipality.code
    assert months == {(gm, "2024-12", "total"): (10, None), (gm, "2025-01", "total"): (15, None)}
