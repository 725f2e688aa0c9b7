"""What a newcomer sees of the live demo: figures, not nulls, for the wijken and the gemeente; and
answers in one shape (timestamps in UTC with ``Z``, compact JSON, nothing in the future)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.demo.live import machine_token, person_token
from tests.support.live_demo import ON_THE_DEMO_WORKER, LiveDemo

pytestmark = [pytest.mark.slow, ON_THE_DEMO_WORKER]

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Timestamps that name a moment to come by design (a retry, an expiry); every other one has happened.
AHEAD_BY_DESIGN = {"next_attempt_at", "expires_at", "previous_secret_expires_at"}


def last_four_quarters(today: date) -> tuple[date, date]:
    """The first and last day of the four finished quarters before the running one."""
    running = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return date(running.year - 1, running.month, 1), running - timedelta(days=1)


async def test_most_wijk_and_gemeente_figures_are_published(live_demo: LiveDemo) -> None:
    first, last = last_four_quarters(datetime.now(UTC).date())
    async with httpx.AsyncClient(base_url=live_demo.base_url, timeout=120.0) as http:
        token = await machine_token(http, live_demo.served.credentials(), "analyst")
        headers = {"Authorization": f"Bearer {token}"}
        catalogue = (await http.get("/api/v1/stats", headers=headers)).json()
        published: dict[str, int] = {}
        cells: dict[str, int] = {}
        for measure in (m["id"] for m in catalogue["measures"]):
            for level in ("wijk", "gemeente"):
                params = {"area": "GM9999", "level": level, "period": "quarter"}
                params |= {"from": str(first), "to": str(last)}
                answer = await http.get(f"/api/v1/stats/{measure}", params=params, headers=headers)
                assert answer.status_code == 200, answer.text
                rows = answer.json()["rows"]
                published[measure] = published.get(measure, 0) + sum(r["value"] is not None for r in rows)
                cells[measure] = cells.get(measure, 0) + len(rows)
    share = sum(published.values()) / sum(cells.values())
    summary = {m: f"{published[m]}/{cells[m]}" for m in cells}
    assert share > 0.5, (f"{share:.0%} published", summary)
    # No measure is all nulls: each publishes figures for the wijken or the gemeente.
    assert all(published.values()), summary


async def test_every_timestamp_is_utc_with_z_and_in_the_past(live_demo: LiveDemo) -> None:
    credentials = live_demo.served.credentials()
    answers: dict[str, httpx.Response] = {}
    async with httpx.AsyncClient(base_url=live_demo.base_url, timeout=60.0) as http:

        async def read(path: str, token: str | None, **params: str) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = await http.get(path, params=params, headers=headers)
            assert answer.status_code == 200, (path, answer.text)
            answers[path] = answer
            return answer.json()

        worker = await person_token(http, credentials, "generalist_a", "cases:read referrals:read")
        households = await read("/api/v1/households", worker)
        household = f"/api/v1/households/{households['items'][0]['id']}"
        for part in ("", "/overview", "/members", "/contacts", "/assessments", "/assignments", "/consents"):
            await read(household + part, worker)
        for part in ("/network", "/plans", "/referrals", "/access-log"):
            await read(household + part, worker)
        await read("/api/v1/sync", worker)
        await read("/api/v1/referrals", worker)

        partner = await machine_token(http, credentials, "partner_a")
        referrals = await read("/api/v1/referrals", partner, limit="100")
        await read(f"/api/v1/referrals/{referrals['items'][0]['id']}", partner)
        await read("/api/v1/webhooks", partner)

        analyst = await machine_token(http, credentials, "analyst")
        figures = {"area": "GM9999", "level": "wijk", "from": "2025-01-01"}
        await read("/api/v1/stats/households_active", analyst, **figures)

        admin = await person_token(http, credentials, "admin", "admin")
        for path in ("areas", "municipalities", "teams", "workers", "users", "oauth-clients"):
            await read(f"/api/v1/{path}", admin)
        for path in ("partner-organisations", "resident-networks"):
            await read(f"/api/v1/{path}", admin)
        officer = await person_token(http, credentials, "privacy_officer", "audit:read")
        await read("/api/v1/audit", officer)
        await read("/api/v1/initiatives", None, municipality="GM9999", limit="100")

        query = """{ initiatives(first: 50) { edges { node { id createdAt updatedAt } } }
                     networks(municipality: "GM9999") { grants { decidedAt } }
                     neighbourhood(code: "BU99990101") { stats(period: "2025") { asOf } } }"""
        graphql = await http.post("/graphql", json={"query": query})
        assert graphql.status_code == 200 and "errors" not in graphql.json(), graphql.text
        answers["/graphql"] = graphql

    now = datetime.now(UTC)
    found = 0
    for path, answer in answers.items():
        assert '" : ' not in answer.text, f"{path}: JSON written with spaces around the colon"
        for key, moment in _timestamps(answer.json()):
            found += 1
            assert moment.endswith("Z"), f"{path}: {key} = {moment}"
            if key not in AHEAD_BY_DESIGN:
                happened = datetime.fromisoformat(moment) <= now + timedelta(minutes=1)
                assert happened, f"{path}: {key} = {moment} lies in the future"
    assert found > 1000  # the walk met the demo's timestamps, not a handful


def _timestamps(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, value) in a JSON document whose value is a date with a time."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _timestamps(v, k)]
    if isinstance(value, list):
        return [pair for item in value for pair in _timestamps(item, key)]
    return [(key, value)] if isinstance(value, str) and TIMESTAMP.match(value) else []
