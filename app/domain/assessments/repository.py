"""Every query of the assessments context (and two lookups the other case-file contexts share)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.assessments.models import Assessment, AssessmentScore
from app.domain.assessments.schemas import ScoreRead
from app.domain.documents import json_list, json_object
from app.domain.households.models import Member
from app.domain.reference.models import LifeDomain


async def active_domains(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    """Those of ``codes`` that are configured, active life domains (one query for any number)."""
    wanted = set(codes)
    if not wanted:
        return set()
    rows = await session.scalars(
        select(LifeDomain.code).where(col(LifeDomain.code).in_(wanted), col(LifeDomain.active).is_(True))
    )
    return set(rows)


async def member_in_household(session: AsyncSession, household_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Member.id).where(Member.id == member_id, Member.household_id == household_id)
    )
    return found is not None


async def get(
    session: AsyncSession, household_id: uuid.UUID, assessment_id: uuid.UUID, *, for_update: bool = False
) -> Assessment | None:
    query = select(Assessment).where(Assessment.id == assessment_id, Assessment.household_id == household_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def scores_of(
    session: AsyncSession, assessment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, int]]]:
    """Scores of many assessments in ONE query, in the configured domain order."""
    result: dict[uuid.UUID, list[tuple[str, int]]] = {i: [] for i in assessment_ids}
    if not assessment_ids:
        return result
    rows = await session.execute(
        select(AssessmentScore.assessment_id, AssessmentScore.domain_code, AssessmentScore.score)
        .join(LifeDomain, col(LifeDomain.code) == AssessmentScore.domain_code)
        .where(col(AssessmentScore.assessment_id).in_(assessment_ids))
        .order_by(col(LifeDomain.position), col(LifeDomain.code))
    )
    for assessment_id, domain, score in rows:
        result[assessment_id].append((domain, score))
    return result


async def replace_scores(
    session: AsyncSession, assessment_id: uuid.UUID, scores: Sequence[tuple[str, int]]
) -> None:
    await session.execute(
        sa.delete(AssessmentScore).where(col(AssessmentScore.assessment_id) == assessment_id)
    )
    await session.execute(
        sa.insert(AssessmentScore),
        [{"assessment_id": assessment_id, "domain_code": d, "score": s} for d, s in scores],
    )


async def page(
    session: AsyncSession,
    household_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    after: tuple[date, datetime, uuid.UUID] | None,
    limit: int,
) -> list[Assessment]:
    """Newest first: (assessed_on, created_at, id) descending; ``after`` is the last key seen."""
    query = select(Assessment).where(Assessment.household_id == household_id)
    if member_id is not None:
        query = query.where(Assessment.member_id == member_id)
    if after is not None:
        key = sa.tuple_(col(Assessment.assessed_on), col(Assessment.created_at), col(Assessment.id))
        query = query.where(key < sa.tuple_(*(sa.literal(v) for v in after)))
    query = query.order_by(
        col(Assessment.assessed_on).desc(), col(Assessment.created_at).desc(), col(Assessment.id).desc()
    ).limit(limit)
    return list((await session.scalars(query)).all())


async def latest_scores(session: AsyncSession, household_id: uuid.UUID) -> list[sa.Row[Any]]:
    """The latest score per (member or household, domain): latest ``assessed_on``, then latest recorded.

    Household-level scores first, then per member, each in the configured domain order. The
    overview's statement implements the same ``DISTINCT ON``.
    """
    latest = (
        sa.select(
            col(AssessmentScore.domain_code),
            col(Assessment.member_id),
            col(AssessmentScore.score),
            col(Assessment.assessed_on),
            col(Assessment.id).label("assessment_id"),
        )
        .join(Assessment, col(Assessment.id) == col(AssessmentScore.assessment_id))
        .where(col(Assessment.household_id) == household_id)
        .ext(distinct_on(col(Assessment.member_id), col(AssessmentScore.domain_code)))
        .order_by(
            col(Assessment.member_id),
            col(AssessmentScore.domain_code),
            col(Assessment.assessed_on).desc(),
            col(Assessment.created_at).desc(),
            col(Assessment.id).desc(),
        )
        .subquery()
    )
    rows = await session.execute(
        sa.select(latest)
        .join(LifeDomain, col(LifeDomain.code) == latest.c.domain_code)
        .order_by(latest.c.member_id.nulls_first(), col(LifeDomain.position), col(LifeDomain.code))
    )
    return list(rows.all())


ASSESSMENT_COLUMNS = (
    "id",
    "household_id",
    "member_id",
    "assessed_on",
    "assessed_by",
    "note",
    "version",
    "created_at",
    "updated_at",
)


def scores_json() -> Any:
    """The assessment's scores (``ScoreRead`` objects) in the configured domain order, as a JSON array:
    a scalar subquery over ``assessments``."""
    return (
        sa.select(
            json_list(
                json_object(
                    ScoreRead,
                    {"domain": col(AssessmentScore.domain_code), "score": col(AssessmentScore.score)},
                ),
                col(LifeDomain.position),
                col(LifeDomain.code),
            )
        )
        .select_from(AssessmentScore)
        .join(LifeDomain, col(LifeDomain.code) == col(AssessmentScore.domain_code))
        .where(col(AssessmentScore.assessment_id) == col(Assessment.id))
        .scalar_subquery()
    )


async def read_rows(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[sa.RowMapping]:
    """Assessments with their scores (as AssessmentRead fields) in ONE statement: the export."""
    query = sa.select(
        *(col(getattr(Assessment, name)) for name in ASSESSMENT_COLUMNS), scores_json().label("scores")
    ).where(where)
    return list((await session.execute(query)).mappings().all())
