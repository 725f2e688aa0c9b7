"""The household overview (``GET /api/v1/households/{id}/overview``): the team app's household
screen, one statement whatever the household's size.

The statement checks access (``visible_to``), writes the access-log row (allowed or denied) and,
when allowed, has PostgreSQL build the whole JSON document. The tier is not computed here: the
statement also returns the latest scores, and ``assessments.rules.derive_tier`` (the one place the
rule lives) decides. A test checks the document against ``HouseholdOverview``.
"""

from __future__ import annotations

import uuid

import orjson
import sqlalchemy as sa
from sqlmodel import col

from app.db import RawStatement
from app.domain.assessments.rules import derive_tier
from app.domain.documents import api_json, iso_utc_sql
from app.domain.errors import NotFound
from app.domain.households.access import case_worker_rule, takes_case_worker_rule
from app.domain.households.models import Household
from app.domain.support_network.models import SupportKind
from app.domain.unit_of_work.access_log import AccessAction, inline_cte
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

RECENT_CONTACTS = 5
iso = iso_utc_sql

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
        'registered_at', {iso("h.registered_at")}, 'closed_at', {iso("h.closed_at")},
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
        'evaluation_date', p.evaluation_date, 'agreed_at', {iso("p.agreed_at")},
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
                                  'updated_at', {iso("r.updated_at")})
                                  FROM referrals r WHERE r.id = x.referral_id))
                 ORDER BY x.due_date NULLS LAST, x.position, x.id)
            FROM plan_actions x WHERE x.plan_id = p.id AND NOT x.done), '[]'))
        FROM plans p
       WHERE p.household_id = :household_id AND p.status = 'active'),
    'recent_contacts', coalesce((
      SELECT json_agg(json_build_object(
               'id', c.id, 'kind', c.kind, 'occurred_at', {iso("c.occurred_at")}, 'minutes', c.minutes,
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
RESOURCE = "household_overview"


def _statement() -> RawStatement:
    """ONE statement that checks access (``visible_to``), writes the access-log row (allowed or
    denied) and builds the document, only when allowed. Returns the scores and the body, or no row
    when the household is hidden (or missing)."""
    visible = (
        sa.select(col(Household.id)).where(col(Household.id) == HOUSEHOLD, case_worker_rule()).cte("visible")
    )
    allowed = sa.exists(sa.select(visible.c.id))
    logged = inline_cte(outcome="CASE WHEN EXISTS (SELECT 1 FROM visible) THEN 'allowed' ELSE 'denied' END")
    latest = sa.text(_LATEST).bindparams(HOUSEHOLD).columns(sa.column("score")).cte("latest")
    document = sa.text(f"{_SCORES},{_DOCUMENT}").bindparams(HOUSEHOLD)
    outcome = sa.select(logged.c.outcome).scalar_subquery().label("outcome")
    return RawStatement.of(sa.select(outcome, document).add_cte(visible).add_cte(latest).where(allowed))


OVERVIEW = _statement()


async def overview_json(uow: UnitOfWork, principal: Principal, household_id: uuid.UUID) -> bytes:
    """The overview as ready-to-send JSON bytes (shape: ``HouseholdOverview``); a household the caller
    may not see answers like a missing one. Exactly one access-log row either way."""
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.read, household_id=household_id)
    found = None
    if takes_case_worker_rule(principal):
        values = {"household_id": household_id, "worker_id": principal.worker_id, **entry.params()}
        found = await uow.fetch_one(OVERVIEW, values)
        uow.written_by_statement(entry)
    else:  # visible_to is false for anyone else: a denial, written with the work
        entry.outcome = "denied"
    if found is None:
        raise NotFound("household")
    return _with_tier(list(found["scores"]), str(found["body"]))


def _with_tier(scores: list[int], body: str) -> bytes:
    # The document is a JSON object: put the tier in front of its first member.
    return b'{"tier":' + orjson.dumps(derive_tier(scores)) + b"," + api_json(body)[1:]
