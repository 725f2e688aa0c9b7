"""Aggregates for municipality BI (scope ``stats:read``): the catalogue and one measure's figures.

JSON by default; ``Accept: text/csv`` gives CSV with stable column names. Only the documented query
parameters are accepted (no free filters): anything else is a 422 naming the parameter. Responses are
serialised straight from the service's rows (orjson), not through a pydantic model per row; the
documented model is StatsResult, and a test checks the bytes against it. Rendered answers are kept
per process by everything they depend on, the rollups' refresh time included, so a repeated request
costs the few small queries that establish that version. A request that finds the rollups older than
the configured age starts a refresh in the background and answers at once.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from app.api.auth import StatsReader
from app.api.deps import UoW
from app.api.problems import PROBLEM_RESPONSES
from app.domain.errors import FieldError, ValidationFailed
from app.domain.inputs import IsoDate
from app.domain.stats import rollups, service
from app.domain.stats.catalogue import Level
from app.domain.stats.periods import LOCAL_TIME_ZONE, Granularity
from app.domain.stats.schemas import CSV_COLUMNS, CatalogueRead, StatsResult
from app.domain.text import SingleLine
from app.web.unit_of_work import WorkRoute

router = APIRouter(prefix="/stats", tags=["stats"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

_PARAMETERS = frozenset({"level", "period", "from", "to", "area"})
_CSV = "text/csv"


def _today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TIME_ZONE)).date()


@router.get("", response_model=CatalogueRead, summary="The catalogue: measures, dimensions, definitions")
async def get_catalogue(request: Request, uow: UoW, principal: StatsReader) -> CatalogueRead:
    return await service.catalogue(uow, service.policy_from(request.app.state.settings))


@router.get(
    "/{measure}",
    response_model=StatsResult,
    summary="One measure per area and period, with disclosure control",
    responses={200: {"content": {_CSV: {"schema": {"type": "string"}}}}},
)
async def get_figures(
    request: Request,
    uow: UoW,
    principal: StatsReader,
    measure: Annotated[SingleLine, Path(description="A measure id from GET /api/v1/stats.", max_length=64)],
    from_: Annotated[IsoDate, Query(alias="from", description="First day of the range (local date).")],
    to: Annotated[IsoDate | None, Query(description="Last day of the range; default today.")] = None,
    level: Annotated[Level, Query(description="Area level of the rows.")] = Level.buurt,
    period: Annotated[Granularity, Query(description="Calendar period of the rows.")] = Granularity.quarter,
    area: Annotated[
        str | None,
        Query(
            description="Rows within this area (GM, WK or BU code); may be left out when the service "
            "holds one municipality.",
            pattern=r"^(GM\d{4}|WK\d{6}|BU\d{8})$",
        ),
    ] = None,
) -> Response:
    unknown = sorted(set(request.query_params) - _PARAMETERS)
    if unknown:
        raise ValidationFailed(
            [
                FieldError(
                    ("query", name), "Unknown parameter: only the documented ones.", "unknown_parameter"
                )
                for name in unknown
            ]
        )
    query = service.FigureQuery(measure, level, period, from_, to, area)
    settings = request.app.state.settings
    csv_wanted = _wants_csv(request.headers.get("accept", ""))
    # Aggregates of the rollups: read where reads may lag a little (a replica, when configured).
    async with uow.reading() as session:
        resolved = await service.resolve(session, query, service.policy_from(settings), _today())
        key = (resolved.version, csv_wanted)
        body = _ANSWERS.get(key)
        if body is None:
            result = await service.compute(session, resolved)
            body = _csv(result).encode() if csv_wanted else _json(result)
            _ANSWERS.put(key, body)
    rollups.refresh_if_stale(request.app.state.db, settings, resolved.as_of)
    return Response(body, media_type=f"{_CSV}; charset=utf-8" if csv_wanted else "application/json")


class _Answers:
    """Rendered answers by everything they depend on (``Resolved.version``: the rollups' refresh
    time, areas, categories, periods, policy, the request), least recently used out, bounded in bytes.
    A refresh of the rollups changes the version, so nothing stale is ever served."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self.entries: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        body = self.entries.get(key)
        if body is not None:
            self.entries.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        self.entries[key] = body
        self.size += len(body)
        while self.size > self.max_bytes and len(self.entries) > 1:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped)


_ANSWERS = _Answers(max_bytes=64 * 1024 * 1024)


def _json(result: service.Figures) -> bytes:
    return orjson.dumps(_document(result), option=orjson.OPT_UTC_Z)  # "Z", as pydantic writes UTC


def _document(result: service.Figures) -> dict[str, Any]:
    """The StatsResult document (see schemas.py), built from plain rows."""
    return {
        "measure": result.measure,
        "unit": result.unit,
        "area": result.area,
        "level": str(result.level),
        "period": str(result.period),
        "from": result.first,
        "to": result.last,
        "as_of": result.as_of,
        "disclosure": result.disclosure.model_dump(mode="json"),
        "rows": result.rows,
    }


def _wants_csv(accept: str) -> bool:
    """CSV when the client prefers it to JSON (a plain ``Accept: text/csv``, or listed first)."""
    ranked = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    for media in ranked:
        if media in (_CSV, "application/json", "application/*", "*/*"):
            return media == _CSV
    return False


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a text cell must not start like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv(result: service.Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        data: dict[str, object] = {**row, "measure": result.measure}
        writer.writerow([_cell(data[c]) for c in CSV_COLUMNS])
    return out.getvalue()
