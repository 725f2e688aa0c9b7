"""The demo sociale kaart: public services searchable by anyone, the internal entry only for workers,
the stale worklist filled, running initiatives as community offers; loading twice adds nothing."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.factories import World
from tests.support.demo import load_demo_into

COUNT = text(
    "SELECT count(*) FROM directory_services s JOIN directory_organizations o ON o.id = s.organization_id "
    "JOIN municipalities m ON m.id = o.municipality_id WHERE m.code = 'GM9999'"
)


async def test_demo_directory(app: FastAPI, client: httpx.AsyncClient, world: World) -> None:
    await load_demo_into(app)
    await load_demo_into(app)
    async with app.state.db.transaction() as session:
        assert (await session.execute(COUNT)).scalar_one() == 9
    params: dict[str, str | int] = {
        "municipality": "GM9999",
        "theme": "debts",
        "neighbourhood": "BU99990201",
        "limit": 100,
    }
    hits = (await client.get("/api/v1/directory/services", params=params)).json()["items"]
    names = [h["service"]["name"] for h in hits]
    # At a place in the buurt, serving its wijk, serving the whole municipality.
    assert names == ["Financieel spreekuur", "Woonconsulent", "Schuldhulpverlening"]
    assert [h["area_level"] for h in hits] == ["location", "wijk", "municipality"]
    everything: dict[str, str | int] = {"municipality": "GM9999", "limit": 100}
    public = (await client.get("/api/v1/directory/services", params=everything)).json()["items"]
    assert "Noodopvang via het wijkteam" not in {h["service"]["name"] for h in public}
    worker = await world.headers("generalist_a")
    internal = (await client.get("/api/v1/directory/services", params=everything, headers=worker)).json()
    assert "Noodopvang via het wijkteam" in {h["service"]["name"] for h in internal["items"]}
    stale = await client.get(
        "/api/v1/directory/stale", params={"limit": 100}, headers=await world.headers("admin")
    )
    stale_names = {s["name"] for s in stale.json()["items"]}
    assert {"Jongerenwerk", "Ouderenadviseur", "Mantelzorgsteunpunt"} <= stale_names
    assert "Taalcafé" not in stale_names
    offers = await client.get("/api/v1/directory/community-offers", params={"neighbourhood": "BU99990101"})
    assert offers.status_code == 200
