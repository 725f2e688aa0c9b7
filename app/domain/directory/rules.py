"""Pure rules of the directory: who maintains an organisation's entries, who sees internal ones, when an
entry is stale, and how near a matching area is."""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from enum import IntEnum

from app.security.principal import Principal
from app.security.scopes import Scope


class AreaLevel(IntEnum):
    """How a service came to serve a buurt, nearest first (the order of a neighbourhood search)."""

    location = 0  # offered at a place in the buurt
    buurt = 1
    wijk = 2
    municipality = 3


def may_maintain(principal: Principal, partner_organisation_id: uuid.UUID | None) -> bool:
    """The municipality's administrator maintains everything; a partner's machine client with
    ``services:write`` only the entries of the organisation that is that partner."""
    if principal.has(Scope.admin):
        return True
    return (
        principal.has(Scope.services_write)
        and principal.organisation_id is not None
        and principal.organisation_id == partner_organisation_id
    )


def sees_internal(principal: Principal | None) -> bool:
    """Non-public services and internal notes: for workers on cases and administrators."""
    return principal is not None and (principal.has(Scope.admin) or principal.has(Scope.cases_read))


def own_partner(principal: Principal | None) -> uuid.UUID | None:
    """The partner whose own (also non-public) entries this caller maintains and therefore sees."""
    if principal is not None and principal.has(Scope.services_write):
        return principal.organisation_id
    return None


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the last day of a shorter month where it has none)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_stale(assured_date: date | None, today: date, months: int) -> bool:
    """Never verified, or verified ``months`` or more ago."""
    return assured_date is None or assured_date <= months_before(today, months)


# What a link to an offer must meet (``offers.py``): each fact that failed, as (field, message, rule),
# in the order they are answered (the first failing fact of a link only).
SERVICE_RULES = (
    ("service", "No service with this id that you can see.", "service_unknown"),
    ("service_active", "This service is not active.", "service_not_active"),
    ("service_partner", "Not a service of the receiving organisation.", "service_not_of_organisation"),
)
INITIATIVE_RULES = (
    ("initiative", "No resident initiative with this id.", "initiative_unknown"),
    ("initiative_buurt", "Not an initiative of the household's buurt.", "initiative_not_in_buurt"),
    ("initiative_running", "This initiative is not running.", "initiative_not_running"),
)


def offer_problems(failed: set[str]) -> list[tuple[str, str, str]]:
    """(field, message, rule) for the first failed fact of the service link and of the initiative
    link (``failed``: the names of ``SERVICE_RULES`` / ``INITIATIVE_RULES`` facts that did not hold)."""
    problems = []
    for field, rules in (("service_id", SERVICE_RULES), ("initiative_id", INITIATIVE_RULES)):
        for fact, message, rule in rules:
            if fact in failed:
                problems.append((field, message, rule))
                break
    return problems


def service_failures(
    state: tuple[bool, uuid.UUID | None] | None, *, partner: uuid.UUID | None = None
) -> set[str]:
    """The facts a named service fails, from ``offers.service_states`` (None: not visible or missing);
    ``partner``: the receiving organisation it must belong to (a referral)."""
    if state is None:
        return {"service"}
    active, offered_by = state
    failed = set() if active else {"service_active"}
    if partner is not None and offered_by != partner:
        failed.add("service_partner")
    return failed


def initiative_failures(state: tuple[uuid.UUID, bool] | None, buurt_id: uuid.UUID) -> set[str]:
    """The facts a named initiative fails, from ``offers.initiative_states``."""
    if state is None:
        return {"initiative"}
    in_buurt, running = state[0] == buurt_id, state[1]
    return ({"initiative_buurt"} if not in_buurt else set()) | (
        {"initiative_running"} if not running else set()
    )
