"""Each service-at-location link carries its location's buurt (migration 0290), the buurt search's set
of services offered in the buurt: PostgreSQL keeps the copy on every write of a link and every move
of a location, by the API, by a bulk statement, and beside a concurrent move."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.directory import children_repository, exchange_repository
from app.domain.directory.models import DirectoryServiceAtLocation
from tests.directory.support import BASE, Directory, if_match
from tests.factories import World
from tests.support.locks import until_waiting_for_a_lock

# Links whose copy differs from their location's buurt: none, ever.
ASTRAY = text(
    "SELECT count(*) FROM directory_service_at_locations AS sal"
    " JOIN directory_locations AS l ON l.id = sal.location_id"
    " WHERE sal.buurt_id IS DISTINCT FROM l.buurt_id"
)
LINK = text(
    "INSERT INTO directory_service_at_locations (id, service_id, location_id, description)"
    " VALUES (:id, :service, :location, '')"
)
MOVE = text("UPDATE directory_locations SET buurt_id = CAST(:buurt AS uuid) WHERE id = :location")


async def _astray(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(ASTRAY) or 0)


async def _link_buurt(engine: AsyncEngine, link: uuid.UUID) -> Any:
    async with engine.connect() as connection:
        return await connection.scalar(
            text("SELECT buurt_id FROM directory_service_at_locations WHERE id = :id"), {"id": link}
        )


async def _names_near(d: Directory, buurt: int) -> list[tuple[str, str]]:
    response = await d.client.get(
        f"{BASE}/services",
        params={"neighbourhood": d.world.buurten[buurt].code, "limit": 100},
        headers=await d.world.headers("generalist_a"),
    )
    assert response.status_code == 200, response.text
    return [(h["service"]["name"], h["area_level"]) for h in response.json()["items"]]


async def _directory(world: World, client: httpx.AsyncClient) -> Directory:
    d = Directory(world, client)
    await d.organization("welfare")
    for key, buurt in (("noord", 0), ("zuid", 2), ("elders", 3)):
        await d.location(key, "welfare", buurt=buurt)
    await d.service("inloop", "welfare", locations=[d.locations["noord"], d.locations["zuid"]])
    return d


async def test_the_copy_follows_links_and_moves_and_the_search_with_it(
    world: World, client: httpx.AsyncClient
) -> None:
    d = await _directory(world, client)
    engine = world.app.state.db.engine
    assert await _names_near(d, 0) == [("Dienst inloop", "location")]
    assert await _names_near(d, 1) == []

    # A location moved through the API: its links follow, and so does the search.
    location = d.locations["noord"]
    read = await client.get(f"{BASE}/locations/{location}")
    moved = await client.patch(
        f"{BASE}/locations/{location}",
        json={"neighbourhood": world.buurten[1].code},
        headers=await if_match(world, "admin", read.headers["ETag"]),
    )
    assert moved.status_code == 200, moved.text
    assert await _names_near(d, 1) == [("Dienst inloop", "location")]
    assert await _names_near(d, 0) == []

    # The service's locations replaced: the new links carry their buurt.
    service = d.services["inloop"]
    read = await client.get(f"{BASE}/services/{service['id']}")
    relinked = await client.patch(
        f"{BASE}/services/{service['id']}",
        json={"locations": [d.locations["elders"]]},
        headers=await if_match(world, "admin", read.headers["ETag"]),
    )
    assert relinked.status_code == 200, relinked.text
    assert await _names_near(d, 3) == [("Dienst inloop", "location")]
    assert await _names_near(d, 1) == [] and await _names_near(d, 2) == []

    # One statement moving several locations (an import, a boundary change), one out of every buurt;
    # a value written into the copy itself is replaced by the location's.
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE directory_locations"
                " SET buurt_id = CASE WHEN id = :elders THEN NULL ELSE CAST(:b0 AS uuid) END"
                " WHERE organization_id = :org"
            ),
            {"elders": d.locations["elders"], "b0": world.buurten[0].id, "org": d.organizations["welfare"]},
        )
        await connection.execute(
            text("UPDATE directory_service_at_locations SET buurt_id = CAST(:b2 AS uuid)"),
            {"b2": world.buurten[2].id},
        )
    assert await _astray(engine) == 0
    assert await _names_near(d, 3) == [] and await _names_near(d, 2) == []
    await d.service("later", "welfare", locations=[d.locations["zuid"]])
    assert await _names_near(d, 0) == [("Dienst later", "location")]
    assert await _astray(engine) == 0


async def test_a_link_written_beside_a_move_of_its_location_gets_the_new_buurt(
    world: World, client: httpx.AsyncClient
) -> None:
    """Either order: the link waits for the move (it reads the location ``FOR SHARE``) and reads the new
    buurt, or the move waits for the link's transaction and its trigger then sees the link. Without
    the lock, the link would copy the buurt its snapshot saw, or the move would miss the new link."""
    d = await _directory(world, client)
    engine = world.app.state.db.engine
    location = d.locations["elders"]
    for first_writes in ("move", "link"):
        service = (await d.service(f"beside {first_writes}", "welfare"))["id"]
        link, buurt = uuid.uuid4(), world.buurten[1 if first_writes == "move" else 0].id
        statements = {
            "move": (MOVE, {"buurt": buurt, "location": location}),
            "link": (LINK, {"id": link, "service": service, "location": location}),
        }
        second_writes = "link" if first_writes == "move" else "move"
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(*statements[first_writes])
            pid = await second.scalar(text("SELECT pg_backend_pid()"))
            waiting = asyncio.create_task(second.execute(*statements[second_writes]))
            await until_waiting_for_a_lock(engine, pid)
            await first.commit()
            await waiting
            await second.commit()
        assert await _link_buurt(engine, link) == buurt, first_writes
        assert await _astray(engine) == 0


async def test_another_municipalitys_services_never_serve_the_buurt(
    world: World, client: httpx.AsyncClient
) -> None:
    """The buurt search leaves out the services of another municipality's organisations, even one
    offered at a place in the buurt and serving it (written straight into the tables: the API refuses
    such references), for every kind of caller: the organisations' set of the buurt's municipality
    (``repository._level``) stands where the organisation's join used to."""
    d = await _directory(world, client)
    other = Directory(await World.create(world.app), client)
    await other.organization("elders")
    stranger = (await other.service("buiten", "elders", themes=["debts"]))["id"]
    async with world.app.state.db.engine.begin() as connection:
        await connection.execute(
            LINK, {"id": uuid.uuid4(), "service": stranger, "location": d.locations["noord"]}
        )
        await connection.execute(
            text(
                "INSERT INTO directory_service_areas (id, service_id, area_id)"
                " VALUES (gen_random_uuid(), :s, :b)"
            ),
            {"s": stranger, "b": world.buurten[0].id},
        )
    for actor in (None, "generalist_a", "partner_a", "admin"):
        headers = await world.headers(actor) if actor else {}
        for params in ({}, {"q": "dienst"}, {"theme": "debts"}):
            response = await client.get(
                f"{BASE}/services",
                params={"neighbourhood": world.buurten[0].code, **params},
                headers=headers,
            )
            assert response.status_code == 200, response.text
            names = [h["service"]["name"] for h in response.json()["items"]]
            assert "Dienst buiten" not in names, (actor, params)
            assert names == ([] if params.get("theme") else ["Dienst inloop"]), (actor, params)


async def test_a_move_beside_a_relink_of_another_service_at_the_place_waits_for_it(
    world: World, client: httpx.AsyncClient
) -> None:
    """A service's links replaced (DELETE, then INSERT reading the location ``FOR SHARE``) while the
    location moves: the move's trigger would wait on the deleted link and the insert on the moved
    location, a deadlock, unless the relink takes its locations before deleting anything."""
    d = await _directory(world, client)
    engine = world.app.state.db.engine
    location = d.locations["noord"]
    other = (await d.service("other", "welfare", locations=[location]))["id"]
    async with world.app.state.db.sessionmaker() as relink, engine.connect() as move:
        await children_repository.replace_locations(relink, uuid.UUID(str(other)), [uuid.UUID(location)])
        pid = await move.scalar(text("SELECT pg_backend_pid()"))
        moving = asyncio.create_task(move.execute(MOVE, {"buurt": world.buurten[1].id, "location": location}))
        await until_waiting_for_a_lock(engine, pid)
        await relink.commit()
        await moving
        await move.commit()
    assert await _astray(engine) == 0
    assert ("Dienst other", "location") in await _names_near(d, 1)


async def test_a_link_added_through_the_orm_knows_its_buurt_after_the_flush(
    world: World, client: httpx.AsyncClient
) -> None:
    """The model says PostgreSQL owns the copy: the insert reads it back instead of keeping None."""
    d = await _directory(world, client)
    service = (await d.service("orm", "welfare"))["id"]
    async with world.app.state.db.sessionmaker() as session:
        link = DirectoryServiceAtLocation(
            service_id=uuid.UUID(str(service)), location_id=uuid.UUID(d.locations["zuid"])
        )
        session.add(link)
        await session.flush()
        assert link.buurt_id == world.buurten[2].id
        await session.rollback()


async def test_the_imports_upsert_moving_a_location_moves_its_links(
    world: World, client: httpx.AsyncClient
) -> None:
    """The import writes locations with INSERT .. ON CONFLICT DO UPDATE: the statement trigger fires on
    its update too (with its transition tables), so the links follow."""
    d = await _directory(world, client)
    engine = world.app.state.db.engine
    location = d.locations["noord"]
    async with engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    text("SELECT * FROM directory_locations WHERE id = :id"), {"id": location}
                )
            )
            .mappings()
            .one()
        )
    moved = {k: v for k, v in row.items() if k not in ("version", "last_modified")} | {
        "buurt_id": world.buurten[1].id
    }
    async with world.app.state.db.transaction() as session:
        assert await exchange_repository.upsert(session, exchange_repository.LOC, [moved]) == 1
    assert await _astray(engine) == 0
    assert await _names_near(d, 1) == [("Dienst inloop", "location")]
