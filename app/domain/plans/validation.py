"""Checks of plan content against the database (a constant number of queries for any number of
goals and actions); every problem is a field error naming the field and the rule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.directory import offers
from app.domain.directory.rules import initiative_failures, offer_problems, service_failures
from app.domain.errors import FieldError
from app.domain.households.models import Household
from app.domain.plans import repository as repo
from app.domain.plans.models import PerformerKind
from app.domain.plans.rules import performer_link_problems
from app.domain.unit_of_work.work import UnitOfWork

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ActionLinks:
    """Where an action sits in the request body, and the links it will have. ``given`` names the
    links the request itself supplies: only those are looked up (a worker who has since left the
    team does not block editing an action's wording)."""

    loc: Loc
    kind: PerformerKind
    network_person_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    continues_action_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    initiative_id: uuid.UUID | None = None
    given: frozenset[str] = frozenset(
        {"network_person_id", "worker_id", "continues_action_id", "service_id", "initiative_id"}
    )

    def supplied(self, field: str) -> uuid.UUID | None:
        value: uuid.UUID | None = getattr(self, field)
        return value if field in self.given else None


def _ids(actions: Sequence[ActionLinks], field: str) -> set[uuid.UUID]:
    return {value for a in actions if (value := a.supplied(field))}


def link_problems(actions: Sequence[ActionLinks]) -> list[FieldError]:
    """Links that do not fit the performer kind (no database needed)."""
    return [
        FieldError((*a.loc, field), message, rule)
        for a in actions
        for field, message, rule in performer_link_problems(
            a.kind,
            network_person_id=a.network_person_id,
            worker_id=a.worker_id,
            service_id=a.service_id,
            initiative_id=a.initiative_id,
        )
    ]


def unknown_links(
    a: ActionLinks,
    *,
    person: bool = True,
    worker: bool = True,
    continued: bool = True,
    offer_failures: frozenset[str] = frozenset(),
) -> list[FieldError]:
    """The supplied links the database does not know (``person``, ``worker``, ``continued``: whether
    each is known; ``offer_failures``: the facts of ``directory.offers`` a named offer fails)."""
    errors = [
        FieldError((*a.loc, field), message, rule)
        for field, message, rule in offer_problems(set(offer_failures))
        if a.supplied(field)
    ]
    if a.supplied("network_person_id") and not person:
        errors.append(
            FieldError(
                (*a.loc, "network_person_id"),
                "Not on this household's network map.",
                "network_person_unknown",
            )
        )
    if a.supplied("worker_id") and not worker:
        errors.append(
            FieldError((*a.loc, "worker_id"), "Not a worker of the household's team.", "worker_not_in_team")
        )
    if a.supplied("continues_action_id") and not continued:
        errors.append(
            FieldError(
                (*a.loc, "continues_action_id"),
                "Not an action of the version this one supersedes.",
                "action_not_in_superseded_plan",
            )
        )
    return errors


async def check_actions(
    uow: UnitOfWork,
    household: Household,
    actions: Sequence[ActionLinks],
    *,
    superseded_plan_id: uuid.UUID | None = None,
    internal: bool = True,
) -> tuple[list[FieldError], dict[uuid.UUID, uuid.UUID | None]]:
    """Problems with the actions' links, and the referral link of each continued action (``internal``:
    the caller may name non-public services)."""
    errors = link_problems(actions)
    session = uow.session
    people = await repo.network_people_of(session, household.id, _ids(actions, "network_person_id"))
    workers = await repo.workers_of_team(session, household.team_id, _ids(actions, "worker_id"))
    continued = (
        await repo.referral_links(session, superseded_plan_id, _ids(actions, "continues_action_id"))
        if superseded_plan_id
        else {}
    )
    services = await offers.service_states(session, _ids(actions, "service_id"), internal=internal)
    initiatives = await offers.initiative_states(session, _ids(actions, "initiative_id"))
    for a in actions:
        service, initiative = a.supplied("service_id"), a.supplied("initiative_id")
        failures = (service_failures(services.get(service)) if service else set()) | (
            initiative_failures(initiatives.get(initiative), household.buurt_id) if initiative else set()
        )
        errors += unknown_links(
            a,
            person=a.supplied("network_person_id") in people,
            worker=a.supplied("worker_id") in workers,
            continued=a.supplied("continues_action_id") in continued,
            offer_failures=frozenset(failures),
        )
    return errors, continued
