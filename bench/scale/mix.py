"""The mixed load of the scale benchmark: who sends what, with what connections, and why.

The load is closed-loop: each kind of request gets its own wrk process with a fixed number of
connections, so each kind gets its own p50/p99 and a slow kind cannot hide behind a fast one. The
connection counts (the ``CONNECTIONS`` table) set the proportions; what each kind really got is
reported next to them. Why these proportions (one municipality on a weekday morning):

* the team app is most of the traffic: a case worker opens a household's overview many times for
  every list they page through and for every contact moment they record (3 : 1 : 1.5), and the
  phone syncs in the background (a small share, but the heaviest request);
* partners file referrals through their own systems: a steady trickle compared with the team app;
* BI reads statistics (few clients, heavy queries); the public dashboard is anonymous and can be busy
  (a local news item links to it), so it gets as much as the team's lists and writes together.

Everything uses the app's own code for its tokens: the team's case worker from
``bench.casefile.fixtures`` (with yesterday's sync cursor and a day of work after it), the demo's
partner and analyst clients minted with ``mint_for_client``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import col, delete, select

from app.db import Database
from app.domain.identity.grants import mint_for_client
from app.domain.identity.keys import KeyRing
from app.domain.identity.models import OAuthClient
from app.domain.organisation.models import Area
from app.domain.webhooks.models import EventType, WebhookSubscription
from app.domain.webhooks.signing import SecretBox, new_secret
from app.settings import Settings
from bench.casefile import fixtures as casefile
from bench.casefile.scenarios import scenario as casefile_scenario
from bench.graphql.queries import WIJKWERK_DASHBOARD, body
from bench.harness import Scenario
from bench.referrals import data as referrals
from bench.referrals.load import lua as referral_lua
from bench.referrals.run import template as referral_template

# kind -> wrk connections (the proportions; see the module docstring)
CONNECTIONS = {
    "overview": 9,
    "list": 3,
    "contact": 4,
    "sync": 1,
    "referral": 3,
    "stats": 2,
    "dashboard": 6,
}
TITLES = {
    "overview": "team: household overview (GET)",
    "list": "team: 50 households (GET)",
    "contact": "team: contact moment (POST)",
    "sync": "team: sync page, 1-day cursor (GET)",
    "referral": "partner: referral (POST)",
    "stats": "BI: statistics per buurt (GET)",
    "dashboard": "public: dashboard GraphQL (POST)",
}
PARTNERS = ("partner_a", "partner_b")
STATS = ("households_registered", "households_by_theme", "households_active")
SINK_MARK = "bench-scale"  # the subscriptions this benchmark made (found again by their URL)


@dataclass
class Load:
    """What each kind sends: a harness ``Scenario`` or (for referrals) a Lua script of its own."""

    scenarios: dict[str, Scenario]
    referral_script: Callable[[], str]


async def build(db: Database, settings: Settings, sink: str, year: int) -> Load:
    facts = await casefile.prepare(db, settings)
    await casefile.a_day_of_work(db, settings, facts)
    partner_tokens, analyst = await _client_tokens(db, settings)
    buurten = await _buurten(db)
    await _subscriptions(db, settings, sink)
    json_headers = {"Content-Type": "application/json"}
    scenarios = {name: casefile_scenario(name, facts) for name in ("overview", "list", "contact", "sync")}
    scenarios["stats"] = Scenario(
        "stats",
        [
            f"/api/v1/stats/{measure}?area=GM9999&level=buurt&period=quarter&from={year}-01-01&to={year}-12-31"
            for measure in STATS
        ],
        headers={"Authorization": f"Bearer {analyst}"},
    )
    scenarios["dashboard"] = Scenario(
        "dashboard",
        ["/graphql"],
        "POST",
        json_headers,
        body(WIJKWERK_DASHBOARD, code=buurten[0]),
    )
    template = referral_template()

    def referral_script() -> str:  # a new Idempotency-Key space for every run: no run replays another's
        return referral_lua(partner_tokens, buurten, template, "/api/v1/referrals")

    return Load(scenarios, referral_script)


async def _client_tokens(db: Database, settings: Settings) -> tuple[list[str], str]:
    async with db.transaction() as session:
        keyring = await KeyRing.load(session, settings.signing_alg, settings.secret("secret_key"))
        clients = {
            c.client_id: c
            for c in (
                await session.scalars(
                    select(OAuthClient).where(col(OAuthClient.client_id).in_([*PARTNERS, "analyst"]))
                )
            ).all()
        }
    partners = [(await mint_for_client(keyring, settings, clients[p], None))[0] for p in PARTNERS]
    analyst = (await mint_for_client(keyring, settings, clients["analyst"], {"stats:read"}))[0]
    return partners, analyst


async def _buurten(db: Database) -> list[str]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(Area.code)
            .where(Area.level == "buurt", col(Area.code).startswith("BU9999"))
            .order_by(Area.code)
        )
        return list(rows.all())


async def _subscriptions(db: Database, settings: Settings, sink: str) -> None:
    """One subscription per demo partner to every event, pointed at this run's sink."""
    box = SecretBox(settings.secret("secret_key"))
    async with db.transaction() as session:
        await session.execute(
            delete(WebhookSubscription).where(col(WebhookSubscription.url).contains(SINK_MARK))
        )
        for partner in PARTNERS:
            client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == partner))
            assert client is not None and client.organisation_id is not None
            session.add(
                WebhookSubscription(
                    organisation_id=client.organisation_id,
                    created_by_client_id=partner,
                    url=f"{sink}/hooks/{SINK_MARK}",
                    event_types=[str(e) for e in EventType],
                    secret_encrypted=box.seal(new_secret()),
                )
            )


def first_referral_body(buurt: str) -> str:
    return json.dumps(referrals.referral_body(buurt, "0"))
