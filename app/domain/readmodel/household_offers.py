"""What is there for this household (``GET /api/v1/households/{id}/offers``): the services of the
sociale kaart and the running resident initiatives in its buurt that match its themes or the life
domains of its open goals, nearest first. One statement whatever the directory's size.

The statement checks access (``visible_to``), writes the access-log row (a read of the household: the
answer reveals its themes and open goals; allowed or denied) and, when allowed, has PostgreSQL build
the page. What matches:

* a **service**: active, of the household's municipality, serving its buurt (a location in it, or a
  service area of the buurt, its wijk or the whole municipality: ``directory.repository.serving_level``,
  whose order is the ranking), carrying one of the household's themes or the life domain of one of
  its open goals (``plans.rules.is_open``: the last evaluation partly or not reached, or none yet);
  workers see non-public services too (``directory.rules.sees_internal``).
* a **running initiative** of the household's own buurt (level ``buurt``) carrying one of its themes
  (initiatives have no life domains).

Ranked by area level (nearest first), then by the number of matching themes and domains (most
first), then by name; keyset-paged on that order.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from app.db import RawStatement
from app.domain.base import table_of
from app.domain.directory.models import DirectoryOrganization, DirectoryService, ServiceStatus
from app.domain.directory.repository import serving_level
from app.domain.directory.rules import AreaLevel
from app.domain.documents import json_list, json_object
from app.domain.errors import NotFound
from app.domain.households.access import case_worker_rule, takes_case_worker_rule
from app.domain.households.models import Household, HouseholdTheme
from app.domain.initiatives.models import Initiative, InitiativeStatus
from app.domain.organisation.models import Area
from app.domain.plans.models import (
    OPEN_RESULTS,
    Plan,
    PlanEvaluation,
    PlanGoal,
    PlanGoalEvaluation,
    PlanStatus,
)
from app.domain.readmodel.household_offers_schemas import OfferRead
from app.domain.unit_of_work.access_log import AccessAction, inline_cte
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RESOURCE = "household_offers"
Key = tuple[int, int, str, uuid.UUID]  # (area level, minus the matches, name, id)

HOUSEHOLD = sa.bindparam("household_id", type_=sa.Uuid)
AFTER_LEVEL = sa.bindparam("after_level", type_=sa.Integer)
AFTER_MATCHES = sa.bindparam("after_matches", type_=sa.Integer)
AFTER_NAME = sa.bindparam("after_name", type_=sa.String)
AFTER_ID = sa.bindparam("after_id", type_=sa.Uuid)
LIMIT = sa.bindparam("limit", type_=sa.Integer)

HH = table_of(Household)
THEMES = table_of(HouseholdTheme)
AREA = table_of(Area)
SVC = table_of(DirectoryService)
ORG = table_of(DirectoryOrganization)
INI = table_of(Initiative)
PLAN = table_of(Plan)
GOAL = table_of(PlanGoal)
EVALUATION = table_of(PlanEvaluation)
RESULT = table_of(PlanGoalEvaluation)
CODES = ARRAY(sa.String)


def _codes(select: sa.Select[Any]) -> Any:
    """The codes ``select`` finds, as a text array (empty when none)."""
    return sa.func.coalesce(select.scalar_subquery(), sa.cast(sa.literal_column("'{}'"), CODES))


def _open_goal_domains() -> Any:
    """The life domains of the open goals of the household's active plan version."""
    last_result = (
        sa.select(RESULT.c.result)
        .select_from(RESULT.join(EVALUATION, EVALUATION.c.id == RESULT.c.evaluation_id))
        .where(RESULT.c.goal_id == GOAL.c.id)
        .order_by(EVALUATION.c.evaluated_on.desc(), EVALUATION.c.created_at.desc())
        .limit(sa.literal_column("1"))
        .scalar_subquery()
    )
    open_results: list[Any] = [sa.literal_column(f"'{r}'") for r in sorted(OPEN_RESULTS)]
    still_open = sa.or_(last_result.is_(None), last_result.in_(open_results))
    return _codes(
        sa.select(sa.func.array_agg(sa.distinct(GOAL.c.domain_code)))
        .select_from(GOAL.join(PLAN, PLAN.c.id == GOAL.c.plan_id))
        .where(
            PLAN.c.household_id == HOUSEHOLD,
            PLAN.c.status == sa.literal_column(f"'{PlanStatus.active}'"),
            still_open,
        )
    )


def _matched(codes: Any, wanted: Any) -> Any:
    """The elements of the array ``codes`` that are in ``wanted``, as an array (empty when none)."""
    each = sa.func.unnest(codes).table_valued("code").render_derived(name="each_code")
    return _codes(
        sa.select(sa.func.array_agg(each.c.code)).select_from(each).where(each.c.code == sa.any_(wanted))
    )


def _statement() -> RawStatement:
    visible = sa.select(HH.c.id, HH.c.buurt_id).where(HH.c.id == HOUSEHOLD, case_worker_rule()).cte("visible")
    logged = inline_cte(outcome="CASE WHEN EXISTS (SELECT 1 FROM visible) THEN 'allowed' ELSE 'denied' END")
    themes = _codes(
        sa.select(sa.func.array_agg(THEMES.c.theme_code)).where(THEMES.c.household_id == HOUSEHOLD)
    )
    wanted = (
        sa.select(
            visible.c.buurt_id,
            AREA.c.parent_id.label("wijk_id"),
            AREA.c.municipality_id,
            themes.label("themes"),
            _open_goal_domains().label("domains"),
        )
        .select_from(visible.join(AREA, AREA.c.id == visible.c.buurt_id))
        .cte("wanted")
    )
    level = serving_level(wanted.c.buurt_id, wanted.c.wijk_id)
    service_themes, service_domains = (
        _matched(SVC.c.themes, wanted.c.themes),
        _matched(SVC.c.life_domains, wanted.c.domains),
    )
    services = (
        sa.select(
            sa.literal_column("'service'").label("kind"),
            SVC.c.id,
            SVC.c.name,
            ORG.c.name.label("organization_name"),
            level.label("level"),
            service_themes.label("themes"),
            service_domains.label("life_domains"),
        )
        .select_from(SVC.join(ORG, ORG.c.id == SVC.c.organization_id).join(wanted, sa.true()))
        .where(
            SVC.c.status == sa.literal_column(f"'{ServiceStatus.active}'"),
            ORG.c.municipality_id == wanted.c.municipality_id,
            sa.or_(SVC.c.themes.op("&&")(wanted.c.themes), SVC.c.life_domains.op("&&")(wanted.c.domains)),
            level.is_not(None),
        )
    )
    initiatives = (
        sa.select(
            sa.literal_column("'initiative'").label("kind"),
            INI.c.id,
            INI.c.title.label("name"),
            sa.null().label("organization_name"),
            sa.literal_column(str(int(AreaLevel.buurt))).label("level"),
            _matched(INI.c.themes, wanted.c.themes).label("themes"),
            sa.cast(sa.literal_column("'{}'"), CODES).label("life_domains"),
        )
        .select_from(INI.join(wanted, INI.c.buurt_id == wanted.c.buurt_id))
        .where(
            INI.c.status == sa.literal_column(f"'{InitiativeStatus.running}'"),
            INI.c.themes.op("&&")(wanted.c.themes),
        )
    )
    offers = sa.union_all(services, initiatives).subquery("offers")
    minus_matches = -(sa.func.cardinality(offers.c.themes) + sa.func.cardinality(offers.c.life_domains))
    key = (offers.c.level, minus_matches, offers.c.name, offers.c.id)
    after = sa.or_(
        AFTER_ID.is_(None), sa.tuple_(*key) > sa.tuple_(AFTER_LEVEL, AFTER_MATCHES, AFTER_NAME, AFTER_ID)
    )
    page = (
        sa.select(*offers.c, minus_matches.label("minus_matches"))
        .where(after)
        .order_by(*key)
        .limit(LIMIT)
        .subquery("page")
    )
    level_names = sa.case(
        *(
            (page.c.level == sa.literal_column(str(int(v))), sa.literal_column(f"'{v.name}'"))
            for v in AreaLevel
        )
    )
    document = json_object(
        OfferRead,
        {
            "kind": page.c.kind,
            "id": page.c.id,
            "name": page.c.name,
            "organization_name": page.c.organization_name,
            "area_level": level_names,
            "matching_themes": page.c.themes,
            "matching_life_domains": page.c.life_domains,
        },
    )
    items = sa.select(json_list(document, page.c.level, page.c.minus_matches, page.c.name, page.c.id))
    outcome = sa.select(logged.c.outcome).scalar_subquery().label("outcome")
    found = sa.case((sa.exists(sa.select(visible.c.id)), items.scalar_subquery())).label("items")
    return RawStatement.of(sa.select(outcome, found).add_cte(visible))


OFFERS = _statement()


async def household_offers(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, *, limit: int, after: Key | None
) -> list[OfferRead]:
    """Up to ``limit`` offers after ``after`` (``key_of`` each); a household the caller may not see
    answers like a missing one. Exactly one access-log row either way."""
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.read, household_id=household_id)
    found = None
    if takes_case_worker_rule(principal):
        level, matches, name, last = after if after is not None else (None, None, None, None)
        values = {
            "household_id": household_id,
            "worker_id": principal.worker_id,
            "after_level": level,
            "after_matches": matches,
            "after_name": name,
            "after_id": last,
            "limit": limit,
            **entry.params(),
        }
        found = await uow.fetch_one(OFFERS, values)
        uow.written_by_statement(entry)
    else:  # visible_to is false for anyone else: a denial, written with the work
        entry.outcome = "denied"
    if found is None or found["items"] is None:
        raise NotFound("household")
    items = found["items"]
    return [OfferRead.model_validate(i) for i in (orjson.loads(items) if isinstance(items, str) else items)]


def key_of(offer: OfferRead) -> Key:
    """Where the offer sits in the ranking (the statement's order)."""
    matches = len(offer.matching_themes) + len(offer.matching_life_domains)
    return (int(AreaLevel[offer.area_level]), -matches, offer.name, offer.id)
