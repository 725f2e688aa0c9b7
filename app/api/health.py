"""Liveness and readiness: public, cheap, and free of any data."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.migrations import current_and_head

router = APIRouter(tags=["operations"])

READY_TIMEOUT_SECONDS = 3.0


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(description="`ok` or `unavailable`.", examples=["ok"])
    database: str = Field(description="`ok` or `unreachable`.", examples=["ok"])
    migrations: str = Field(description="`at_head`, `pending` or `unknown`.", examples=["at_head"])


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
        # Probes give up after a few seconds; answer before they do, even when the network hangs.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
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
