"""The composition root: what the contexts contribute to each other, put together once, by hand.

Domain contexts depend on each other in one direction (organisation -> identity -> households ->
assessments -> support network -> plans -> consents -> webhooks -> referrals -> ...; see
``docs/architecture.md``). Some things must still reach a context from a higher one: the entities
that sync to phones and the sections of a subject-access export (declared by each context, read by
sync and the export), and the reactions to a domain event (a withdrawn consent cancels queued webhook
deliveries), and how the token verifier (identity) finds the member a resident's DigiD sign-in
is for (self-service). Each context declares its part as data; this module lists them, literally, so nothing
registers itself by being imported and nothing can go missing without a test noticing.

``create_app`` (``app.main``), the CLI's jobs and the tests build their units of work with ``wiring()``.
Settings that name domain catalogue entries are checked here too (``checked_settings``): the settings
module itself knows no domain.
"""

from __future__ import annotations

from functools import cache

from app.db import Database
from app.domain.assessments import sync_and_export as assessments
from app.domain.assessments.rules import NO_TIER, Tier
from app.domain.consents import sync_and_export as consents
from app.domain.households import sync_and_export as households
from app.domain.households.bsn import protector
from app.domain.identity.tokens import TokenVerifier, build_token_verifier
from app.domain.plans import sync_and_export as plans
from app.domain.plans.handlers import household_closed, network_person_removing
from app.domain.readmodel import sync_and_export as readmodel
from app.domain.referrals import sync_and_export as referrals
from app.domain.self_service.signin import member_lookup
from app.domain.stats.catalogue import CATALOGUE
from app.domain.support_network import sync_and_export as support_network
from app.domain.unit_of_work.events import ConsentWithdrawn, Event, HouseholdClosed, NetworkPersonRemoving
from app.domain.unit_of_work.registries import ExportRegistry, SyncRegistry
from app.domain.unit_of_work.work import Handler, Wiring
from app.domain.webhooks.outbox import cancel_for_withdrawn_consent
from app.settings import Settings

SYNC_ENTITIES = (
    *households.SYNC_ENTITIES,
    *assessments.SYNC_ENTITIES,
    *support_network.SYNC_ENTITIES,
    *plans.SYNC_ENTITIES,
    *consents.SYNC_ENTITIES,
    *referrals.SYNC_ENTITIES,
    *readmodel.SYNC_ENTITIES,
)

EXPORT_SECTIONS = (
    *households.EXPORT_SECTIONS,
    *assessments.EXPORT_SECTIONS,
    *support_network.EXPORT_SECTIONS,
    *plans.EXPORT_SECTIONS,
    *consents.EXPORT_SECTIONS,
    *referrals.EXPORT_SECTIONS,
)

EVENT_HANDLERS: dict[type[Event], tuple[Handler, ...]] = {
    ConsentWithdrawn: (cancel_for_withdrawn_consent,),
    NetworkPersonRemoving: (network_person_removing,),
    HouseholdClosed: (household_closed,),
}


@cache
def wiring() -> Wiring:
    return Wiring(
        sync=SyncRegistry(SYNC_ENTITIES),
        exports=ExportRegistry(EXPORT_SECTIONS),
        handlers=EVENT_HANDLERS,
    )


def token_verifier(settings: Settings, db: Database) -> TokenVerifier:
    """The resource server of one process (identity), with the way a household member's DigiD sign-in
    finds their member (self-service, a higher context) through the BSN blind index."""
    return build_token_verifier(settings, db, member_lookup(db, protector(settings)))


def checked_settings(settings: Settings) -> Settings:
    """``settings``, once the values that name domain catalogue entries are known to exist."""
    unknown = sorted(set(settings.stats_public_measures) - set(CATALOGUE))
    if unknown:
        raise ValueError(f"stats_public_measures: not catalogue measures: {', '.join(unknown)}")
    tiers = {*(str(t) for t in Tier), NO_TIER}
    if set(settings.worklist_contact_weeks) != tiers:
        raise ValueError(f"worklist_contact_weeks: give weeks for exactly these: {', '.join(sorted(tiers))}")
    return settings
