"""Offline edits in one round trip: ``POST /api/v1/sync/edits``.

A phone that worked without a connection queued its case writes (a contact moment after a home visit,
a corrected member, a network person, an assessment...). Back online, it sends the queue in one
request. Each edit is the REST request it stands for (method, path, ``If-Match``, body) with its own
Idempotency-Key, and is applied or refused on its own, in order, by that very route (through
``app.web.subrequest``): the same checks, the same answer, its own unit of work and access-log
entries, its own key (a retried upload replays what was applied; an edit sent alone before and
again in an upload is not applied twice). The answer lists per edit what happened; for a conflict
(412) it carries the object as it is now, with its ETag, so the app can merge and send the edit again.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from app.api.auth import CaseWriter
from app.api.deps import UoW
from app.api.idempotency import REPLAYED_HEADER
from app.api.problems import PROBLEM_RESPONSES
from app.domain.idempotency.models import KEY_MAX_LENGTH, KEY_PATTERN
from app.web.observability import REQUEST_ID
from app.web.subrequest import SubAnswer, SubRequest, send_within
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["sync"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

MAX_EDITS = 100
# The case file's writes: an edit names a path under a household (the route decides what it is).
CASE_PATH = r"^/api/v1/households/[0-9a-fA-F-]{36}(/[0-9A-Za-z_-]+)*$"
_HEADERS_KEPT = ("etag", "location")
# An entity tag as RFC 9110 writes it (visible ASCII without '"' between the quotes): it travels as a
# header of the edit's own request.
ETAG_PATTERN = r'^(W/)?"[\x21\x23-\x7e]*"$'


# A write carries a body and a removal none: stated in the contract (the model's validator enforces it).
_BODY_FITS_METHOD: JsonDict = {
    "if": {"properties": {"method": {"const": "DELETE"}}},
    "then": {"properties": {"body": {"type": "null"}}},
    "else": {"required": ["body"], "properties": {"body": {"type": "object"}}},
}


class QueuedEdit(BaseModel):
    """One case write the phone could not send: the REST request it stands for."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_BODY_FITS_METHOD)

    key: str = Field(
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="The edit's Idempotency-Key (the same rules as the header): a retried upload, or "
        "the same request sent alone, is applied once.",
    )
    method: Literal["POST", "PATCH", "PUT", "DELETE"]
    path: str = Field(
        max_length=300,
        pattern=CASE_PATH,
        description="The route's path, e.g. `/api/v1/households/{id}/contacts` (case data only).",
        examples=["/api/v1/households/01a24e0f-ddd6-7000-8fba-000000006d41/contacts"],
    )
    if_match: str | None = Field(
        default=None,
        max_length=200,
        pattern=ETAG_PATTERN,
        description="The ETag of the version you edited (updates and removals), as in If-Match.",
        examples=['W/"3"'],
    )
    body: dict[str, Any] | None = Field(
        default=None, description="The request body (a JSON object); a DELETE has none."
    )

    @model_validator(mode="after")
    def _body_fits_method(self) -> QueuedEdit:
        if self.method == "DELETE" and self.body is not None:
            raise PydanticCustomError("body_not_allowed", "A DELETE carries no body.")
        if self.method != "DELETE" and self.body is None:
            raise PydanticCustomError("body_required", "A POST, PATCH or PUT needs a body.")
        return self


class QueuedEdits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edits: list[QueuedEdit] = Field(min_length=1, max_length=MAX_EDITS)


class CurrentObject(BaseModel):
    etag: str | None
    body: Any = Field(description="The object as it is now (its REST read).")


class EditResult(BaseModel):
    index: int = Field(description="The edit's position in the request (results keep the order).")
    status: int = Field(description="The status the route answered (201, 200, 204, 404, 409, 412, 422, ...).")
    replayed: bool = Field(description="The edit had been applied before (its key): this is that answer.")
    etag: str | None = None
    location: str | None = None
    body: Any = Field(default=None, description="The answer's body: the object written, or problem+json.")
    current: CurrentObject | None = Field(
        default=None, description="On 412: the object as it is now, to merge your edit with."
    )


class EditResults(BaseModel):
    results: list[EditResult]


def _headers(request: Request, edit: QueuedEdit, index: int) -> dict[str, str]:
    headers = {"authorization": request.headers.get("authorization", ""), "accept": "application/json"}
    if edit.body is not None:
        headers["content-type"] = "application/json"
    headers["idempotency-key"] = edit.key
    if edit.if_match is not None:
        headers["if-match"] = edit.if_match
    parent = REQUEST_ID.get()
    if parent:  # the edit's log lines carry the upload's request id, numbered
        headers["x-request-id"] = f"{parent}-{index}"
    return headers


async def _current(request: Request, edit: QueuedEdit, index: int) -> CurrentObject | None:
    """The object a stale edit named, as it is now (a read of its own, logged as every read is)."""
    headers = {k: v for k, v in _headers(request, edit, index).items() if k in ("authorization", "accept")}
    found = await send_within(request, SubRequest("GET", edit.path, headers))
    if found.status != 200:
        return None
    return CurrentObject(etag=found.headers.get("etag"), body=found.json())


def _result(index: int, answer: SubAnswer) -> EditResult:
    kept = {name: answer.headers.get(name) for name in _HEADERS_KEPT}
    return EditResult(
        index=index,
        status=answer.status,
        replayed=answer.headers.get(REPLAYED_HEADER.lower()) == "true",
        body=answer.json(),
        **kept,
    )


def _encoded(body: dict[str, Any]) -> bytes:
    """The edit's body as its route would have received it sent alone. Python's encoder (not orjson)
    writes any lone surrogate of the upload as the escape it arrived as, so the route judges it."""
    return json.dumps(body, separators=(",", ":")).encode()


@router.post(
    "/sync/edits",
    response_model=EditResults,
    summary="Apply the edits a phone queued offline, each on its own",
    description="Each edit is the case write it stands for (method, path, If-Match, body) with its own "
    "Idempotency-Key, applied in order by that route, exactly as if sent alone: one refused edit "
    "changes nothing and stops nothing else. The answer is 200 with one result per edit; on 412 the "
    "result carries the object as it is now (`current`), to merge with. At most "
    f"{MAX_EDITS} edits per request.",
)
async def apply_edits(request: Request, uow: UoW, principal: CaseWriter, queued: QueuedEdits) -> EditResults:
    # ``uow`` holds the upload's own access-log entry (the caller check writes it); each edit has its own.
    results = []
    for index, edit in enumerate(queued.edits):
        body = _encoded(edit.body) if edit.body is not None else b""
        sub = SubRequest(edit.method, edit.path, _headers(request, edit, index), body)
        result = _result(index, await send_within(request, sub))
        if result.status == 412 and edit.method != "POST":
            result.current = await _current(request, edit, index)
        results.append(result)
    return EditResults(results=results)
