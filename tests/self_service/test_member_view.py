"""What a household member sees of their own file: their data, the household's plan, their consents
and their export; not another adult's personal data, internal notes or a BSN. Every read and action
of the member is logged."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.domain.identity.models import User
from tests.factories import World
from tests.self_service.support import Home, Signed, account, consent, log_rows

NOTE = "Interne notitie: spanningen tussen de partners."


async def test_me_shows_their_own_data_and_the_households_children_not_the_other_adult(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    response = await client.get("/api/v1/me", headers=await anna.headers())
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["member"] == {
        "id": home.members["Anna"],
        "given_name": "Anna",
        "family_name": "de Vries",
        "birth_date": "1984-03-02",
        "role": "parent",
        "has_bsn": True,
    }
    assert me["household"]["id"] == home.id and me["household"]["team"].startswith("Team A")
    coordinator = home.world.people["generalist_a"].worker
    assert coordinator is not None and me["household"]["coordinator"] == coordinator.name
    assert me["children"] == [{"given_name": "Bram"}]
    for secret in ("Ewout", "Bakker", "1979", home.bsn, home.bsn[-3:] + '"'):
        assert secret not in response.text
    [row] = await log_rows(home.world, response.headers["X-Request-ID"])
    assert (row.resource, row.action, row.purpose, row.outcome) == (
        "member",
        "read",
        "self_service",
        "allowed",
    )
    assert (str(row.household_id), str(row.person_id)) == (home.id, home.members["Anna"])
    assert row.actor_role == "household_member" and row.actor_subject == str(anna.user.id)


async def test_the_plan_names_who_does_what_as_the_plan_does(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    response = await client.get("/api/v1/me/plan", headers=await anna.headers())
    assert response.status_code == 200, response.text
    plan = response.json()
    assert response.headers["ETag"] == f'"{home.plan["id"]}.{home.plan["version"]}"'
    assert (plan["id"], plan["revision"], plan["evaluation_date"]) == (home.plan["id"], 1, "2027-03-01")
    assert plan["summary"] == "Rust in de financiën en hulp uit de buurt." and plan["agreement"] is None
    [goal] = plan["goals"]
    assert goal["domain"]["code"] == "finances" and goal["domain"]["label_nl"] and goal["target_score"] == 4
    coordinator = home.world.people["generalist_a"].worker
    assert coordinator is not None
    performers = {a["description"]: a["performer"] for a in plan["actions"]}
    assert performers == {
        "Post samen sorteren": {"kind": "household", "name": None},
        "Budgetplan opstellen": {"kind": "worker", "name": coordinator.name},
        "Boodschappen op dinsdag": {"kind": "network_member", "name": "buurvrouw Tineke"},
    }
    assert all(a["goal_id"] == goal["id"] for a in plan["actions"])
    [row] = await log_rows(home.world, response.headers["X-Request-ID"])
    assert (row.resource, row.action, str(row.resource_id)) == ("plan", "read", home.plan["id"])


async def test_internal_notes_never_reach_the_members_views(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    contact = await home.post(
        f"/api/v1/households/{home.id}/contacts",
        {"kind": "home_visit", "occurred_at": "2026-11-02T10:00:00+01:00", "minutes": 45, "note": NOTE},
    )
    assert contact.status_code == 201, contact.text
    headers = await anna.headers()
    for path in ("/api/v1/me", "/api/v1/me/plan", "/api/v1/me/consents", "/api/v1/me/access-log"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert "spanningen" not in response.text and home.bsn not in response.text, path


async def test_the_member_agrees_to_the_version_they_read(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    headers = await anna.headers()
    read = await client.get("/api/v1/me/plan", headers=headers)
    etag = read.headers["ETag"]
    without = await client.post("/api/v1/me/plan/agreement", headers=headers)
    assert without.status_code == 428, without.text
    stale = await client.post(
        "/api/v1/me/plan/agreement", headers={**headers, "If-Match": f'"{home.plan["id"]}.99"'}
    )
    assert stale.status_code == 412

    agreed = await client.post("/api/v1/me/plan/agreement", headers={**headers, "If-Match": etag})
    assert agreed.status_code == 200, agreed.text
    agreement = agreed.json()["agreement"]
    assert agreement["by_you"] is True and agreement["recorded_by"] == "member"
    assert agreed.headers["ETag"] != etag  # the agreement is a change of the plan
    [row] = await log_rows(home.world, agreed.headers["X-Request-ID"])
    assert (row.resource, row.action, row.purpose, str(row.resource_id)) == (
        "plan", "update", "self_service", home.plan["id"],
    )  # fmt: skip

    team_view = await home.get(f"/api/v1/households/{home.id}/plan")
    assert team_view.json()["agreed_by_member_id"] == home.members["Anna"]
    assert team_view.json()["agreement_recorded_by"] == "member"
    again = await client.post(
        "/api/v1/me/plan/agreement", headers={**headers, "If-Match": agreed.headers["ETag"]}
    )
    assert again.status_code == 409 and again.json()["type"].endswith("plan_already_agreed")


async def test_another_adult_sees_the_agreement_was_not_theirs(
    world: World, client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    read = await client.get("/api/v1/me/plan", headers=await anna.headers())
    agreed = await client.post(
        "/api/v1/me/plan/agreement", headers={**await anna.headers(), "If-Match": read.headers["ETag"]}
    )
    assert agreed.status_code == 200, agreed.text
    ewout = await account(world, home, "Ewout")
    seen = await client.get("/api/v1/me/plan", headers=await ewout.headers())
    assert seen.json()["agreement"]["by_you"] is False


async def test_the_member_lists_their_own_consents_only(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    own = await consent(home, "Anna")
    await consent(home, "Ewout")
    response = await client.get("/api/v1/me/consents", headers=await anna.headers())
    assert response.status_code == 200, response.text
    [shown] = response.json()["items"]
    assert shown["id"] == own and shown["organisation"] == home.world.organisations["a"].name
    assert shown["purpose"]["code"] == "finances" and shown["categories"] == ["address", "identity"]
    assert shown["in_force"] is True and shown["withdrawn_at"] is None
    [row] = await log_rows(home.world, response.headers["X-Request-ID"])
    assert (row.resource, row.action, row.purpose) == ("consent", "list", "self_service")


async def test_the_member_withdraws_their_own_consent_and_no_one_elses(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    own, theirs = await consent(home, "Anna"), await consent(home, "Ewout")
    headers = await anna.headers()
    other = await client.post(f"/api/v1/me/consents/{theirs}/withdraw", headers=headers)
    assert other.status_code == 404
    missing = await client.post(f"/api/v1/me/consents/{uuid.uuid4()}/withdraw", headers=headers)
    assert missing.status_code == 404
    done = await client.post(f"/api/v1/me/consents/{own}/withdraw", headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["in_force"] is False and done.json()["withdrawal_recorded_by"] == "member"
    [row] = await log_rows(home.world, done.headers["X-Request-ID"])
    assert (row.resource, row.action, str(row.resource_id), row.outcome) == (
        "consent",
        "update",
        own,
        "allowed",
    )
    team_view = await home.get(f"/api/v1/households/{home.id}/consents/{own}")
    assert team_view.json()["withdrawal_recorded_by"] == "member" and team_view.json()["withdrawn_at"]
    untouched = await home.get(f"/api/v1/households/{home.id}/consents/{theirs}")
    assert untouched.json()["in_force"] is True
    again = await client.post(f"/api/v1/me/consents/{own}/withdraw", headers=headers)
    assert again.status_code == 409 and again.json()["type"].endswith("consent_already_withdrawn")


async def test_the_export_is_everything_held_on_the_member_and_who_accessed_it(
    client: httpx.AsyncClient, home: Home, anna: Signed
) -> None:
    await consent(home, "Anna")
    await consent(home, "Ewout")
    await home.get(f"/api/v1/households/{home.id}/plan")  # a worker reads the plan
    response = await client.get("/api/v1/me/export", headers=await anna.headers())
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    export = response.json()
    assert export["member_ids"] == [home.members["Anna"]] and export["household_ids"] == [home.id]
    [member] = export["sections"]["members"]
    assert member["given_name"] == "Anna" and member["bsn_masked"] == "******" + home.bsn[-3:]
    assert home.bsn not in response.text and "Ewout" not in response.text
    assert [c["member_id"] for c in export["sections"]["consents"]] == [home.members["Anna"]]
    assert [p["id"] for p in export["sections"]["plans"]] == [home.plan["id"]]
    reads = [
        e for e in export["access_log"] if e["what"] == "your household's plan" and e["action"] == "read"
    ]
    assert reads and reads[0]["who"] == "A generalist of the wijkteam"
    stamps = [e["occurred_at"] for e in export["access_log"]]
    assert stamps == sorted(stamps)  # oldest first, as the privacy officer's export
    [row] = await log_rows(home.world, response.headers["X-Request-ID"])
    assert (row.resource, row.action, row.purpose) == ("subject_access", "export", "subject_access_request")


async def test_no_bsn_is_ever_stored_with_the_account(world: World, home: Home, anna: Signed) -> None:
    async with world.app.state.db.transaction() as session:
        user = (await session.execute(sa.select(User).where(col(User.id) == anna.user.id))).scalar_one()
    assert home.bsn not in repr(user.model_dump())
