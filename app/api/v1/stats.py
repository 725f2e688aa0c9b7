"""Aggregates for municipality BI (scope ``stats:read``): the catalogue and one measure's figures.

JSON by default; ``Accept: text/csv`` gives CSV with stable column names. Only the documented query
parameters are accepted (no free filters): anything else is a 422 naming the parameter.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import Requires, Session
from app.api.problems import PROBLEM_RESPONSES
from app.auth.scopes import Scope
from app.domain.errors import FieldError, ValidationFailed
from app.domain.stats import service
from app.domain.stats.catalogue import Level
from app.domain.stats.periods import LOCAL_TIME_ZONE, Granularity
from app.domain.stats.schemas import CSV_COLUMNS, CatalogueRead, StatsResult

router = APIRouter(prefix="/stats", tags=["stats"], responses=PROBLEM_RESPONSES)

_PARAMETERS = frozenset({"level", "period", "from", "to", "area"})
_CSV = "text/csv"


def _today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TIME_ZONE)).date()


@router.get("", response_model=CatalogueRead, summary="The catalogue: measures, dimensions, definitions")
async def get_catalogue(
    request: Request,
    session: Session,
    principal: Requires(Scope.stats_read),  # type: ignore[valid-type]
) -> CatalogueRead:
    return await service.catalogue(session, service.policy_from(request.app.state.settings))


@router.get(
    "/{measure}",
    response_model=StatsResult,
    summary="One measure per area and period, with disclosure control",
    responses={200: {"content": {_CSV: {"schema": {"type": "string"}}}}},
)
async def get_figures(
    request: Request,
    session: Session,
    principal: Requires(Scope.stats_read),  # type: ignore[valid-type]
    measure: Annotated[str, Path(description="A measure id from GET /api/v1/stats.", max_length=64)],
    from_: Annotated[date, Query(alias="from", description="First day of the range (local date).")],
    to: Annotated[date | None, Query(description="Last day of the range; default today.")] = None,
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
    policy = service.policy_from(request.app.state.settings)
    result = await service.figures(session, query, policy, _today())
    if _wants_csv(request.headers.get("accept", "")):
        return Response(_csv(result), media_type=f"{_CSV}; charset=utf-8")
    return JSONResponse(result.model_dump(mode="json", by_alias=True))


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


def _csv(result: StatsResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        data = row.model_dump(mode="json")
        writer.writerow([_cell(result.measure if c == "measure" else data[c]) for c in CSV_COLUMNS])
    return out.getvalue()
