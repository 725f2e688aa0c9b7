"""The documented intake path (docs/intake.md), request by request: first contact to an agreed plan
in two requests, counted by the service itself as it goes (the administrative burden)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.domain.unit_of_work.burden import CaseWriteMonth, IntakeBurden, fields_entered
from tests.areas.support import postcode_of
from tests.factories import World
from tests.worklist.support import Team, now_iso

DOC = Path(__file__).resolve().parents[2] / "docs" / "intake.md"
STEP = re.compile(r"<!-- intake-path: (\w+) (\S+) -->\s*```json\n(.*?)```", re.S)
TARGET_REQUESTS = 4  # the target: first contact to agreed plan in at most four requests


def documented_path() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, json.loads(body)) for method, path, body in STEP.findall(DOC.read_text())]


def _filled(value: Any, known: dict[str, str]) -> Any:
    """The doc's placeholders (``<now>``, ``<member 0>``) and the demo's postcode, for this world."""
    if isinstance(value, dict):
        return {k: _filled(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, known) for v in value]
    return known.get(value, value) if isinstance(value, str) else value


async def test_the_documented_path_takes_two_requests_and_counts_itself(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    team = await Team.start(world, client, tmp_path)
    path = documented_path()
    assert [(method, url) for method, url, _ in path] == [
        ("POST", "/api/v1/households"),
        ("POST", "/api/v1/households/{household_id}/plans"),
    ]
    known = {"<now>": now_iso(), "8901 BC": postcode_of(world, "AA")}
    answers: list[dict[str, Any]] = []
    for method, url, body in path:
        if answers:
            known |= {"<member 0>": answers[0]["members"][0]["id"]}
        target = url.format(household_id=answers[0]["id"] if answers else None)
        answers.append(await team.ok(method, target, json=_filled(body, known)))
    registered, plan = answers
    assert team.requests == len(path) == 2 <= TARGET_REQUESTS
    assert (registered["status"], registered["assessment"]["scores"][0]["domain"]) == ("intake", "finances")
    assert plan["agreed_at"] is not None
    household = await team.ok("GET", f"/api/v1/households/{registered['id']}")
    assert household["status"] == "active"

    fields = sum(fields_entered(body) for _, _, body in path)
    async with world.app.state.db.transaction() as session:
        intake = await session.get(IntakeBurden, registered["id"])
        months = list(
            await session.scalars(
                select(CaseWriteMonth).where(CaseWriteMonth.household_id == registered["id"])
            )
        )
    assert intake is not None and intake.plan_agreed_at is not None
    assert (intake.write_requests, intake.fields_entered) == (2, fields)
    assert [(m.write_requests, m.fields_entered) for m in months] == [(2, fields)]
    assert f"2 requests and {fields} fields" in DOC.read_text()  # the figure the docs state

    # After the intake the household's count stops; the month's goes on, a contact at a time.
    contact = {"kind": "phone", "occurred_at": now_iso(), "minutes": 10}
    await team.ok("POST", f"/api/v1/households/{registered['id']}/contacts", json=contact)
    async with world.app.state.db.transaction() as session:
        intake = await session.get(IntakeBurden, registered["id"])
        [month] = await session.scalars(
            select(CaseWriteMonth).where(CaseWriteMonth.household_id == registered["id"])
        )
    assert intake is not None and intake.write_requests == 2
    assert (month.write_requests, month.fields_entered) == (3, fields + 3)


async def test_reads_refusals_and_partners_are_not_counted(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    team = await Team.start(world, client, tmp_path)
    body = {**team.address(), "first_contact": {"kind": "phone", "occurred_at": now_iso()}}
    household = await team.ok("POST", "/api/v1/households", json=body)
    base = f"/api/v1/households/{household['id']}"
    await team.ok("GET", base)  # a read
    refused = await team.send("POST", base + "/contacts", json={"kind": "phone", "occurred_at": "yesterday"})
    assert refused.status_code == 422  # a refusal changes nothing
    other_team = await team.send(
        "POST", base + "/contacts", "generalist_b", json={"kind": "phone", "occurred_at": now_iso()}
    )
    assert other_team.status_code == 404
    async with world.app.state.db.transaction() as session:
        intake = await session.get(IntakeBurden, household["id"])
    assert intake is not None and (intake.write_requests, intake.fields_entered) == (1, 4)
