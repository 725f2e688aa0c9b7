"""The floor: a minimal Starlette + raw asyncpg app doing the same database work per request as Wijkwerk.

Same SQL text, taken from the app's repositories, the same access-log row, in one transaction:

* overview and list: the app's own hot statements (``CHECKED_OVERVIEW``, ``household_page``), which
  check access, write the access-log row and build the JSON in one statement; the floor adds the tier
  and the cursor as the app does;
* contact: the app's one statement of a case write (``contacts.CREATE``: access check, open file,
  the contact, its change row and the access-log row), no transaction;
* sync: the statements the app sent for the benchmark's cursor (captured in process by the runner,
  replayed with a fresh access-log id), each on its own as the app sends them; rows out with orjson;
* worklist (a worker's, a team lead's): the route's one statement (``worklist.page_statement``: the
  items, the JSON and the access-log row of every household shown), with the default thresholds;
* upload: per queued edit, in a transaction of its own, the Idempotency-Key's claim, the contact's
  one statement and the stored answer (``idempotency.repository``'s ``CLAIM_IN`` and ``COMPLETE``).

No token check (the worker comes from the environment), no middleware. Run by the runner::

    FLOOR_DSN=postgresql://... FLOOR_WORKER=<uuid> uvicorn bench.casefile.floor:app
"""

from __future__ import annotations

import hashlib
import os
import pickle
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.bootstrap import wiring
from app.db import RawStatement
from app.domain.assessments.rules import derive_tier, local_today
from app.domain.households import contacts
from app.domain.idempotency import repository as idempotency
from app.domain.readmodel.household_list import household_page
from app.domain.readmodel.overview import OVERVIEW as CHECKED_OVERVIEW
from app.domain.readmodel.worklist import View, WorklistPolicy, page_statement
from app.domain.sync import repository as sync_repository
from app.domain.unit_of_work import burden
from app.domain.unit_of_work.access_log import ENTRY_COLUMNS
from app.web.cursors import Cursors

PAGE = household_page(frozenset(), False)
LEASE, RETENTION = timedelta(seconds=60), timedelta(hours=24)  # as the app's Idempotency-Key

CREATE_CONTACT = contacts.CREATE.statement
CLAIM = RawStatement.of(idempotency.CLAIM_IN)
COMPLETE = RawStatement.of(idempotency.COMPLETE)
# The documents of a sync page write the page's access-log rows: a replay needs a fresh entry id.
DOCUMENTS = sync_repository.documents(wiring().sync)
DOCUMENTS_LOG_ID = DOCUMENTS.names.index("log_id")
WORKLIST_PAGES = {view: page_statement(view, after=False) for view in View}
POLICY = WorklistPolicy().values()  # the settings' defaults, as the benchmark's app runs with


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
        self.worklist_callers = {
            View.mine: os.environ.get("FLOOR_WORKLIST_WORKER"),
            View.team: os.environ.get("FLOOR_WORKLIST_LEAD"),
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


def _contact_row(household_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "household_id": household_id,
        "worker_id": floor.worker,
        "kind": data["kind"],
        "occurred_at": datetime.fromisoformat(data["occurred_at"]),
        "minutes": int(data.get("minutes", 0)),
        "note": data.get("note") or None,
        "created_at": datetime.now(UTC),
    }


def _contact_values(row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The statement's values as the app binds them: the row, the access-log entry, the write's own
    facts (``valid``, no parent, the moment) and the request's administrative burden."""
    entry = floor.entry(
        resource="contact_moment", action="create", household_id=row["household_id"], resource_id=row["id"]
    )
    entry |= {"outcome": "allowed", "occurred_at": row["created_at"]}
    values = {f"v_{name}": value for name, value in row.items()}
    facts = {"valid": True, "parent_id": None, "touched_at": row["created_at"]}
    counted = {"b_counted": True, "b_month": burden.local_month(row["created_at"])}
    counted["b_fields"] = burden.fields_entered(body)
    caller = {"household_id": row["household_id"], "worker_id": floor.worker}
    return values | facts | counted | caller | floor.log(entry)


async def contact(request: Request) -> Response:
    household_id = uuid.UUID(request.path_params["household_id"])
    data = orjson.loads(await request.body())
    row = _contact_row(household_id, data)
    async with floor.connection() as connection:
        values = _contact_values(row, data)
        found = await connection.fetchrow(CREATE_CONTACT.sql, *CREATE_CONTACT.args(values))
    if not found["written"]:
        return Response(b'{"status":404}', 404, media_type="application/json")
    return Response(orjson.dumps(row), 201, media_type="application/json")


async def sync(request: Request) -> Response:
    results: list[Any] = []
    async with floor.connection() as connection:
        for sql, args in floor.sync_script:
            if sql == DOCUMENTS.sql:
                args = (*args[:DOCUMENTS_LOG_ID], uuid.uuid4(), *args[DOCUMENTS_LOG_ID + 1 :])
            results.append([dict(r) for r in await connection.fetch(sql, *args)])
    return Response(orjson.dumps(results, default=str), media_type="application/json")


async def worklist(request: Request) -> Response:
    """A worker's worklist (``/api/v1/worklist``) or a team lead's (``/team``): the first page."""
    view = View.team if request.url.path.endswith("/team") else View.mine
    caller = uuid.UUID(str(floor.worklist_callers[view]))
    limit = int(request.query_params.get("limit", "50"))
    role = "team_lead" if view is View.team else "generalist"
    entry = floor.entry(
        resource="worklist", action="list", household_id=None, outcome="allowed",
        actor_worker_id=caller, actor_role=role,
    )  # fmt: skip
    today = local_today(datetime.now(UTC))
    values = {
        **floor.log(entry), **POLICY, "today": today, "worker_id": caller, "kind": None,
        "overdue_only": False, "limit": limit,
    }  # fmt: skip
    if view is View.team:
        values |= {"team_id": None, "coordinator_id": None, "unassigned": False}
    statement = WORKLIST_PAGES[view]
    async with floor.connection() as connection:
        row = await connection.fetchrow(statement.sql, *statement.args(values))
    following = None
    if row["found"] > limit:
        key = (row["last_due"], row["last_kind"], row["last_id"])
        following = floor.cursors.encode("team_worklist" if view is View.team else "worklist", key)
    body = b'{"today":' + orjson.dumps(today) + b',"items":' + row["items"].encode()
    return Response(body + b',"next_cursor":' + orjson.dumps(following) + b"}", media_type="application/json")


async def _claimed_contact(connection: Any, edit: dict[str, Any]) -> dict[str, Any]:
    """One queued contact moment: claim its key, write it, store the answer, in one transaction."""
    household_id = uuid.UUID(edit["path"].split("/")[4])
    row = _contact_row(household_id, edit["body"])
    body = orjson.dumps(row)
    token = uuid.uuid4()
    fingerprint = hashlib.sha256(orjson.dumps(edit)).hexdigest()
    claim = idempotency.claim_params(
        owner=floor.identity["actor_subject"], key=edit["key"], client_id=floor.identity["client_id"],
        fingerprint=fingerprint, claim_token=token, lease=LEASE, retention=RETENTION,
    )  # fmt: skip
    answer = idempotency.StoredAnswer(201, {"content-type": "application/json"}, body, "contact_moment")
    stored = idempotency.complete_params(
        owner=claim["k_owner"], key=edit["key"], claim_token=token, answer=answer
    )
    values = _contact_values(row, edit["body"])
    async with connection.transaction():
        await connection.fetchrow(CLAIM.sql, *CLAIM.args(claim))
        await connection.fetchrow(CREATE_CONTACT.sql, *CREATE_CONTACT.args(values))
        await connection.execute(COMPLETE.sql, *COMPLETE.args(stored))
    return {"status": 201, "body": row}


async def upload(request: Request) -> Response:
    edits = orjson.loads(await request.body())["edits"]
    async with floor.connection() as connection:
        results = [{"index": i, **await _claimed_contact(connection, e)} for i, e in enumerate(edits)]
    return Response(orjson.dumps({"results": results}, default=str), media_type="application/json")


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
        Route("/api/v1/sync/edits", upload, methods=["POST"]),
        Route("/api/v1/worklist", worklist),
        Route("/api/v1/worklist/team", worklist),
    ],
    lifespan=lifespan,
)
