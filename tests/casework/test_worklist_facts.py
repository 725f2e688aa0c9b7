"""The worklist's stored facts (``worklist_facts``, kept by the triggers of migration 0270) give the very
items the base tables give: after every kind of write through the API, after bulk statements over many
households, and with two writers on one household at once."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.domain.readmodel.worklist import ITEM_COLUMNS, SCOPE_COLUMNS, WorklistPolicy, fragment, items_of
from tests.casework.conftest import Cases
from tests.support.locks import until_waiting_for_a_lock
from tests.worklist.support import Team, days_later, now_iso, today


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE 'Europe/Amsterdam')::date"


# A household's items worked out from the base tables, as the worklist did before the facts were
# stored (before 0270): the oracle the stored facts are held to.
DERIVED_ITEMS = f"""
SELECT 'plan_evaluation'::text AS kind, p.evaluation_date AS due_on,
       p.evaluation_date - :horizon AS show_from, NULL::date AS listed_until, h.id AS household_id,
       'plan'::text AS object_type, p.id AS object_id, json_build_object('revision', p.revision) AS detail
  FROM scope AS h JOIN plans AS p ON p.household_id = h.id AND p.status = 'active'
 WHERE p.agreed_at IS NOT NULL AND p.evaluation_date IS NOT NULL
UNION ALL
SELECT 'no_contact', c.since + 7 * c.weeks, c.since + 7 * c.weeks - :horizon, NULL, c.id,
       'household', c.id, json_build_object('last_contact_on', c.last_on, 'tier', c.tier, 'weeks', c.weeks)
  FROM (SELECT h.id, t.tier, lc.last_on, COALESCE(lc.last_on, {_day("h.registered_at")}) AS since,
               CASE t.tier WHEN 'specialist' THEN :weeks_specialist WHEN 'support' THEN :weeks_support
                           WHEN 'self_reliant' THEN :weeks_self_reliant ELSE :weeks_none END AS weeks
          FROM scope AS h
          LEFT JOIN household_tiers AS t ON t.household_id = h.id
          LEFT JOIN LATERAL (SELECT {_day("max(cm.occurred_at)")} AS last_on
                               FROM contact_moments AS cm WHERE cm.household_id = h.id) AS lc ON true) AS c
UNION ALL
SELECT 'plan_not_agreed', {_day("h.registered_at")} + :agreement_days,
       {_day("h.registered_at")} + :agreement_days, NULL, h.id, 'household', h.id,
       json_build_object('registered_on', {_day("h.registered_at")}, 'plan_id', p.id)
  FROM scope AS h LEFT JOIN plans AS p ON p.household_id = h.id AND p.status = 'active'
 WHERE h.status IN ('registered', 'intake') AND p.agreed_at IS NULL
UNION ALL
SELECT 'referral_no_response', {_day("r.created_at")} + :partner_days,
       {_day("r.created_at")} + :partner_days, NULL, h.id, 'referral', r.id,
       json_build_object('organisation_id', r.organisation_id, 'reason_domain', r.reason_domain,
                         'submitted_on', {_day("r.created_at")})
  FROM scope AS h JOIN referrals AS r ON r.household_id = h.id
 WHERE r.direction = 'outbound' AND r.status = 'submitted'
UNION ALL
SELECT 'consent_expiring', c.valid_until, c.valid_until - :consent_days, c.valid_until, h.id,
       'consent', c.id,
       json_build_object('organisation_id', c.organisation_id, 'purpose', c.purpose, 'member_id', c.member_id)
  FROM scope AS h JOIN consents AS c ON c.household_id = h.id
 WHERE c.withdrawn_at IS NULL AND c.valid_until IS NOT NULL
UNION ALL
SELECT 'aftercare_ending', {_day("h.aftercare_since")} + 7 * :aftercare_weeks,
       {_day("h.aftercare_since")} + 7 * :aftercare_weeks - :horizon, NULL, h.id, 'household', h.id,
       json_build_object('aftercare_since', {_day("h.aftercare_since")})
  FROM scope AS h
 WHERE h.status = 'aftercare' AND h.aftercare_since IS NOT NULL"""


def _every_household(items: str) -> str:
    """The items of every household (closed ones too: the sync entity sends a household's until it
    closes), each as comparable text."""
    columns = ", ".join(f"item.{c}" for c in ITEM_COLUMNS if c != "detail")
    return f"SELECT {columns}, item.detail::text FROM households AS hh CROSS JOIN LATERAL ({items}) AS item"


STORED = fragment(_every_household(items_of("hh")), *ITEM_COLUMNS)
_SCOPE = ", ".join(f"hh.{c}" for c in SCOPE_COLUMNS)
DERIVED = fragment(_every_household(f"WITH scope AS (SELECT {_SCOPE})\n{DERIVED_ITEMS}"), *ITEM_COLUMNS)


async def _items(db: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    values = WorklistPolicy().values()
    async with db.transaction() as session:
        stored = sorted(tuple(row) for row in await session.execute(STORED, values))
        derived = sorted(tuple(row) for row in await session.execute(DERIVED, values))
    return stored, derived


async def _assert_stored_is_derived(db: Any) -> list[tuple[Any, ...]]:
    stored, derived = await _items(db)
    assert stored == derived
    return stored


def _kinds_of(items: list[tuple[Any, ...]], household: str) -> set[str]:
    return {item[0] for item in items if str(item[4]) == household}


async def test_the_stored_facts_follow_every_kind_of_write_through_the_api(
    cases: Cases, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    world = cases.world
    db = world.app.state.db
    team = await Team.start(world, client, tmp_path)
    hh = "/api/v1/households"

    async def check() -> list[tuple[Any, ...]]:
        return await _assert_stored_is_derived(db)

    # Intake with a first contact (a household and a contact moment in one request).
    intake = await team.ok(
        "POST",
        hh,
        json={
            **team.address(14),
            "members": [{"given_name": "Noor", "role": "parent"}],
            "first_contact": {"kind": "home_visit", "occurred_at": now_iso(), "minutes": 60},
        },
    )
    household, noor = intake["id"], intake["members"][0]["id"]
    base = f"{hh}/{household}"
    assert {"no_contact", "plan_not_agreed"} <= _kinds_of(await check(), household)

    # Scored (the stored tier, itself kept by triggers, changes the contact gap).
    await team.ok(
        "POST",
        base + "/assessments",
        json={"assessed_on": str(today()), "scores": [{"domain": "finances", "score": 1}]},
    )
    await check()
    with days_later(3):
        await team.ok(
            "POST", base + "/contacts", json={"kind": "phone", "occurred_at": now_iso(), "minutes": 10}
        )
    await check()

    # A plan not agreed yet, then agreed in a request of its own.
    plan = await team.ok(
        "POST",
        base + "/plans",
        json={"supersedes_id": None, "goals": [{"domain": "finances", "target_score": 3}]},
    )
    assert "plan_not_agreed" in _kinds_of(await check(), household)
    agreed = await team.ok(
        "POST",
        f"{base}/plans/{plan['id']}/agreement",
        json={"agreed_by_member_id": noor, "expected_version": plan["version"]},
    )
    assert "plan_evaluation" in _kinds_of(await check(), household)
    etag = (await team.send("GET", f"{base}/plans/{plan['id']}")).headers["etag"]
    assert agreed["version"] >= 1
    moved = await team.ok(
        "PATCH",
        f"{base}/plans/{plan['id']}",
        json={"evaluation_date": str(today(20))},
        headers={"If-Match": etag},
    )
    await check()

    # A consent that can expire, and a referral out the partner does not answer yet.
    consent = await team.ok(
        "POST",
        base + "/consents",
        json={
            "member_id": noor,
            "organisation_id": str(world.organisations["a"].id),
            "purpose": "finances",
            "categories": ["identity"],
            "valid_until": str(today(40)),
        },
    )
    referral = await team.ok(
        "POST",
        base + "/referrals",
        json={
            "member_id": noor,
            "organisation_id": str(world.organisations["a"].id),
            "reason_domain": "finances",
            "legal_basis": "consent",
        },
    )
    assert {"consent_expiring", "referral_no_response"} <= _kinds_of(await check(), household)

    # The partner answers; the consent is withdrawn.
    await team.ok(
        "POST", f"/api/v1/referrals/{referral['id']}/transitions", "partner_a", json={"status": "accepted"}
    )
    await team.ok("POST", f"{base}/consents/{consent['id']}/withdraw", json={})
    assert not {"consent_expiring", "referral_no_response"} & _kinds_of(await check(), household)

    # Evaluated (a new evaluation date), closed, and the file into aftercare and closed.
    evaluated = await team.ok(
        "POST",
        f"{base}/plans/{plan['id']}/evaluations",
        json={
            "member_ids": [noor],
            "goals": [{"goal_id": plan["goals"][0]["id"], "result": "partly"}],
        },
    )
    assert evaluated["evaluation_date"] != moved["evaluation_date"]
    await check()
    await team.ok(
        "POST",
        f"{base}/plans/{plan['id']}/closing",
        json={"reason": "goals_reached", "expected_version": evaluated["version"]},
    )
    assert "plan_evaluation" not in _kinds_of(await check(), household)
    current = await team.ok("GET", base)
    aftercare = await team.ok(
        "PATCH", base, json={"status": "aftercare", "expected_version": current["version"]}
    )
    assert "aftercare_ending" in _kinds_of(await check(), household)
    await team.ok(
        "PATCH",
        base,
        json={
            "status": "closed",
            "closing_reason": "goals_reached",
            "expected_version": aftercare["version"],
        },
    )
    await check()


async def test_the_stored_facts_equal_the_base_tables_after_bulk_changes_of_generated_households(
    cases: Cases,
) -> None:
    """Differential: contacts, plans, consents, referrals and scores written for many households at
    once, then moved, corrected and deleted, each a statement over many households; after each, the
    items of every household from the stored facts == those from the base tables."""
    rng = random.Random(270)
    for n in range(12):
        await cases.add(f"g{n}", members=rng.randint(1, 2), assigned=("generalist_a",) if n % 3 else ())
    households = [cases.hid(key) for key in cases.households]
    members = [(m.household_id, m.id) for people in cases.members.values() for m in people]
    world = cases.world
    db = world.app.state.db

    def some(share: float) -> str:
        """A random share of the generated households' rows (others may be held by other tests' rows)."""
        return f"household_id = ANY (:mine) AND random() < {share}"

    async def run(statement: str, **params: Any) -> None:
        async with db.transaction() as session:
            await session.execute(text(statement), {"mine": households, **params})
        await _assert_stored_is_derived(db)

    def moments(k: int) -> list[datetime]:
        return [datetime(2026, rng.randint(1, 11), rng.randint(1, 28), 23, 30, tzinfo=UTC) for _ in range(k)]

    for _round in range(2):
        picked = rng.sample(households, k=8)
        await run(
            "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
            " SELECT gen_random_uuid(), h, 'phone', t, 15"
            " FROM unnest(CAST(:hs AS uuid[]), CAST(:ts AS timestamptz[])) AS v(h, t)",
            hs=picked,
            ts=moments(len(picked)),
        )
    await run(f"UPDATE contact_moments SET occurred_at = occurred_at - interval '40 days' WHERE {some(0.4)}")
    await run(
        f"UPDATE contact_moments SET household_id = :h WHERE {some(0.2)}",
        h=households[0],
    )
    await run(f"DELETE FROM contact_moments WHERE {some(0.3)}")

    await run(
        "INSERT INTO plans (id, household_id, revision, status)"
        " SELECT gen_random_uuid(), h, 1, 'active' FROM unnest(CAST(:hs AS uuid[])) AS h",
        hs=households[:8],
    )
    await run(
        "UPDATE plans SET agreed_at = now(), agreement_recorded_by = 'team',"
        " evaluation_date = DATE '2027-01-15' WHERE household_id = ANY (:hs)",
        hs=households[:5],
    )
    await run(f"UPDATE plans SET evaluation_date = evaluation_date + 30 WHERE {some(0.5)}")
    await run(
        "UPDATE plans SET status = 'closed', closing_reason = 'goals_reached' WHERE household_id = :h",
        h=households[1],
    )
    await run("DELETE FROM plans WHERE household_id = :h", h=households[2])

    organisation = world.organisations["a"].id
    await run(
        "INSERT INTO consents (id, household_id, member_id, organisation_id, purpose, categories, valid_from,"
        " valid_until) SELECT gen_random_uuid(), h, m, :o, 'finances', ARRAY['identity'], DATE '2026-01-01',"
        " DATE '2026-12-01' + (random() * 90)::int"
        " FROM unnest(CAST(:hs AS uuid[]), CAST(:ms AS uuid[])) AS v(h, m)",
        hs=[h for h, _m in members],
        ms=[m for _h, m in members],
        o=organisation,
    )
    await run(f"UPDATE consents SET valid_until = NULL WHERE {some(0.3)}")
    await run(f"UPDATE consents SET withdrawn_at = now(), withdrawal_recorded_by = 'team' WHERE {some(0.3)}")
    await run(f"DELETE FROM consents WHERE {some(0.2)}")

    team = world.teams["a"].id
    # Outbound referrals waiting for the partner move a fact on insert; inbound ones and other statuses
    # do not (and their inserts and updates refresh nothing); a direction turned is an update like any.
    for direction, status in (("outbound", "submitted"), ("inbound", "submitted"), ("outbound", "accepted")):
        await run(
            "INSERT INTO referrals (id, direction, status, organisation_id, team_id, household_id,"
            " given_name, reason_domain, urgency, legal_basis, created_at)"
            " SELECT gen_random_uuid(), :d, :s, :o, :t, h, 'Lid', 'finances', 'routine',"
            " 'consent', now() - (random() * 30)::int * interval '1 day'"
            " FROM unnest(CAST(:hs AS uuid[])) AS h",
            hs=households[3:11],
            d=direction,
            s=status,
            o=organisation,
            t=team,
        )
    await run(f"UPDATE referrals SET status = 'accepted' WHERE direction = 'inbound' AND {some(0.5)}")
    await run(f"UPDATE referrals SET direction = 'outbound' WHERE direction = 'inbound' AND {some(0.5)}")
    await run(f"UPDATE referrals SET status = 'accepted' WHERE {some(0.3)}")
    await run(
        f"UPDATE referrals SET household_id = :h WHERE {some(0.3)}",
        h=households[11],
    )
    await run(f"DELETE FROM referrals WHERE {some(0.2)}")

    # Scores (the stored tier changes, and with it the facts), then households deleted.
    await run(
        "WITH new AS (INSERT INTO assessments (id, household_id, assessed_on)"
        " SELECT gen_random_uuid(), h, DATE '2026-06-01' FROM unnest(CAST(:hs AS uuid[])) AS h RETURNING id)"
        " INSERT INTO assessment_scores (assessment_id, domain_code, score)"
        " SELECT id, 'finances', 2 FROM new",
        hs=households[::2],
    )
    await run(f"DELETE FROM assessments WHERE {some(0.5)}")
    # A row lost (a bulk load without triggers): the next contact works the household out whole.
    async with db.transaction() as session:
        await session.execute(
            text("DELETE FROM worklist_facts WHERE household_id = ANY (:mine)"), {"mine": households[3:7]}
        )
    await run(
        "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
        " SELECT gen_random_uuid(), h, 'phone', now(), 30 FROM unnest(CAST(:hs AS uuid[])) AS h",
        hs=households[3:7],
    )
    doomed = households[:3]
    await run("DELETE FROM households WHERE id = ANY (:ids)", ids=doomed)
    async with db.transaction() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM worklist_facts WHERE household_id = ANY (:ids)"), {"ids": doomed}
        )
    assert left == 0


async def _last_contact_on(engine: Any, household: uuid.UUID) -> date | None:
    async with engine.connect() as connection:
        last: date | None = await connection.scalar(
            text("SELECT last_contact_on FROM worklist_facts WHERE household_id = :h"), {"h": household}
        )
    return last


async def test_two_transactions_writing_one_household_at_once_store_the_facts_of_both(cases: Cases) -> None:
    """The second waits for the first (the refresh locks the household) and then sees its contact:
    without the lock it would store the earlier contact of its own snapshot as the last one."""
    engine = cases.world.app.state.db.engine
    household = cases.hid("a")
    contact = text(
        "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
        " VALUES (gen_random_uuid(), :household, 'phone', :at, 10)"
    )
    later, earlier = datetime(2026, 3, 10, 10, tzinfo=UTC), datetime(2026, 3, 1, 10, tzinfo=UTC)
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(contact, {"household": household, "at": later})
        pid = await second.scalar(text("SELECT pg_backend_pid()"))
        waiting = asyncio.create_task(second.execute(contact, {"household": household, "at": earlier}))
        await until_waiting_for_a_lock(engine, pid)
        await first.commit()
        await waiting
        await second.commit()
    await _assert_stored_is_derived(cases.world.app.state.db)
    last = await _last_contact_on(engine, household)
    assert last == date(2026, 3, 10)


async def test_a_refresh_waits_for_a_contact_written_meanwhile_and_keeps_its_day(cases: Cases) -> None:
    """A contact moment only raises its household's last contact (no refresh from all sources), but under
    the refresh's lock: a refresh running beside it (here: another contact deleted) waits, then reads the
    new contact. Without the lock it would read its snapshot, wait for the facts row, and store the older
    day over the new one."""
    engine = cases.world.app.state.db.engine
    household = cases.hid("a")
    contact = text(
        "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
        " VALUES (:id, :household, 'phone', :at, 10)"
    )
    old, new = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            contact, {"id": old, "household": household, "at": datetime(2026, 2, 1, 10, tzinfo=UTC)}
        )
    async with engine.connect() as writer, engine.connect() as remover:
        await writer.execute(
            contact, {"id": new, "household": household, "at": datetime(2026, 4, 2, 10, tzinfo=UTC)}
        )
        pid = await remover.scalar(text("SELECT pg_backend_pid()"))
        removing = asyncio.create_task(
            remover.execute(text("DELETE FROM contact_moments WHERE id = :id"), {"id": old})
        )
        await until_waiting_for_a_lock(engine, pid)
        await writer.commit()
        await removing
        await remover.commit()
    await _assert_stored_is_derived(cases.world.app.state.db)
    last = await _last_contact_on(engine, household)
    assert last == date(2026, 4, 2)


async def _until_done_or_waiting(engine: Any, pid: int, task: asyncio.Task[Any]) -> None:
    """Until ``task`` has finished or its connection waits for a lock."""
    waiting = text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid")
    async with engine.connect() as watcher:
        for _ in range(3000):
            if task.done() or await watcher.scalar(waiting, {"pid": pid}):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the statement neither finished nor waited for a lock")


async def test_a_plan_written_while_its_household_is_being_closed_waits_instead_of_deadlocking(
    cases: Cases,
) -> None:
    """Closing a household (or a new plan version) locks the household and then its plan; a PATCH of
    the plan meanwhile locks the plan, and its refresh must then not wait for the household's row (it
    would, with a row lock, and PostgreSQL would end one of the two with 40P01)."""
    engine = cases.world.app.state.db.engine
    household = cases.hid("a")
    async with engine.begin() as setup:
        plan = await setup.scalar(
            text(
                "INSERT INTO plans (id, household_id, revision, status)"
                " VALUES (gen_random_uuid(), :h, 1, 'active') RETURNING id"
            ),
            {"h": household},
        )
    async with engine.connect() as closer, engine.connect() as patcher:
        await closer.execute(text("SELECT id FROM households WHERE id = :h FOR UPDATE"), {"h": household})
        pid = await patcher.scalar(text("SELECT pg_backend_pid()"))
        patch = asyncio.create_task(
            patcher.execute(
                text("UPDATE plans SET evaluation_date = DATE '2027-02-01' WHERE id = :p"), {"p": plan}
            )
        )
        await _until_done_or_waiting(engine, pid, patch)
        closer_pid = await closer.scalar(text("SELECT pg_backend_pid()"))
        close_plan = asyncio.create_task(
            closer.execute(text("SELECT id FROM plans WHERE id = :p FOR UPDATE"), {"p": plan})
        )
        await until_waiting_for_a_lock(engine, closer_pid)  # on the patcher's plan row
        await patch
        await patcher.commit()
        await close_plan
        await closer.commit()
    await _assert_stored_is_derived(cases.world.app.state.db)


# The advisory-lock class of the refresh (migration 0270, LOCK_CLASS): two-key locks show it as classid.
HELD_FACT_LOCKS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    " AND objsubid = 2 AND classid = CAST(x'776B6661' AS int)::oid"
)


async def test_an_update_refreshes_and_locks_only_when_a_column_the_facts_use_changes(cases: Cases) -> None:
    """A note or the minutes of a contact moment cannot change a fact (nor, say, the retention purge
    clearing old notes): no refresh, no lock. Its date can: the household's facts lock, and a new row."""
    engine = cases.world.app.state.db.engine
    household = cases.hid("a")
    contact = text(
        "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
        " VALUES (gen_random_uuid(), :household, 'phone', :at, 10)"
    )
    async with engine.begin() as setup:
        await setup.execute(contact, {"household": household, "at": datetime(2026, 3, 1, 10, tzinfo=UTC)})
    last = text("SELECT last_contact_on FROM worklist_facts WHERE household_id = :h")
    async with engine.connect() as connection:
        await connection.execute(
            text("UPDATE contact_moments SET minutes = minutes + 5 WHERE household_id = :h"), {"h": household}
        )
        assert await connection.scalar(HELD_FACT_LOCKS) == 0
        await connection.execute(
            text(
                "UPDATE contact_moments SET occurred_at = occurred_at + interval '3 days'"
                " WHERE household_id = :h"
            ),
            {"h": household},
        )
        assert await connection.scalar(HELD_FACT_LOCKS) == 1
        assert await connection.scalar(last, {"h": household}) == date(2026, 3, 4)
        await connection.commit()
    await _assert_stored_is_derived(cases.world.app.state.db)


TABLE_LOCK = text(
    "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND pid = pg_backend_pid() AND granted"
    " AND relation = CAST('worklist_facts' AS regclass)"
)


async def test_a_statement_over_many_households_locks_the_table_instead_of_each_household(
    cases: Cases,
) -> None:
    """One advisory lock per household overflowed PostgreSQL's shared lock table on bulk writes (the
    100,000-household demo load failed with 'out of shared memory'): over 64 households a statement takes
    one table lock, and a single household's writer waits for it to end and then stores both facts."""
    engine = cases.world.app.state.db.engine
    model = cases.hid("a")
    many = [uuid.uuid4() for _ in range(80)]
    contact = (
        "INSERT INTO contact_moments (id, household_id, kind, occurred_at, minutes)"
        " SELECT gen_random_uuid(), h, 'phone', :at, 10 FROM unnest(CAST(:hs AS uuid[])) AS h"
    )
    async with engine.begin() as setup:
        await setup.execute(
            text(
                "INSERT INTO households (id, reference, team_id, buurt_id, postcode, house_number, status)"
                " SELECT v.id, 'HH-B-' || left(v.id::text, 13), h.team_id, h.buurt_id, h.postcode, v.n,"
                " 'active'"
                " FROM households AS h, unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS v(id, n)"
                " WHERE h.id = :model"
            ),
            {"ids": many, "model": model},
        )
    async with engine.connect() as bulk, engine.connect() as single:
        await bulk.execute(text(contact), {"hs": many, "at": datetime(2026, 5, 1, 10, tzinfo=UTC)})
        assert await bulk.scalar(HELD_FACT_LOCKS) == 0
        assert set((await bulk.scalars(TABLE_LOCK)).all()) >= {"ShareRowExclusiveLock"}
        pid = await single.scalar(text("SELECT pg_backend_pid()"))
        waiting = asyncio.create_task(
            single.execute(text(contact), {"hs": [many[0]], "at": datetime(2026, 5, 9, 10, tzinfo=UTC)})
        )
        await until_waiting_for_a_lock(engine, pid)
        await bulk.commit()
        await waiting
        assert await single.scalar(HELD_FACT_LOCKS) == 1
        await single.commit()
    await _assert_stored_is_derived(cases.world.app.state.db)
    assert await _last_contact_on(engine, many[0]) == date(2026, 5, 9)
    assert await _last_contact_on(engine, many[1]) == date(2026, 5, 1)
