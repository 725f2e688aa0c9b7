"""The worklist: what needs the caller next, for their households (``mine``) or, for a team lead,
every household of their teams (``team``), with the team's caseload per worker.

One statement per answer, whatever the caseload: the households in view (``scope``: the access rule
``visible_to`` with the worker as a parameter, open files only), the items of its households
(``SCOPE_ITEMS``: the one row of each one's stored facts, ``WorklistFacts``, and one ``UNION ALL``
of the kinds of due items worked out from them, ``HOUSEHOLD_ITEMS``; referrals and consents are read
only for a household whose facts say it has one to list), and the team's items (waiting referrals,
break-glass grants, signals); PostgreSQL pages, sorts and writes the JSON, and the access-log row of
every household the page shows (``inline_sql(each_of=...)``), in the same round trip.

An item has a due date and a date from which it is listed (``show_from``, usually the due date less
the horizon): both follow from the data and the settings alone, never from today, so a phone that
holds a household's items (the sync entity ``worklist``, see ``sync_and_export.py``) lists them by its
own calendar, offline. ``today`` only decides which items an answer lists and which are ``overdue``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from app.db import RawStatement
from app.domain.assessments.models import HouseholdTier
from app.domain.base import table_of
from app.domain.documents import constant, json_object_sql
from app.domain.households.access import CASE_WORKER, case_worker_rule, takes_case_worker_rule
from app.domain.households.models import Household, HouseholdAssignment, HouseholdStatus
from app.domain.readmodel.worklist_facts import WorklistFacts
from app.domain.readmodel.worklist_schemas import WorkItem, WorkKind
from app.domain.unit_of_work.access_log import AccessAction, inline_cte
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.settings import Settings

RESOURCE = "worklist"


class View(StrEnum):
    mine = "mine"  # the caller's households (coordinator or assigned), and the team's waiting referrals
    team = "team"  # a team lead: every household of the team(s) in view, per coordinator


@dataclass(frozen=True)
class WorklistPolicy:
    """The thresholds of the items (``Settings.worklist_*``)."""

    horizon_days: int = 14
    contact_weeks: tuple[tuple[str, int], ...] = (
        ("specialist", 2),
        ("support", 4),
        ("self_reliant", 8),
        ("none", 4),
    )
    inbound_decision_days: int = 3
    partner_response_days: int = 10
    consent_expiry_days: int = 30
    plan_agreement_days: int = 42
    break_glass_review_days: int = 7
    aftercare_weeks: int = 13

    @classmethod
    def from_settings(cls, settings: Settings) -> WorklistPolicy:
        return cls(
            horizon_days=settings.worklist_horizon_days,
            contact_weeks=tuple(sorted(settings.worklist_contact_weeks.items())),
            inbound_decision_days=settings.worklist_inbound_decision_days,
            partner_response_days=settings.worklist_partner_response_days,
            consent_expiry_days=settings.worklist_consent_expiry_days,
            plan_agreement_days=settings.worklist_plan_agreement_days,
            break_glass_review_days=settings.worklist_break_glass_review_days,
            aftercare_weeks=settings.worklist_aftercare_weeks,
        )

    def values(self) -> dict[str, Any]:
        weeks = dict(self.contact_weeks)
        return {
            "horizon": self.horizon_days,
            "weeks_specialist": weeks["specialist"],
            "weeks_support": weeks["support"],
            "weeks_self_reliant": weeks["self_reliant"],
            "weeks_none": weeks["none"],
            "inbound_days": self.inbound_decision_days,
            "partner_days": self.partner_response_days,
            "consent_days": self.consent_expiry_days,
            "agreement_days": self.plan_agreement_days,
            "review_days": self.break_glass_review_days,
            "aftercare_weeks": self.aftercare_weeks,
        }


@dataclass(frozen=True)
class WorklistFilter:
    kind: WorkKind | None = None
    overdue_only: bool = False
    team_id: uuid.UUID | None = None  # team view: one of the lead's teams
    coordinator_id: uuid.UUID | None = None  # team view: one worker's households
    unassigned: bool = False  # team view: only households without a coordinator


def _day(column: str) -> str:
    """A timestamp's local (Dutch) calendar date."""
    return f"({column} AT TIME ZONE 'Europe/Amsterdam')::date"


# The stored tier of each household that has scores (``HouseholdTier``: PostgreSQL keeps it where the
# scores are written, migration 0205); the caseload reads it.
TIERS = table_of(HouseholdTier).name

# The worklist's facts of each household (``WorklistFacts``: its tier, last contact, active plan, oldest
# outbound referral waiting, latest consent end), kept by PostgreSQL where their sources are written
# (migration 0270), so a household's items are one row's arithmetic instead of a probe of five tables.
FACTS = table_of(WorklistFacts).name
FACT_COLUMNS = tuple(name for name in WorklistFacts.model_fields if name != "household_id")
_FACTS_OF_F = ", ".join(f"f.{column}" for column in FACT_COLUMNS)  # a scope row's facts, read as f

# Items of the household in ``scope`` (one row with its facts, see ``items_of``): (kind, due_on, show_from,
# listed_until, household_id, object_type, object_id, detail). The referrals and consents are read only
# for a household whose facts say it has one to list. Nothing here reads today: the route judges the items
# by its ``today`` (``page_statement``), the sync entity ships them as they are (``sync_and_export.py``),
# both from this one text.
HOUSEHOLD_ITEMS = f"""
SELECT '{WorkKind.plan_evaluation}'::text AS kind, h.plan_evaluation_date AS due_on,
       h.plan_evaluation_date - :horizon AS show_from, NULL::date AS listed_until, h.id AS household_id,
       'plan'::text AS object_type, h.plan_id AS object_id,
       json_build_object('revision', h.plan_revision) AS detail
  FROM scope AS h
 WHERE h.plan_agreed AND h.plan_evaluation_date IS NOT NULL
UNION ALL
SELECT '{WorkKind.no_contact}', c.since + 7 * c.weeks, c.since + 7 * c.weeks - :horizon, NULL, c.id,
       'household', c.id, json_build_object('last_contact_on', c.last_on, 'tier', c.tier, 'weeks', c.weeks)
  FROM (SELECT h.id, h.tier, h.last_contact_on AS last_on,
               COALESCE(h.last_contact_on, {_day("h.registered_at")}) AS since,
               CASE h.tier WHEN 'specialist' THEN :weeks_specialist WHEN 'support' THEN :weeks_support
                           WHEN 'self_reliant' THEN :weeks_self_reliant ELSE :weeks_none END AS weeks
          FROM scope AS h) AS c
UNION ALL
SELECT '{WorkKind.plan_not_agreed}', {_day("h.registered_at")} + :agreement_days,
       {_day("h.registered_at")} + :agreement_days, NULL, h.id, 'household', h.id,
       json_build_object('registered_on', {_day("h.registered_at")}, 'plan_id', h.plan_id)
  FROM scope AS h
 WHERE h.status IN ('{HouseholdStatus.registered}', '{HouseholdStatus.intake}') AND h.plan_agreed IS NOT TRUE
UNION ALL
SELECT '{WorkKind.referral_no_response}', {_day("r.created_at")} + :partner_days,
       {_day("r.created_at")} + :partner_days, NULL, h.id, 'referral', r.id,
       json_build_object('organisation_id', r.organisation_id, 'reason_domain', r.reason_domain,
                         'submitted_on', {_day("r.created_at")})
  FROM scope AS h JOIN referrals AS r ON r.household_id = h.id
 WHERE h.outbound_waiting_since IS NOT NULL AND r.direction = 'outbound' AND r.status = 'submitted'
UNION ALL
SELECT '{WorkKind.consent_expiring}', c.valid_until, c.valid_until - :consent_days, c.valid_until, h.id,
       'consent', c.id,
       json_build_object('organisation_id', c.organisation_id, 'purpose', c.purpose, 'member_id', c.member_id)
  FROM scope AS h JOIN consents AS c ON c.household_id = h.id
 WHERE h.consent_valid_until IS NOT NULL AND c.withdrawn_at IS NULL AND c.valid_until IS NOT NULL
UNION ALL
SELECT '{WorkKind.aftercare_ending}', {_day("h.aftercare_since")} + 7 * :aftercare_weeks,
       {_day("h.aftercare_since")} + 7 * :aftercare_weeks - :horizon, NULL, h.id, 'household', h.id,
       json_build_object('aftercare_since', {_day("h.aftercare_since")})
  FROM scope AS h
 WHERE h.status = '{HouseholdStatus.aftercare}' AND h.aftercare_since IS NOT NULL"""  # noqa: S608

# The columns of a household the items read (a row of the route's ``scope``).
SCOPE_COLUMNS = ("id", "reference", "coordinator_id", "status", "registered_at", "aftercare_since")


def items_of(household: str) -> str:
    """``HOUSEHOLD_ITEMS`` of the one household ``household`` (a row with ``SCOPE_COLUMNS``, of the
    enclosing query): a subquery to correlate to it, run once per household. The sync entity makes
    each document with it; the route runs the same ``HOUSEHOLD_ITEMS`` once over its whole scope
    (``SCOPE_ITEMS``), so both have the one text. Per household it reads the one row of its facts (by
    primary key; none yet is a household without contacts, plans or scores), and its referrals or
    consents only when the facts say there is one to list (the subquery, having a WITH, is never
    merged into the outer join)."""
    columns = ", ".join(f"{household}.{column}" for column in SCOPE_COLUMNS)
    joined = f"(VALUES (1)) AS one (n) LEFT JOIN {FACTS} AS f ON f.household_id = {household}.id"
    return f"WITH scope AS (SELECT {columns}, {_FACTS_OF_F} FROM {joined})\n{HOUSEHOLD_ITEMS}"  # noqa: S608


# The items of every household of the route's scope, as one set: each household's facts by primary
# key (a lateral subquery, so a probe per household whatever PostgreSQL guesses of the scope's size),
# then ``HOUSEHOLD_ITEMS`` once over them all (run per household, its six arms cost a rescan each).
# The inner ``scope`` reads the outer one: a CTE's own name is not in sight in its definition.
SCOPE_ITEMS = f"""SELECT item.* FROM (WITH scope AS MATERIALIZED (
    SELECT {", ".join(f"hh.{column}" for column in SCOPE_COLUMNS)}, {_FACTS_OF_F}
      FROM scope AS hh LEFT JOIN LATERAL (
           SELECT * FROM {FACTS} AS facts WHERE facts.household_id = hh.id OFFSET 0) AS f ON true)
{HOUSEHOLD_ITEMS}) AS item"""  # noqa: S608


# An inbound referral of the team(s) in view that waits for a decision: urgent ones are due at once.
# The teams as an array, so the waiting referrals' index is probed per team (as a join PostgreSQL reads
# the waiting referrals of every team and keeps the team's).
WAITING_REFERRALS = f"""
SELECT '{WorkKind.referral_waiting}', {_day("r.created_at")}
           + CASE WHEN r.urgency = 'routine' THEN :inbound_days ELSE 0 END,
       {_day("r.created_at")}, NULL, NULL::uuid, 'referral', r.id,
       json_build_object('urgency', r.urgency, 'reason_domain', r.reason_domain, 'team_id', r.team_id,
                         'submitted_on', {_day("r.created_at")})
  FROM referrals AS r
 WHERE r.direction = 'inbound' AND r.status = 'submitted' AND r.household_id IS NULL
   AND r.team_id = ANY (ARRAY(SELECT team_id FROM teams_in_view))"""  # noqa: S608

# Team leads: break-glass uses in their teams nobody reviewed yet (another lead reviews one's own), and
# households without a coordinator.
TEAM_ITEMS = f"""
SELECT '{WorkKind.break_glass_review}', {_day("g.granted_at")} + :review_days, {_day("g.granted_at")},
       NULL, g.household_id, 'break_glass_grant', g.id,
       json_build_object('worker_id', g.worker_id, 'granted_at', g.granted_at, 'expires_at', g.expires_at,
                         'reason', g.reason)
  FROM break_glass_grants AS g JOIN households AS gh ON gh.id = g.household_id
 WHERE g.reviewed_at IS NULL AND g.worker_id <> :worker_id
   AND gh.team_id IN (SELECT team_id FROM teams_in_view)
UNION ALL
SELECT '{WorkKind.no_coordinator}', {_day("h.registered_at")}, {_day("h.registered_at")}, NULL, h.id,
       'household', h.id, json_build_object('status', h.status)
  FROM scope AS h WHERE h.coordinator_id IS NULL"""  # noqa: S608


# Team leads: a signal of their team(s) the policy staff answered, until they close it with the outcome
# (the team acts on the answer: an exemption to apply, a change to expect).
SIGNAL_ITEMS = f"""
SELECT '{WorkKind.signal_answered}', {_day("ps.answered_at")}, {_day("ps.answered_at")}, NULL::date,
       NULL::uuid,
       'policy_signal', ps.id, json_build_object('team_id', ps.team_id, 'answer', ps.answer)
  FROM policy_signals AS ps
 WHERE ps.status = 'answered' AND ps.team_id IN (SELECT team_id FROM teams_in_view)"""  # noqa: S608


def link_sql(item: str) -> str:
    """The REST path of the object of ``item`` (the team app opens it from the item)."""
    household = f"'/api/v1/households/' || {item}.household_id"
    return f"""CASE {item}.object_type
    WHEN 'plan' THEN {household} || '/plans/' || {item}.object_id
    WHEN 'household' THEN {household}
    WHEN 'referral' THEN '/api/v1/referrals/' || {item}.object_id
    WHEN 'consent' THEN {household} || '/consents/' || {item}.object_id
    WHEN 'break_glass_grant' THEN {household} || '/break-glass/' || {item}.object_id
    WHEN 'policy_signal' THEN '/api/v1/policy-signals/' || {item}.object_id
  END"""


def item_fields(item: str, household: str) -> dict[str, str]:
    """The fields of a ``ListedWork`` document: of the row ``item`` (``ITEM_COLUMNS``) and its
    household ``household`` (a row of the scope: ``reference``, ``coordinator_id``)."""
    return {
        "kind": f"{item}.kind",
        "due_on": f"{item}.due_on",
        "show_from": f"{item}.show_from",
        "listed_until": f"{item}.listed_until",
        "household_id": f"{item}.household_id",
        "household_reference": f"{household}.reference",
        "worker_id": f"{household}.coordinator_id",
        "object": f"json_build_object('type', {item}.object_type, 'id', {item}.object_id)",
        "link": link_sql(item),
        "detail": f"{item}.detail",
    }


# Listed on ``today`` (the route's filter; a phone applies the same rule to its synced items).
LISTED = "item.show_from <= :today AND (item.listed_until IS NULL OR :today <= item.listed_until)"
ITEM_JSON = json_object_sql(WorkItem, {**item_fields("page", "s"), "overdue": "page.due_on < :today"})

ORDER = "page_key.due_on, page_key.kind, page_key.object_id"
NUMBERED = f"SELECT page_key.*, row_number() OVER (ORDER BY {ORDER}) AS n FROM page_key"  # noqa: S608

INT_PARAMS = (
    "horizon", "weeks_specialist", "weeks_support", "weeks_self_reliant", "weeks_none", "inbound_days",
    "partner_days", "consent_days", "agreement_days", "review_days", "aftercare_weeks", "limit",
)  # fmt: skip


def scope_query(view: View) -> Any:
    """The households in view: visible to the worker (``visible_to``), open, and theirs (``mine``:
    coordinator or assigned) or of the team(s) in view (``team``, with the lead's filters)."""
    columns = (
        col(Household.id),
        col(Household.reference),
        col(Household.team_id),
        col(Household.coordinator_id),
        col(Household.status),
        col(Household.registered_at),
        col(Household.aftercare_since),
    )
    where = [case_worker_rule(), col(Household.status) != constant(f"'{HouseholdStatus.closed}'")]
    if view is View.mine:
        # As ids of one set, not an OR over the rows: PostgreSQL reaches them by the coordinator and
        # assignment indexes (an OR with a subquery is a scan of every household). As an array, so
        # the households are probed by primary key whatever PostgreSQL guesses of a worker's count:
        # the statement's plan is generic (planned without the worker), and as a join its estimate
        # (all households over the few coordinators of the demo data) could choose to read them all.
        coordinated = table_of(Household).alias("coordinated")
        mine = sa.union(
            sa.select(coordinated.c.id).where(coordinated.c.coordinator_id == CASE_WORKER),
            sa.select(col(HouseholdAssignment.household_id)).where(
                col(HouseholdAssignment.worker_id) == CASE_WORKER
            ),
        )
        where.append(col(Household.id) == sa.any_(sa.func.array(mine.scalar_subquery())))
    else:
        coordinator = sa.bindparam("coordinator_id", type_=sa.Uuid)
        where += [
            col(Household.team_id).in_(
                sa.select(sa.column("team_id")).select_from(sa.table("teams_in_view"))
            ),
            sa.or_(coordinator.is_(None), col(Household.coordinator_id) == coordinator),
            sa.or_(
                sa.not_(sa.bindparam("unassigned", type_=sa.Boolean)), col(Household.coordinator_id).is_(None)
            ),
        ]
    return sa.select(*columns).where(*where)


def teams_in_view_sql(view: View) -> str:
    team = "" if view is View.mine else " AND (CAST(:team_id AS uuid) IS NULL OR wt.team_id = :team_id)"
    return f"SELECT wt.team_id FROM worker_teams AS wt WHERE wt.worker_id = :worker_id{team}"  # noqa: S608


# The types of every parameter the statements' SQL text uses (the scope's are Core's own).
PARAM_TYPES: dict[str, Any] = {
    **{name: sa.Integer for name in INT_PARAMS},
    "today": sa.Date,
    "worker_id": sa.Uuid,
    "team_id": sa.Uuid,
    "kind": sa.String,
    "overdue_only": sa.Boolean,
    "after_due": sa.Date,
    "after_kind": sa.String,
    "after_id": sa.Uuid,
    "ids": postgresql.ARRAY(sa.Uuid),
}
ITEM_COLUMNS = (
    "kind", "due_on", "show_from", "listed_until", "household_id", "object_type", "object_id", "detail",
)  # fmt: skip


def fragment(sql: str, *columns: str) -> Any:
    """A piece of the statements' SQL text as a construct with columns, its parameters typed."""
    used = [sa.bindparam(n, type_=t) for n, t in PARAM_TYPES.items() if re.search(rf":{n}\b", sql)]
    return sa.text(sql).bindparams(*used).columns(*(sa.column(c) for c in columns))


def items_sql(view: View) -> str:
    """The item sources of a view."""
    sources = [SCOPE_ITEMS, WAITING_REFERRALS]
    if view is View.team:
        sources += [TEAM_ITEMS, SIGNAL_ITEMS]
    return " UNION ALL ".join(sources)


@lru_cache(maxsize=8)
def page_statement(view: View, after: bool) -> RawStatement:
    """One page of the worklist of ``view``, with the access-log row of every household it shows.
    Returns ``logged``, ``found`` (up to limit + 1), ``items`` (JSON text) and the key of the last
    item (``last_due``, ``last_kind``, ``last_id``)."""
    keyset = " AND (due_on, kind, object_id) > (:after_due, :after_kind, :after_id)" if after else ""
    page_key = f"""SELECT * FROM items AS item
         WHERE {LISTED}
           AND (CAST(:kind AS text) IS NULL OR kind = :kind)
           AND (NOT :overdue_only OR due_on < :today){keyset}
         ORDER BY due_on, kind, object_id
         LIMIT :limit + 1"""  # noqa: S608 - our own SQL
    in_page = "FILTER (WHERE page.n = :limit)"
    answer = f"""SELECT (SELECT count(*) FROM logged) AS logged, count(*) AS found,
           CAST(COALESCE(json_agg({ITEM_JSON} ORDER BY page.n) FILTER (WHERE page.n <= :limit), '[]')
                AS text) AS items,
           max(page.due_on) {in_page} AS last_due, max(page.kind) {in_page} AS last_kind,
           (array_agg(page.object_id) {in_page})[1] AS last_id
      FROM page LEFT JOIN scope AS s ON s.id = page.household_id"""  # noqa: S608
    shown = "SELECT DISTINCT household_id FROM page WHERE n <= :limit AND household_id IS NOT NULL"
    ctes = (
        fragment(teams_in_view_sql(view), "team_id").cte("teams_in_view"),
        scope_query(view).cte("scope"),
        fragment(items_sql(view), *ITEM_COLUMNS).cte("items"),
        fragment(page_key, *ITEM_COLUMNS).cte("page_key"),
        fragment(NUMBERED, *ITEM_COLUMNS, "n").cte("page"),
        inline_cte(each_of=shown, binds=(sa.bindparam("limit", type_=sa.Integer),)),
    )
    columns = ("logged", "found", "items", "last_due", "last_kind", "last_id")
    statement = sa.select(fragment(answer, *columns).subquery("answer"))
    for cte in ctes:
        statement = statement.add_cte(cte)
    # Planned once per connection: its plan is the same whatever the caller (index probes per
    # household of the scope), and planning it took 1.5-1.8 ms of the worker's ~9 ms each time, as
    # PostgreSQL never keeps the worker's generic plan (it takes a coordinator to have a fifteenth
    # of all households, as the demo data's few workers do, and prices the generic plan at that).
    return RawStatement.of(statement, generic=True)


@dataclass(frozen=True)
class WorklistAnswer:
    items: str  # a JSON array of WorkItem, made by PostgreSQL
    last: tuple[date, str, uuid.UUID] | None  # the key of the last item when more follow


async def worklist_json(
    uow: UnitOfWork,
    principal: Principal,
    view: View,
    policy: WorklistPolicy,
    today: date,
    filters: WorklistFilter,
    *,
    limit: int,
    after: tuple[date, str, uuid.UUID] | None,
) -> WorklistAnswer:
    """A page of the caller's worklist, logged per household shown (one statement)."""
    entry = uow.log(principal, resource=RESOURCE, action=AccessAction.list)
    if not takes_case_worker_rule(principal):  # visible_to is false for them: nothing to list
        return WorklistAnswer("[]", None)
    values: dict[str, Any] = {
        **entry.params(),
        **policy.values(),
        "today": today,
        "worker_id": principal.worker_id,
        "kind": str(filters.kind) if filters.kind else None,
        "overdue_only": filters.overdue_only,
        "limit": limit,
    }
    if view is View.team:
        values |= {
            "team_id": filters.team_id,
            "coordinator_id": filters.coordinator_id,
            "unassigned": filters.unassigned,
        }
    if after is not None:
        values |= {"after_due": after[0], "after_kind": after[1], "after_id": after[2]}
    row = await uow.fetch_one(page_statement(view, after is not None), values)
    uow.written_by_statement(entry)
    last = (row["last_due"], row["last_kind"], row["last_id"]) if row["found"] > limit else None
    return WorklistAnswer(str(row["items"]), last)
