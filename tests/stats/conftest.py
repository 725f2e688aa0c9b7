"""Statistics fixtures: a fresh municipality per test, beside the test's world (for real tokens: the
analyst of any world may read any municipality's figures)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.domain.organisation.models import Area, Municipality, Team, TeamArea
from tests.factories import World, free_place_code
from tests.stats.data import Place


@pytest.fixture
async def place(app: FastAPI, world: World) -> Place:
    async with app.state.db.transaction() as session:
        n = await free_place_code(session)
        municipality = Municipality(code=f"GM{n % 10_000:04d}", name=f"Statgemeente {n}")
        session.add(municipality)
        await session.flush()
        wijken = [
            Area(municipality_id=municipality.id, code=f"WK{n:04d}{i:02d}", name=f"Wijk {i}", level="wijk")
            for i in (1, 2)
        ]
        session.add_all(wijken)
        await session.flush()
        buurten = [
            Area(
                municipality_id=municipality.id,
                parent_id=wijken[i // 2].id,
                code=f"BU{n:04d}{i // 2 + 1:02d}{i % 2:02d}",
                name=f"Buurt {i}",
                level="buurt",
            )
            for i in range(4)
        ]
        teams = {k: Team(municipality_id=municipality.id, name=f"Team {k} {n}") for k in ("a", "b")}
        session.add_all([*buurten, *teams.values()])
        await session.flush()
        session.add_all(
            [TeamArea(team_id=teams["a" if i < 2 else "b"].id, area_id=b.id) for i, b in enumerate(buurten)]
        )
    return Place(world, municipality, wijken, buurten, teams)
