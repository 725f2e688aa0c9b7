"""Fetch a measure through the real API with a real analyst token, as {(area, period, category): cell}."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.domain.stats import rollups
from tests.stats.data import Place

BELOW = "below_threshold"
COMPLEMENTARY = "complementary"
SMALL = "small_denominator"

Cell = tuple[Any, str | None]  # (value, suppressed)


async def refresh(app: FastAPI) -> None:
    """Recompute the rollups the statistics read (in production: a schedule or the CLI)."""
    async with app.state.db.transaction() as session:
        await rollups.refresh(session)


async def figures(
    client: httpx.AsyncClient, world: Place, measure: str, **params: str
) -> dict[tuple[str, str, str], Cell]:
    """One measure through the API, after refreshing the rollups it is read from."""
    await refresh(world.app)
    return await unrefreshed_figures(client, world, measure, **params)


async def unrefreshed_figures(
    client: httpx.AsyncClient, world: Place, measure: str, **params: str
) -> dict[tuple[str, str, str], Cell]:
    """One measure through the API, from the rollups as they are."""
    query = {"area": world.municipality.code, **params}
    response = await client.get(
        f"/api/v1/stats/{measure}", params=query, headers=await world.headers("analyst")
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    cells = {(r["area_code"], r["period"], r["category"]): (r["value"], r["suppressed"]) for r in rows}
    assert len(cells) == len(rows)  # one row per area, period and category
    for value, suppressed in cells.values():
        assert (value is None) == (suppressed is not None)
    return cells


def codes(world: Place) -> tuple[str, str, str, str, str, str, str]:
    """gemeente, wijk 1, wijk 2, buurt 0..3 (buurten 0-1 lie in wijk 1, 2-3 in wijk 2)."""
    b = [a.code for a in world.buurten]
    return (world.municipality.code, world.wijken[0].code, world.wijken[1].code, b[0], b[1], b[2], b[3])
