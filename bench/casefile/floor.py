"""The floor: a minimal Starlette + raw asyncpg app doing the same database work per request as Wijkwerk.

Same SQL text, taken from the app's repositories, the same access-log row, in one transaction:

* overview and list: the app's own hot statements (``CHECKED_OVERVIEW``, ``household_page``), which
  check access, write the access-log row and build the JSON in one statement; the floor adds the tier
  and the cursor as the app does;
* contact: BEGIN, the access check of ``get_visible``, the INSERTs of the contact moment, its change
  row and the access-log row (compiled from the same SQLAlchemy constructs), COMMIT;
* sync: the statements the app sent for the benchmark's cursor (captured in process by the runner,
  replayed with a fresh access-log id), in one transaction; rows out with orjson.

No token check (the worker comes from the environment), no middleware. Run by the runner::

    FLOOR_DSN=postgresql://... FLOOR_WORKER=<uuid> uvicorn bench.casefile.floor:app
"""

from __future__ import annotations

import os
import pickle
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.db import RawStatement
from app.domain.assessments.rules import derive_tier
from app.domain.base import table_of
from app.domain.households.access import visible_to
from app.domain.households.models import ContactMoment, Household
from app.domain.readmodel.household_list import household_page
from app.domain.readmodel.overview import OVERVIEW as CHECKED_OVERVIEW
from app.domain.unit_of_work.access_log import ENTRY_COLUMNS, AccessLogEntry
from app.domain.unit_of_work.change_feed import CaseChange
from app.security.principal import Principal
from app.security.scopes import Role
from app.web.cursors import Cursors

PAGE = household_page(frozenset(), False)


def _visible() -> tuple[str, list[str]]:
    """get_visible's query as the app sends it: compiled for a principal, one parameter per use
    (the placeholders are told apart by value; numbered here as asyncpg numbers them)."""
    household, worker = uuid.UUID(int=1), uuid.UUID(int=2)
    principal = Principal(
        subject="", role=Role.generalist, scopes=frozenset(), client_id="", worker_id=worker
    )
    statement = select(Household).where(Household.id == household, visible_to(principal))
    compiled = statement.compile(dialect=postgresql_asyncpg.dialect(paramstyle="pyformat"))
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s|%%", number, compiled.string)
    slots = {household: "household_id", worker: "worker_id"}
    return sql, [slots[compiled.params[name]] for name in names]


def _insert(table: Any, columns: tuple[str, ...]) -> RawStatement:
    return RawStatement.of(
        sa.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
    )


VISIBLE_SQL, VISIBLE_SLOTS = _visible()
# The INSERTs of the contact moment (the ORM's flush), its change row (record_change) and the access-log
# row (the unit of work: the columns a contact's entry fills; no person, no reason).
CONTACT_COLUMNS = ("id", "household_id", "worker_id", "kind", "occurred_at", "minutes", "note", "created_at")
CHANGE_COLUMNS = (
    "household_id",
    "entity",
    "entity_id",
    "op",
    "former_team_id",
    "former_worker_ids",
    "changed_at",
)
LOG_COLUMNS = (
    "id", "occurred_at", "actor_subject", "actor_role", "actor_worker_id", "client_id", "household_id",
    "resource", "resource_id", "action", "purpose", "outcome", "request_id",
)  # fmt: skip
INSERT_CONTACT = _insert(table_of(ContactMoment), CONTACT_COLUMNS)
INSERT_CHANGE = _insert(table_of(CaseChange), CHANGE_COLUMNS)
INSERT_LOG = _insert(table_of(AccessLogEntry), LOG_COLUMNS)


class Floor:
    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.worker = uuid.UUID(os.environ["FLOOR_WORKER"])
        self.cursors = Cursors(os.environ.get("FLOOR_SECRET", "floor"))
        self.identity = {
            "actor_subject": os.environ.get("FLOOR_SUBJECT", "floor"),
            "actor_role": "generalist",
            "actor_worker_id": self.worker,
            "client_id": os.environ.get("FLOOR_CLIENT", "mobile_app"),
            "organisation_id": None,
            "person_id": None,
            "purpose": "casework",
            "reason": None,
        }
        script = os.environ.get("FLOOR_SYNC_SCRIPT")
        self.sync_script: list[tuple[str, tuple[Any, ...]]] = (
            pickle.loads(open(script, "rb").read()) if script else []  # noqa: S301, SIM115 - our own file
        )

    def entry(self, **fields: Any) -> dict[str, Any]:
        entry = {**self.identity, "id": uuid.uuid4(), "request_id": uuid.uuid4().hex, "resource_id": None}
        entry.update(fields)
        return entry

    @staticmethod
    def log(entry: dict[str, Any]) -> dict[str, Any]:
        return {f"log_{name}": entry.get(name) for name in ENTRY_COLUMNS}

    def connection(self) -> Any:
        assert self.pool is not None
        return self.pool.acquire()


floor = Floor()


async def overview(request: Request) -> Response:
    household_id = uuid.UUID(request.path_params["household_id"])
    entry = floor.entry(
        resource="household_overview", action="read", household_id=household_id, outcome="allowed"
    )
    values = {"household_id": household_id, "worker_id": floor.worker, **floor.log(entry)}
    async with floor.connection() as connection:
        row = await connection.fetchrow(CHECKED_OVERVIEW.sql, *CHECKED_OVERVIEW.args(values))
    if row is None:
        return Response(b'{"status":404}', 404, media_type="application/json")
    body = b'{"tier":' + orjson.dumps(derive_tier(list(row["scores"]))) + b"," + row["body"][1:].encode()
    return Response(body, media_type="application/json")


async def households(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "50"))
    entry = floor.entry(resource="household", action="list", household_id=None, outcome="allowed")
    values = {"worker_id": floor.worker, "limit": limit, **floor.log(entry)}
    async with floor.connection() as connection:
        row = await connection.fetchrow(PAGE.sql, *PAGE.args(values))
    following = None
    if row["found"] > limit:
        following = floor.cursors.encode("households", (row["last_created_at"], row["last_id"][0]))
    body = b'{"items":' + row["items"].encode() + b',"next_cursor":' + orjson.dumps(following) + b"}"
    return Response(body, media_type="application/json")


async def contact(request: Request) -> Response:
    household_id = uuid.UUID(request.path_params["household_id"])
    data = orjson.loads(await request.body())
    now = datetime.now(UTC)
    row = {
        "id": uuid.uuid4(),
        "household_id": household_id,
        "worker_id": floor.worker,
        "kind": data["kind"],
        "occurred_at": datetime.fromisoformat(data["occurred_at"]),
        "minutes": int(data.get("minutes", 0)),
        "note": data.get("note") or None,
        "created_at": now,
    }
    change = {
        "household_id": household_id,
        "entity": "contact_moment",
        "entity_id": row["id"],
        "op": "upsert",
    }
    change |= {"former_team_id": None, "former_worker_ids": None, "changed_at": now}
    entry = floor.entry(resource="contact_moment", action="create", household_id=household_id)
    async with floor.connection() as connection, connection.transaction():
        slots = {"household_id": household_id, "worker_id": floor.worker}
        found = await connection.fetchrow(VISIBLE_SQL, *[slots[name] for name in VISIBLE_SLOTS])
        entry |= {"outcome": "allowed" if found else "denied", "resource_id": row["id"], "occurred_at": now}
        if found is not None:
            await connection.execute(INSERT_CONTACT.sql, *INSERT_CONTACT.args(row))
            await connection.execute(INSERT_CHANGE.sql, *INSERT_CHANGE.args(change))
        await connection.execute(INSERT_LOG.sql, *INSERT_LOG.args(entry))
    if found is None:
        return Response(b'{"status":404}', 404, media_type="application/json")
    return Response(orjson.dumps(row), 201, media_type="application/json")


async def sync(request: Request) -> Response:
    results: list[Any] = []
    async with floor.connection() as connection, connection.transaction():
        for sql, args in floor.sync_script:
            if args and isinstance(args[0], tuple):  # an executemany: one tuple per row
                if sql.startswith("INSERT INTO access_log"):
                    args = tuple((uuid.uuid4(), *row[1:]) for row in args)  # fresh row ids (first column)
                await connection.executemany(sql, args)
            elif sql.startswith("INSERT INTO access_log"):
                await connection.execute(sql, uuid.uuid4(), *args[1:])  # a fresh row id (the first column)
            else:
                results.append([dict(r) for r in await connection.fetch(sql, *args)])
    return Response(orjson.dumps(results, default=str), media_type="application/json")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    size = int(os.environ.get("FLOOR_POOL", "10"))  # the app's db_pool_size
    # No reset query on release (asyncpg's default costs a round trip): the floor leaves no session state.
    floor.pool = await asyncpg.create_pool(
        os.environ["FLOOR_DSN"], min_size=size, max_size=size, reset=_no_reset
    )
    try:
        yield
    finally:
        await floor.pool.close()


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/api/v1/households", households),
        Route("/api/v1/households/{household_id}/overview", overview),
        Route("/api/v1/households/{household_id}/contacts", contact, methods=["POST"]),
        Route("/api/v1/sync", sync),
    ],
    lifespan=lifespan,
)
