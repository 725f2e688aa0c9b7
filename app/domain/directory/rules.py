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
