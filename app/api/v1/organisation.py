"""Organisation set-up for administrators (scope ``admin``): areas, teams, workers, partners, clients."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from app.api.deps import Requires, Session
from app.api.problems import PROBLEM_RESPONSES
from app.auth.scopes import Scope
from app.domain.organisation.models import Area

router = APIRouter(tags=["organisation"], responses=PROBLEM_RESPONSES)


class AreaRead(BaseModel):
    code: str
    name: str
    level: str


@router.get("/areas", response_model=list[AreaRead], summary="List wijken and buurten")
async def list_areas(session: Session, principal: Requires(Scope.admin)) -> list[AreaRead]:  # type: ignore[valid-type]
    rows = await session.scalars(select(Area).order_by(Area.code))
    return [AreaRead(code=a.code, name=a.name, level=a.level) for a in rows]
