"""Domain events: what one context tells others that it did, without importing them.

A context publishes an event through its unit of work (``await uow.publish(ConsentWithdrawn(...))``);
the handlers the composition root (``app.bootstrap``) wired for that event's type run at once, in the
same transaction, with the same unit of work. So a lower context (consents) can have a higher one
(webhooks) react to its change, and the dependency between the packages still points one way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


class Event:
    """Base class of every domain event (a frozen dataclass)."""


@dataclass(frozen=True)
class ConsentWithdrawn(Event):
    """A consent stopped being in force now: what rests on it must stop at once (queued webhook
    deliveries are cancelled, partner access ends with the consent)."""

    consent_id: uuid.UUID


@dataclass(frozen=True)
class NetworkPersonRemoving(Event):
    """A person is about to be removed from a household's network map (published before the delete):
    what links to them may refuse it (an open action of the active plan) or note that it loses the
    link (the plan versions whose actions name them)."""

    household_id: uuid.UUID
    person_id: uuid.UUID


@dataclass(frozen=True)
class HouseholdClosed(Event):
    """A household's file was closed (published after its status changed, in the same work): what
    lives with the file ends with it (the active plan is closed, with the reason ``household_closed``)."""

    household_id: uuid.UUID
