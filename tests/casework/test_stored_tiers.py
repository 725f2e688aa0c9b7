"""The stored tier (``household_tiers``, kept by the triggers of migration 0205) is always what
``tier_sql`` over the latest scores gives: after every kind of change of its inputs, through the API
and in bulk statements over generated households; and the installed rule is ``tier_sql`` itself."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date
from typing import Any

import httpx
from sqlalchemy import text

from app.domain.assessments.rules import tier_sql
from tests.casework.conftest import Cases
from tests.support.locks import until_waiting_for_a_lock

# Every household's tier worked out from its latest scores, as the worklist did before it was stored.
EXPECTED = text(
    f"""SELECT latest.household_id, {tier_sql("latest.score")} AS tier
      FROM (SELECT DISTINCT ON (a.household_id, a.member_id, s.domain_code) a.household_id, s.score
              FROM assessments AS a JOIN assessment_scores AS s ON s.assessment_id = a.id
             ORDER BY a.household_id, a.member_id, s.domain_code,
                      a.assessed_on DESC, a.created_at DESC, a.id DESC) AS latest
     GROUP BY latest.household_id"""
)
STORED = text("SELECT household_id, tier FROM household_tiers")


async def _tiers(cases: Cases) -> tuple[dict[Any, str], dict[Any, str]]:
    async with cases.world.app.state.db.transaction() as session:
        expected = {row[0]: row[1] for row in await session.execute(EXPECTED)}
        stored = {row[0]: row[1] for row in await session.execute(STORED)}
    return stored, expected


async def _assert_stored_is_derived(cases: Cases) -> dict[Any, str]:
    stored, expected = await _tiers(cases)
    assert stored == expected
    return stored


async def test_the_stored_tier_follows_every_change_made_through_the_api(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    headers = await cases.headers("generalist_a")
    base = f"/api/v1/households/{cases.hid('a')}"
    child = cases.members["a"][1]

    async def record(assessed_on: str, scores: dict[str, int], member: uuid.UUID | None = None) -> str:
        body: dict[str, Any] = {
            "assessed_on": assessed_on,
            "scores": [{"domain": d, "score": s} for d, s in scores.items()],
        }
        if member is not None:
            body["member_id"] = str(member)
        response = await client.post(f"{base}/assessments", headers=headers, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def tier() -> str | None:
        return (await _assert_stored_is_derived(cases)).get(cases.hid("a"))

    assert await tier() is None  # nobody scored yet: no tier
    first = await record("2026-01-10", {"finances": 4, "housing": 5})
    assert await tier() == "self_reliant"
    crisis = await record("2026-02-01", {"parenting": 1}, member=child.id)  # a child in crisis
    assert await tier() == "specialist"

    # A correction: the crisis assessment dated before another of the child's makes that one the latest.
    await record("2026-01-20", {"parenting": 3}, member=child.id)
    one = f"{base}/assessments/{crisis}"
    etag = (await client.get(one, headers=headers)).headers["etag"]
    moved = await client.patch(one, headers={**headers, "If-Match": etag}, json={"assessed_on": "2026-01-05"})
    assert moved.status_code == 200, moved.text
    assert await tier() == "support"

    # Corrected scores (the scores replaced).
    one = f"{base}/assessments/{first}"
    etag = (await client.get(one, headers=headers)).headers["etag"]
    rescored = await client.patch(
        one,
        headers={**headers, "If-Match": etag},
        json={"scores": [{"domain": "finances", "score": 2}, {"domain": "housing", "score": 2}]},
    )
    assert rescored.status_code == 200, rescored.text
    assert await tier() == "support"

    # An assessment deleted as recorded by mistake.
    etag = (await client.get(one, headers=headers)).headers["etag"]
    deleted = await client.delete(one, headers={**headers, "If-Match": etag})
    assert deleted.status_code == 204, deleted.text
    assert await tier() == "support"  # the child's 3 is left

    # The member removed: their assessments go with them, and so does the household's only score.
    member = f"{base}/members/{child.id}"
    etag = (await client.get(member, headers=headers)).headers["etag"]
    removed = await client.delete(member, headers={**headers, "If-Match": etag})
    assert removed.status_code == 204, removed.text
    assert await tier() is None


DOMAINS = ("finances", "housing", "parenting", "mental_health", "social_network")


async def test_the_stored_tier_equals_tier_sql_after_bulk_changes_of_generated_households(
    cases: Cases,
) -> None:
    """Differential: random scores for many households at once, then random corrections, deletions and
    removals, each a statement over many households; after each, stored == derived for all of them."""
    rng = random.Random(12)
    for n in range(12):
        await cases.add(f"g{n}", members=rng.randint(1, 3))
    people = [(cases.hid(key), None) for key in cases.households] + [
        (m.household_id, m.id) for members in cases.members.values() for m in members
    ]
    db = cases.world.app.state.db

    async def run(statement: str, **params: Any) -> None:
        async with db.transaction() as session:
            await session.execute(text(statement), params)
        await _assert_stored_is_derived(cases)

    for _round in range(3):  # new assessments with their scores, many households in one statement
        rows = [
            (uuid.uuid4(), household, member, date(2026, rng.randint(1, 6), rng.randint(1, 28)))
            for household, member in rng.sample(people, k=len(people) // 2)
        ]
        scores = [
            (assessment, domain, rng.choice((1, 2, 2, 3, 4, 5, 5)))
            for assessment, *_ in rows
            for domain in rng.sample(DOMAINS, k=rng.randint(1, 3))
        ]
        await run(
            "WITH new AS (INSERT INTO assessments (id, household_id, member_id, assessed_on)"
            " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:households AS uuid[]),"
            " CAST(:members AS uuid[]), CAST(:dates AS date[])) RETURNING id)"
            " INSERT INTO assessment_scores (assessment_id, domain_code, score)"
            " SELECT v.a, v.d, v.s FROM unnest(CAST(:of AS uuid[]), CAST(:domains AS text[]),"
            " CAST(:scores AS int[])) AS v(a, d, s) WHERE v.a IN (SELECT id FROM new)",
            ids=[r[0] for r in rows],
            households=[r[1] for r in rows],
            members=[r[2] for r in rows],
            dates=[r[3] for r in rows],
            of=[s[0] for s in scores],
            domains=[s[1] for s in scores],
            scores=[s[2] for s in scores],
        )
    # Corrections: dates moved, scores changed, scores taken out, assessments deleted.
    await run("UPDATE assessments SET assessed_on = assessed_on - (random() * 90)::int WHERE random() < 0.4")
    await run("UPDATE assessment_scores SET score = 1 + (random() * 4)::int WHERE random() < 0.3")
    await run("DELETE FROM assessment_scores WHERE random() < 0.2")
    await run("DELETE FROM assessments WHERE random() < 0.2")
    # Members removed and households deleted (their assessments go by cascade).
    await run("DELETE FROM members WHERE role = 'child' AND random() < 0.5")
    doomed = [cases.hid(f"g{n}") for n in range(3)]
    await run("DELETE FROM households WHERE id = ANY (:ids)", ids=doomed)
    stored, _expected = await _tiers(cases)
    assert stored and not set(doomed) & set(stored)


async def test_the_installed_rule_is_tier_sql(cases: Cases) -> None:
    async with cases.world.app.state.db.transaction() as session:
        body = await session.scalar(
            text("SELECT pg_get_functiondef('household_tiers_refresh(uuid[])'::regprocedure)")
        )
    assert tier_sql("latest.score") in body, "the tier rule changed: add a migration that installs it"


async def test_two_transactions_scoring_one_household_at_once_store_the_tier_of_both(cases: Cases) -> None:
    """The second waits for the first (the refresh locks the household) and then sees its scores: without
    the lock it would overwrite the first's 'specialist' with the 'self_reliant' of its own snapshot."""
    engine = cases.world.app.state.db.engine
    household, child = cases.hid("a"), cases.members["a"][1].id
    score = text(
        "WITH new AS (INSERT INTO assessments (id, household_id, member_id, assessed_on)"
        " VALUES (gen_random_uuid(), :household, :member, DATE '2026-03-01') RETURNING id)"
        " INSERT INTO assessment_scores (assessment_id, domain_code, score)"
        " SELECT id, 'finances', :score FROM new"
    )
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(score, {"household": household, "member": None, "score": 1})
        pid = await second.scalar(text("SELECT pg_backend_pid()"))
        later = asyncio.create_task(
            second.execute(score, {"household": household, "member": child, "score": 5})
        )
        await until_waiting_for_a_lock(engine, pid)
        await first.commit()
        await later
        await second.commit()
    stored = await _assert_stored_is_derived(cases)
    assert stored[household] == "specialist"
