"""Liveness and readiness: public, cheap, and free of any data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.migrations import current_and_head

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The database is reachable and migrated to head",
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
async def readyz(request: Request) -> JSONResponse:
    try:
        current, head = await current_and_head(request.app.state.db.engine)
    except Exception:  # any failure to reach the database means "not ready", never a 500
        body = Readiness(status="unavailable", database="unreachable", migrations="unknown")
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    at_head = current == head
    body = Readiness(
        status="ok" if at_head else "unavailable",
        database="ok",
        migrations="at_head" if at_head else "pending",
    )
    return JSONResponse(body.model_dump(), status_code=200 if at_head else 503)
