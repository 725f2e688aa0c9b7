"""The overview's single statement: PostgreSQL builds the whole JSON document.

One round trip whatever the household's size (a constant number of statements, no ORM hydration,
no pydantic on the way out): the hot read path of the team app. The tier is not computed here: the
statement also returns the latest scores, and ``rules.derive_tier`` (the one place the rule lives)
decides. A test checks the document against ``HouseholdOverview``.

Case workers get ``checked_overview``: the same document, with the access check and the access-log
row in the same statement (see the hot reads in ``households.repository``).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.households.models import Household
from app.domain.households.repository import (
    HotReads,
    RawStatement,
    access_logged,
    case_worker_rule,
    log_values,
)
from app.domain.support_network.models import SupportKind

RECENT_CONTACTS = 5

_BY_SUPPORT_KIND = ", ".join(
    f"'{kind}', count(*) FILTER (WHERE '{kind}' = ANY(np.support_kinds))" for kind in SupportKind
)

# The latest score per (member, domain): the input of the tier and of 'latest_scores'.
_LATEST = """
    SELECT DISTINCT ON (a.member_id, s.domain_code)
           s.domain_code, a.member_id, s.score, a.assessed_on
      FROM assessment_scores s
      JOIN assessments a ON a.id = s.assessment_id
     WHERE a.household_id = :household_id
     ORDER BY a.member_id, s.domain_code, a.assessed_on DESC, a.created_at DESC, a.id DESC
"""
_SCORES = "(SELECT coalesce(array_agg(score), '{}') FROM latest) AS scores"

# The document without the tier (reads the CTE ``latest``).
_DOCUMENT = f"""
  json_build_object(
    'household', (
      SELECT json_build_object(
        'id', h.id, 'reference', h.reference, 'status', h.status, 'confidential', h.confidential,
        'team_id', h.team_id, 'buurt_code', b.code, 'buurt_name', b.name, 'postcode', h.postcode,
        'house_number', h.house_number, 'house_number_addition', h.house_number_addition,
        'coordinator_id', h.coordinator_id, 'coordinator_name', w.name,
        'registered_at', h.registered_at, 'closed_at', h.closed_at,
        'closing_reason', h.closing_reason, 'version', h.version)
        FROM households h
        JOIN areas b ON b.id = h.buurt_id
        LEFT JOIN workers w ON w.id = h.coordinator_id
       WHERE h.id = :household_id),
    'members', coalesce((
      SELECT json_agg(json_build_object(
               'id', m.id, 'given_name', m.given_name, 'family_name', m.family_name,
               'birth_date', m.birth_date, 'role', m.role, 'has_bsn', m.bsn_index IS NOT NULL)
             ORDER BY m.created_at, m.id)
        FROM members m WHERE m.household_id = :household_id), '[]'),
    'latest_scores', coalesce((
      SELECT json_agg(json_build_object(
               'domain', l.domain_code, 'member_id', l.member_id, 'score', l.score,
               'assessed_on', l.assessed_on)
             ORDER BY l.member_id NULLS FIRST, d.position, d.code)
        FROM latest l JOIN life_domains d ON d.code = l.domain_code), '[]'),
    'plan', (
      SELECT json_build_object(
        'id', p.id, 'revision', p.revision, 'status', p.status,
        'evaluation_date', p.evaluation_date, 'agreed_at', p.agreed_at,
        'agreed_by_member_id', p.agreed_by_member_id, 'version', p.version,
        'goals', coalesce((
          SELECT json_agg(json_build_object(
                   'id', g.id, 'domain', g.domain_code, 'target_score', g.target_score,
                   'description', g.description)
                 ORDER BY g.position, g.created_at, g.id)
            FROM plan_goals g WHERE g.plan_id = p.id), '[]'),
        'open_actions', coalesce((
          SELECT json_agg(json_build_object(
                   'id', x.id, 'goal_id', x.goal_id, 'description', x.description,
                   'performer_kind', x.performer_kind, 'network_person_id', x.network_person_id,
                   'worker_id', x.worker_id, 'referral_id', x.referral_id, 'due_date', x.due_date,
                   'referral', (SELECT json_build_object(
                                  'status', r.status, 'organisation_id', r.organisation_id,
                                  'updated_at', r.updated_at)
                                  FROM referrals r WHERE r.id = x.referral_id))
                 ORDER BY x.due_date NULLS LAST, x.position, x.id)
            FROM plan_actions x WHERE x.plan_id = p.id AND NOT x.done), '[]'))
        FROM plans p
       WHERE p.household_id = :household_id AND p.status = 'active'),
    'recent_contacts', coalesce((
      SELECT json_agg(json_build_object(
               'id', c.id, 'kind', c.kind, 'occurred_at', c.occurred_at, 'minutes', c.minutes,
               'worker_id', c.worker_id, 'note', c.note)
             ORDER BY c.occurred_at DESC, c.id DESC)
        FROM (SELECT * FROM contact_moments
               WHERE household_id = :household_id
               ORDER BY occurred_at DESC, id DESC
               LIMIT {RECENT_CONTACTS}) c), '[]'),
    'themes', coalesce((
      SELECT json_agg(t.theme_code ORDER BY th.position, t.theme_code)
        FROM household_themes t JOIN themes th ON th.code = t.theme_code
       WHERE t.household_id = :household_id), '[]'),
    'network', (
      SELECT json_build_object(
        'people', count(*),
        'engaged', count(*) FILTER (WHERE np.engaged),
        'by_support_kind', json_build_object({_BY_SUPPORT_KIND}),
        'engaged_people', coalesce(
          json_agg(json_build_object(
                     'id', np.id, 'label', np.label, 'relation', np.relation,
                     'support_kinds', np.support_kinds)
                   ORDER BY np.created_at, np.id) FILTER (WHERE np.engaged), '[]'))
        FROM network_people np WHERE np.household_id = :household_id)
  )::text AS body
"""  # noqa: S608 - no user input: the only interpolations are the enum's values and a constant

HOUSEHOLD = sa.bindparam("household_id", type_=sa.Uuid)
OVERVIEW_SQL = sa.text(f"WITH latest AS ({_LATEST})\nSELECT\n  {_SCORES},{_DOCUMENT}").bindparams(HOUSEHOLD)


async def overview(session: AsyncSession, household_id: uuid.UUID) -> tuple[list[int], str]:
    """The latest scores (for the tier) and the JSON document without the tier."""
    row = (await session.execute(OVERVIEW_SQL, {"household_id": household_id})).one()
    return list(row.scores), str(row.body)


def _checked() -> RawStatement:
    """The overview as the team app reads it: ONE statement that checks access (``visible_to``), writes
    the access-log row (allowed or denied) and builds the document, only when allowed. Returns the
    outcome, the scores and the body, or no row when the household is hidden (or missing)."""
    visible = (
        sa.select(col(Household.id)).where(col(Household.id) == HOUSEHOLD, case_worker_rule()).cte("visible")
    )
    allowed = sa.exists(sa.select(visible.c.id))
    logged = access_logged(
        sa.case((allowed, sa.literal_column("'allowed'")), else_=sa.literal_column("'denied'"))
    )
    latest = sa.text(_LATEST).bindparams(HOUSEHOLD).columns(sa.column("score")).cte("latest")
    document = sa.text(f"{_SCORES},{_DOCUMENT}").bindparams(HOUSEHOLD)
    outcome = sa.select(logged.c.outcome).scalar_subquery().label("outcome")
    return RawStatement.of(sa.select(outcome, document).add_cte(latest).where(allowed))


CHECKED_OVERVIEW = _checked()


async def checked_overview(
    hot: HotReads, worker_id: uuid.UUID, household_id: uuid.UUID, entry: dict[str, Any]
) -> tuple[list[int], str] | None:
    """(latest scores, document without the tier) when the worker may see the household, else None;
    either way the access-log row ``entry`` is written, with its outcome, in the same statement."""
    values = {"household_id": household_id, "worker_id": worker_id, **log_values(entry)}
    row = await hot.fetch_one(CHECKED_OVERVIEW, values)
    return (list(row["scores"]), str(row["body"])) if row is not None else None
