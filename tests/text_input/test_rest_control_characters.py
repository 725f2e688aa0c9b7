"""Control characters in every text a REST client sends: a 422 naming the field, never a 500.

PostgreSQL refuses NUL in text; before one rule covered all input, 14 operations answered 500 to it and
a member name took BEL. The walk covers every free-text string of every request body, query and path
parameter in the published contract, so a new field without the rule fails here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text as sql

from app.db import Database
from app.domain.text import CONTROL_CHARACTER, MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN
from tests.factories import World
from tests.households.support import create_household
from tests.text_input.support import Callers, TextInput, holding, request_for, text_inputs

REFUSED_EVERYWHERE = {"NUL": "\x00", "BEL": "\x07", "BS": "\x08", "VT": "\x0b", "FF": "\x0c"}
REFUSED_EVERYWHERE |= {"ESC": "\x1b", "US": "\x1f", "DEL": "\x7f"}
LINE_BREAKS_AND_TABS = {"LF": "\n", "CR": "\r", "TAB": "\t"}
OURS = {SINGLE_LINE_PATTERN, MULTI_LINE_PATTERN}

# Strings that are not free text, each checked by a rule of its own that refuses control characters
# too (asserted below: still a 422 naming the field). Anything else without a pattern fails the test.
OWN_RULES = {
    "cursor",  # signed by the service: anything else is cursor_invalid
    "bsn",  # nine digits and the eleven-test
    "postcode",  # four digits and two letters
}


async def _send(client: httpx.AsyncClient, callers: Callers, field: TextInput, character: str) -> Any:
    """The field alone (others left out or made up): a dependency's own check, such as the cursor's,
    would otherwise answer first for a field next to it."""
    request = request_for(field, holding(field, character))
    headers = {
        **await callers.headers(field.scopes),
        "Idempotency-Key": str(uuid.uuid4()),
        "If-Match": f'"{uuid.uuid4()}.1"',
    }
    return await client.request(
        request.method, request.url, params=request.params, json=request.json, headers=headers
    )


def _echoes(answer: httpx.Response, character: str) -> bool:
    # ``instance`` is the request's own path (RFC 9457), left out here: the body is what must not echo.
    body = {k: v for k, v in answer.json().items() if k != "instance"}
    return character in json.dumps(body, ensure_ascii=False) or json.dumps(character)[1:-1] in json.dumps(
        body
    )


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        tables = (
            await session.execute(
                # Tables as the app writes them: a partitioned table counts its partitions' rows.
                sql(
                    "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                    "ORDER BY c.relname"
                )
            )
        ).scalars()
        return {
            table: int((await session.execute(sql(f'SELECT count(*) FROM "{table}"'))).scalar_one())
            for table in list(tables)
        }


async def _failed_attempts(db: Database) -> int:
    async with db.transaction() as session:
        counted = await session.execute(sql("SELECT count(*) FROM access_log WHERE outcome = 'failed'"))
        return int(counted.scalar_one())


def _errors_at(answer: httpx.Response, field: TextInput) -> list[dict[str, Any]]:
    return [e for e in answer.json().get("errors") or [] if tuple(e["loc"]) == field.loc]


async def test_the_contract_declares_the_rule_on_every_free_text_input(app: FastAPI) -> None:
    inputs = text_inputs(app.openapi())
    assert len(inputs) > 100  # the walk reaches the bodies, nested objects and lists
    undeclared = [str(f) for f in inputs if f.pattern is None and f.loc[-1] not in OWN_RULES]
    assert undeclared == []


async def test_control_characters_are_refused_in_every_text_input(
    client: httpx.AsyncClient, world: World, app: FastAPI, db: Database
) -> None:
    callers = await Callers.of(world)
    before, failed_before = await _row_counts(db), await _failed_attempts(db)
    wrong: list[str] = []
    for field in text_inputs(app.openapi()):
        for name, character in REFUSED_EVERYWHERE.items():
            answer = await _send(client, callers, field, character)
            if answer.status_code != 422:
                wrong.append(f"{field} with {name}: {answer.status_code}")
                continue
            if _echoes(answer, character):
                wrong.append(f"{field} with {name}: echoed")
            rules = [e["rule"] for e in _errors_at(answer, field)]
            if not rules:
                wrong.append(f"{field} with {name}: not named")
            elif field.pattern in OURS and rules != [CONTROL_CHARACTER]:
                wrong.append(f"{field} with {name}: {rules}")
    assert wrong == []
    # Refused input changes nothing, but an attempt on a case file is on record as failed (NEN 7513).
    after = await _row_counts(db)
    attempts = after.pop("access_log") - before.pop("access_log")
    assert after == before
    assert attempts == await _failed_attempts(db) - failed_before


async def test_line_breaks_and_tabs_only_where_text_spans_lines(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    callers = await Callers.of(world)
    inputs = [f for f in text_inputs(app.openapi()) if f.pattern in OURS]
    assert {f.pattern for f in inputs} == OURS
    wrong: list[str] = []
    for field in inputs:
        for name, character in LINE_BREAKS_AND_TABS.items():
            answer = await _send(client, callers, field, character)
            refused = [e["rule"] for e in _errors_at(answer, field)] if answer.status_code == 422 else []
            expected = [CONTROL_CHARACTER] if field.pattern == SINGLE_LINE_PATTERN else []
            if refused != expected:
                wrong.append(f"{field} with {name}: {refused}")
    assert wrong == []


async def test_a_refused_name_changes_nothing_and_a_note_keeps_its_lines(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    base = f"/api/v1/households/{household['id']}"
    headers = await world.headers("generalist_a")
    member = await client.post(
        f"{base}/members", json={"given_name": "Anna", "role": "parent"}, headers=headers
    )
    assert member.status_code == 201, member.text
    for name in ("An\x00na", "An\x07na", "An\tna"):
        patched = await client.patch(
            f"{base}/members/{member.json()['id']}",
            json={"given_name": name},
            headers={**headers, "If-Match": member.headers["etag"]},
        )
        assert patched.status_code == 422, patched.text
        assert patched.json()["errors"] == [
            {
                "loc": ["body", "given_name"],
                "message": "Text on one line: no control characters, line breaks or tabs.",
                "rule": CONTROL_CHARACTER,
            }
        ]
    now = await client.get(f"{base}/members/{member.json()['id']}", headers=headers)
    assert (now.json()["given_name"], now.headers["etag"]) == ("Anna", member.headers["etag"])

    note = "Gesprek over de post.\r\nAfspraken:\n\t- brieven sorteren\n\t- bellen met de woningcorporatie"
    contact = await client.post(
        f"{base}/contacts",
        json={"kind": "home_visit", "occurred_at": "2026-01-05T10:00:00Z", "note": note},
        headers=headers,
    )
    assert contact.status_code == 201, contact.text
    assert contact.json()["note"] == note
