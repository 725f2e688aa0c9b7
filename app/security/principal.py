"""The authenticated caller, built once per request from a verified access token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.security.scopes import Role, Scope


@dataclass(frozen=True)
class Principal:
    subject: str  # the token's `sub`: a user id for people, the client id for machine clients
    role: Role
    scopes: frozenset[str]
    client_id: str
    token_id: str = ""
    user_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None  # set for generalists and team leads
    organisation_id: uuid.UUID | None = None  # set for partner clients
    teams: tuple[uuid.UUID, ...] = field(default_factory=tuple)  # informational; rules read live membership
    # Household members (self-service): the member and household the sign-in is bound to. The
    # services check live that self-service is still on for both before they answer.
    member_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None

    def has(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes

    @property
    def is_machine(self) -> bool:
        return self.user_id is None
