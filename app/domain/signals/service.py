"""Policy-signal use cases: write a draft, submit it (bundling similar ones), take, answer and close it.

Every step writes its transition row (who, when) in the caller's transaction; the raising team(s)
learn of the policy staff's answer through the worklist item ``signal_answered`` (for its team lead,
while the answer waits to be closed), which reads the signal's status: no event is written. Every
write of free text is checked for personal data first (``personal_data``), with the names of the
linked households' members. A signal the caller may not read answers like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from app.domain.assessments.repository import active_domains
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.households.access import get_visible as visible_household
from app.domain.households.repository import known_themes
from app.domain.signals import personal_data, rules
from app.domain.signals import repository as repo
from app.domain.signals.models import PolicySignal, PolicySignalTransition, SignalStatus
from app.domain.signals.repository import Keyset, SignalRow
from app.domain.signals.schemas import (
    SIGNAL_TEXTS,
    LinkedHouseholds,
    SignalCreate,
    SignalDecision,
    SignalRead,
    SignalSubmit,
    SignalTransitionRead,
    SignalUpdate,
)
from app.domain.stats.disclosure import CountTable, Dimension, Policy, protect_counts
from app.domain.unit_of_work.access_log import AccessAction, Shown
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Role

RESOURCE = "policy_signal"
PURPOSE = "policy_signal"

_ONE_CELL = Dimension.flat(["signal"]), Dimension.flat(["all"]), Dimension.flat(["total"])


def protected_count(count: int, policy: Policy) -> LinkedHouseholds:
    """The count of households behind a signal as anyone but the raising team reads it: through the
    statistics' disclosure control (threshold, rounding), as a table of one cell."""
    areas, periods, categories = _ONE_CELL
    table = CountTable(areas, periods, categories, {("signal", "all", "total"): count})
    published = protect_counts(table, policy)[("signal", "all", "total")]
    value = None if published.value is None else int(published.value)
    return LinkedHouseholds(count=value, suppressed=published.suppressed)


# -- presenting -----------------------------------------------------------------------------------


async def present(
    uow: UnitOfWork, principal: Principal, rows: list[SignalRow], policy: Policy
) -> list[SignalRead]:
    """Five queries whatever the number of signals; the raising team's reads of linked households are
    logged per household shown, and only the households the reader may open are shown."""
    session = uow.session
    ids = [row.signal.id for row in rows]
    transitions = await repo.transitions_of(session, ids)
    counts = await repo.household_counts(session, ids)
    bundles = await repo.bundled_into(session, ids)
    bundle_counts = await repo.bundle_household_counts(session, [i for i in ids if bundles[i]])
    own_ids = [row.signal.id for row in rows if row.own]
    linked = await repo.linked_households(session, own_ids, seen_by=principal)
    shown = [Shown(h, None, signal_id) for signal_id in own_ids for h in linked[signal_id]]
    if shown:
        uow.log_each(principal, shown, resource=RESOURCE, action=AccessAction.read, purpose=PURPOSE)
    return [
        _read(
            row,
            transitions[row.signal.id],
            bundles[row.signal.id],
            _households(row, counts[row.signal.id], linked, policy),
            _bundle(bundle_counts.get(row.signal.id), policy),
        )
        for row in rows
    ]


def _households(
    row: SignalRow, count: int, linked: dict[uuid.UUID, list[uuid.UUID]], policy: Policy
) -> LinkedHouseholds:
    """The signal's own households: exact for its raising team (all its own team's), protected else."""
    if row.own:
        return LinkedHouseholds(count=count, household_ids=linked[row.signal.id])
    return protected_count(count, policy)


def _bundle(count: int | None, policy: Policy) -> LinkedHouseholds | None:
    """A bundle's total includes other teams' households: protected for every reader, the raising team
    of the lead too (else its own exact count would give away the others' by subtraction)."""
    return None if count is None else protected_count(count, policy)


def _read(
    row: SignalRow,
    transitions: list[Any],
    bundled: list[uuid.UUID],
    households: LinkedHouseholds,
    bundle: LinkedHouseholds | None,
) -> SignalRead:
    signal = row.signal
    return SignalRead.model_validate(
        {
            **signal.model_dump(),
            "team_name": row.team_name,
            "municipality_code": row.municipality_code,
            "area_code": row.area_code,
            "bundled_signal_ids": bundled,
            "linked_households": households,
            "bundle_households": bundle,
            "transitions": [SignalTransitionRead.model_validate(t) for t in transitions],
        }
    )


async def _one(uow: UnitOfWork, principal: Principal, signal_id: uuid.UUID, policy: Policy) -> SignalRead:
    row = await repo.get_visible(uow.session, principal, signal_id)
    if row is None:
        raise NotFound(RESOURCE)
    return (await present(uow, principal, [row], policy))[0]


# -- reading ----------------------------------------------------------------------------------------


def _reader(principal: Principal) -> None:
    if principal.role is not Role.policy_officer and (
        principal.role not in repo.TEAM_ROLES or principal.worker_id is None
    ):
        raise Forbidden("Policy signals are for team members and the policy staff.", rule="signals_role")


async def get(uow: UnitOfWork, principal: Principal, signal_id: uuid.UUID, policy: Policy) -> SignalRead:
    _reader(principal)
    return await _one(uow, principal, signal_id, policy)


@dataclass(frozen=True)
class SignalFilters:
    status: SignalStatus | None = None
    theme: str | None = None
    own_team_only: bool = False

    def where(self, principal: Principal) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.status is not None:
            clauses.append(col(PolicySignal.status) == str(self.status))
        if self.theme is not None:
            # The model's column is the generic ARRAY, which has no ``contains`` (@>): PostgreSQL's has.
            themes = sa.type_coerce(col(PolicySignal.themes), postgresql.ARRAY(sa.String))
            clauses.append(themes.contains([self.theme]))
        if self.own_team_only:
            clauses.append(repo.raised_by_own_team(principal))
        return clauses


async def list_signals(
    uow: UnitOfWork,
    principal: Principal,
    filters: SignalFilters,
    policy: Policy,
    *,
    limit: int,
    after: Keyset | None,
) -> list[SignalRead]:
    _reader(principal)
    rows = await repo.list_visible(uow.session, principal, filters.where(principal), limit=limit, after=after)
    return await present(uow, principal, rows, policy)


# -- writing a draft ------------------------------------------------------------------------------


def _worker(principal: Principal) -> uuid.UUID:
    if principal.role not in repo.TEAM_ROLES or principal.worker_id is None:
        raise Forbidden("Policy signals are written by team members.", rule="signals_team_only")
    return principal.worker_id


async def _team_of(
    uow: UnitOfWork, worker_id: uuid.UUID, team_id: uuid.UUID | None
) -> tuple[uuid.UUID, uuid.UUID]:
    """The team the draft is for (and its municipality): the one given, or the worker's only team."""
    teams = await repo.worker_teams(uow.session, worker_id)
    if team_id is None and len(teams) == 1:
        team_id = next(iter(teams))
    if team_id is None or team_id not in teams:
        rule, message = (
            ("team_required", "You work in several teams: say which one.")
            if team_id is None
            else ("not_own_team", "Not a team of yours.")
        )
        raise ValidationFailed([FieldError(("body", "team_id"), message, rule)])
    return team_id, teams[team_id]


async def _check_codes(uow: UnitOfWork, themes: Sequence[str] | None, domains: Sequence[str] | None) -> None:
    errors: list[FieldError] = []
    if themes:
        known = await known_themes(uow.session, sorted(set(themes)))
        errors += [
            FieldError(("body", "themes", i), "This theme is not on the list.", "unknown_theme")
            for i, code in enumerate(themes)
            if code not in known
        ]
    if domains:
        active = await active_domains(uow.session, domains)
        errors += [
            FieldError(("body", "life_domains", i), "Not an active life domain.", "unknown_life_domain")
            for i, code in enumerate(domains)
            if code not in active
        ]
    if errors:
        raise ValidationFailed(errors)


async def _area(uow: UnitOfWork, municipality_id: uuid.UUID, code: str | None) -> uuid.UUID | None:
    if code is None:
        return None
    found = await repo.wijk_id(uow.session, municipality_id, code)
    if found is None:
        raise ValidationFailed(
            [FieldError(("body", "area_code"), "No such wijk in your gemeente.", "unknown_area")]
        )
    return found


async def _link(
    uow: UnitOfWork, principal: Principal, signal: PolicySignal, household_ids: Sequence[uuid.UUID]
) -> None:
    """Each household must be in the caller's caseload and of the signal's team (logged per household);
    links to households the caller may not open stay as they are."""
    errors: list[FieldError] = []
    for i, household_id in enumerate(household_ids):
        try:
            household = await visible_household(
                uow,
                principal,
                household_id,
                resource=RESOURCE,
                action=AccessAction.update,
                resource_id=signal.id,
            )
        except NotFound:
            household = None
        if household is None or household.team_id != signal.team_id:
            errors.append(
                FieldError(
                    ("body", "household_ids", i),
                    "No such household in your team's caseload.",
                    "household_unknown",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    await repo.replace_households(uow.session, principal, signal.id, list(dict.fromkeys(household_ids)))


async def _check_texts(uow: UnitOfWork, signal: PolicySignal) -> None:
    """No personal data in any text of the signal (all of them: a name can become personal data when
    its household is linked later), the linked members' names included."""
    linked = (await repo.linked_households(uow.session, [signal.id]))[signal.id]
    names = await repo.member_names(uow.session, linked)
    texts = {name: getattr(signal, name) for name in SIGNAL_TEXTS}
    personal_data.check(personal_data.text_fields(texts), names)


def _transition(
    principal: Principal,
    signal: PolicySignal,
    from_status: SignalStatus | None,
    at: datetime,
    *,
    bundled_into: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "signal_id": signal.id,
        "from_status": str(from_status) if from_status else None,
        "to_status": signal.status,
        "bundled_into_id": bundled_into,
        "actor_subject": principal.subject,
        "actor_role": str(principal.role),
        "worker_id": principal.worker_id,
        "occurred_at": at,
    }


async def _record(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    await uow.session.execute(sa.insert(PolicySignalTransition), rows)


async def create(uow: UnitOfWork, principal: Principal, data: SignalCreate, policy: Policy) -> SignalRead:
    """A worker's draft for their team."""
    worker_id = _worker(principal)
    team_id, municipality_id = await _team_of(uow, worker_id, data.team_id)
    await _check_codes(uow, data.themes, data.life_domains)
    fields = data.model_dump(exclude={"team_id", "household_ids", "area_code"})
    signal = PolicySignal(
        **fields,
        municipality_id=municipality_id,
        team_id=team_id,
        area_id=await _area(uow, municipality_id, data.area_code),
        created_by_worker_id=worker_id,
    )
    signal.themes, signal.life_domains = sorted(set(data.themes)), sorted(set(data.life_domains))
    uow.session.add(signal)
    await uow.session.flush()
    await _link(uow, principal, signal, data.household_ids)
    await _check_texts(uow, signal)
    await _record(uow, [_transition(principal, signal, None, signal.created_at)])
    return await _one(uow, principal, signal.id, policy)


async def _own_for_update(
    uow: UnitOfWork, principal: Principal, signal_id: uuid.UUID, expected: ExpectedVersion
) -> PolicySignal:
    """A signal of the caller's team, locked, at the version the caller edited (404 when not theirs)."""
    _worker(principal)
    row = await repo.get_visible(uow.session, principal, signal_id, for_update=True)
    if row is None or not row.own:
        raise NotFound(RESOURCE)
    expected.check(row.signal.id, row.signal.version)
    return row.signal


async def update(
    uow: UnitOfWork,
    principal: Principal,
    signal_id: uuid.UUID,
    data: SignalUpdate,
    expected: ExpectedVersion,
    policy: Policy,
) -> SignalRead:
    """Change a draft of the caller's team: the fields given replace the stored ones."""
    signal = await _own_for_update(uow, principal, signal_id, expected)
    rules.check_editable(SignalStatus(signal.status))
    given = data.model_fields_set
    nulls = [n for n in given if getattr(data, n) is None and n not in ("rule_quote", "area_code")]
    if nulls:
        raise ValidationFailed(
            [FieldError(("body", n), "This field cannot be null.", "null_not_allowed") for n in sorted(nulls)]
        )
    await _check_codes(uow, data.themes, data.life_domains)
    for name in (*SIGNAL_TEXTS, "themes", "life_domains"):
        if name in given:
            value = getattr(data, name)
            setattr(signal, name, sorted(set(value)) if isinstance(value, list) else value)
    if "area_code" in given:
        signal.area_id = await _area(uow, signal.municipality_id, data.area_code)
    if data.household_ids is not None:
        await _link(uow, principal, signal, data.household_ids)
    await _check_texts(uow, signal)
    signal.version += 1
    signal.updated_at = await repo.now(uow.session)
    await uow.session.flush()
    return await _one(uow, principal, signal.id, policy)


# -- the steps --------------------------------------------------------------------------------------


async def submit(
    uow: UnitOfWork,
    principal: Principal,
    signal_id: uuid.UUID,
    data: SignalSubmit,
    expected: ExpectedVersion,
    policy: Policy,
) -> SignalRead:
    """A team lead of the signal's team submits it, bundling similar submitted signals into it."""
    signal = await _own_for_update(uow, principal, signal_id, expected)
    rules.check_step(SignalStatus(signal.status), SignalStatus.submitted, principal.role, bundled=False)
    await _check_texts(uow, signal)
    at = await repo.now(uow.session)
    signal.status, signal.submitted_at = str(SignalStatus.submitted), at
    steps = [_transition(principal, signal, SignalStatus.draft, at)]
    bundle = list(dict.fromkeys(data.bundle))
    if bundle:
        found = await repo.bundle_candidates(uow.session, signal.municipality_id, bundle)
        missing = [i for i, b in enumerate(bundle) if b not in found]
        if missing:
            raise ValidationFailed(
                [
                    FieldError(("body", "bundle", i), "No such submitted signal.", "unknown_signal")
                    for i in missing
                ]
            )
        leads = await repo.leads_a_bundle(uow.session, bundle)
        rules.check_bundle(
            signal.id,
            {
                b: (SignalStatus(found[b].status), found[b].bundled_into_id is not None, b in leads)
                for b in bundle
            },
        )
        for b in bundle:
            found[b].bundled_into_id, found[b].version, found[b].updated_at = (
                signal.id,
                found[b].version + 1,
                at,
            )
            steps.append(_transition(principal, found[b], SignalStatus.submitted, at, bundled_into=signal.id))
    signal.version += 1
    signal.updated_at = at
    await uow.session.flush()
    await _record(uow, steps)
    return await _one(uow, principal, signal.id, policy)


async def decide(
    uow: UnitOfWork,
    principal: Principal,
    signal_id: uuid.UUID,
    data: SignalDecision,
    expected: ExpectedVersion,
    policy: Policy,
) -> SignalRead:
    """The policy staff take a signal, answer it or close it; the signals bundled into it follow (so
    every raising team's worklist shows the answer)."""
    if principal.role is not Role.policy_officer:
        raise Forbidden("Only the policy staff decide on signals.", rule="signal_step_role")
    row = await repo.get_visible(uow.session, principal, signal_id, for_update=True)
    if row is None:
        raise NotFound(RESOURCE)
    signal, target = row.signal, SignalStatus(data.status)
    expected.check(signal.id, signal.version)
    current = SignalStatus(signal.status)
    rules.check_step(current, target, principal.role, bundled=signal.bundled_into_id is not None)
    rules.check_decision(
        target,
        answer=data.answer,
        reasoning=data.reasoning,
        outcome=data.outcome,
        outcome_from=data.outcome_from,
    )
    texts = {"reasoning": data.reasoning, "outcome": data.outcome}
    personal_data.check(personal_data.text_fields(texts))
    at = await repo.now(uow.session)
    moved = [signal, *await repo.followers(uow.session, signal.id)]
    for each in moved:
        _apply(each, data, target, at)
    await uow.session.flush()
    await _record(uow, [_transition(principal, each, current, at) for each in moved])
    return await _one(uow, principal, signal.id, policy)


def _apply(signal: PolicySignal, data: SignalDecision, target: SignalStatus, at: datetime) -> None:
    signal.status = str(target)
    if target is SignalStatus.answered:
        signal.answer, signal.answer_reasoning, signal.answered_at = str(data.answer), data.reasoning, at
    if target is SignalStatus.closed:
        signal.outcome, signal.outcome_from, signal.closed_at = data.outcome, data.outcome_from, at
    signal.version += 1
    signal.updated_at = at
