"""Who sees and changes what in the initiatives context.

Everyone, anonymous callers included, sees the public fields of initiatives past the idea stage and
the name and area of networks. Private fields (contacts, member lists, grant reasons, closing reports)
and initiatives still at the idea stage need the scope ``initiatives:read`` AND membership of that
network. Writing needs ``initiatives:write`` and membership; managing members, year plans and grants
needs ``networks:manage`` and the coordinator role in that network. Membership is read live from
``network_members`` (once per request), never from the token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeGuard

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.initiatives.models import Initiative, InitiativeStatus, NetworkMember, NetworkRole
from app.security.principal import Principal
from app.security.scopes import Role, Scope

# Only these roles can be linked to a network member (and so ever see private fields).
MEMBER_ROLES = frozenset({Role.resident, Role.network_coordinator})


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal | None
    member_of: frozenset[uuid.UUID] = frozenset()
    coordinates: frozenset[uuid.UUID] = frozenset()

    def _has(self, scope: Scope) -> bool:
        return self.principal is not None and self.principal.has(scope)

    @property
    def private_networks(self) -> frozenset[uuid.UUID]:
        """Networks whose private fields this caller may read (scope and membership)."""
        return self.member_of if self._has(Scope.initiatives_read) else frozenset()

    def can_read_private(self, network_id: uuid.UUID) -> bool:
        return network_id in self.private_networks

    def can_write(self, network_id: uuid.UUID) -> bool:
        return self._has(Scope.initiatives_write) and network_id in self.member_of

    def can_manage(self, network_id: uuid.UUID) -> bool:
        return self._has(Scope.networks_manage) and network_id in self.coordinates

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.principal.user_id if self.principal else None


ANONYMOUS = Viewer(principal=None)


def may_belong_to_networks(principal: Principal | None) -> TypeGuard[Principal]:
    """Whether the caller's networks must be read: a signed-in person whose role can be a member.
    Anyone else (anonymous, workers, partners) is a viewer of no network, known without a query."""
    return principal is not None and principal.user_id is not None and principal.role in MEMBER_ROLES


async def viewer_for(session: AsyncSession, principal: Principal | None) -> Viewer:
    """The caller with the networks they belong to now (one query; none for other roles)."""
    if not may_belong_to_networks(principal):
        return Viewer(principal=principal)
    rows = await session.execute(
        select(NetworkMember.network_id, NetworkMember.role).where(NetworkMember.user_id == principal.user_id)
    )
    member_of: set[uuid.UUID] = set()
    coordinates: set[uuid.UUID] = set()
    for network_id, role in rows:
        member_of.add(network_id)
        if role == NetworkRole.coordinator:
            coordinates.add(network_id)
    return Viewer(principal, frozenset(member_of), frozenset(coordinates))


def initiative_visible(viewer: Viewer) -> sa.ColumnElement[bool]:
    """SQL condition on ``Initiative``: ideas are drafts, visible to their network's members only."""
    public = col(Initiative.status) != InitiativeStatus.idea
    private = viewer.private_networks
    if not private:
        return public
    return sa.or_(public, col(Initiative.network_id).in_(private))


def private_value(
    network_id: sa.ColumnElement[uuid.UUID], value: sa.ColumnElement, viewer: Viewer
) -> sa.ColumnElement:
    """``value`` for members of the row's network, NULL for everyone else (decided in SQL)."""
    private = viewer.private_networks
    if not private:
        return sa.null()
    return sa.case((network_id.in_(private), value), else_=sa.null())
