"""The referral benchmark's database: an embedded PostgreSQL of its own, migrated, with partners.

One municipality (GM0998) with one wijk of 16 buurten, four teams covering four buurten each, and
``PARTNERS`` partner organisations, each with its own OAuth client (role partner) and one webhook
subscription for every referral event, so every posted referral queues one event and one delivery.

The server lives in ``.wijkwerk/bench-referrals/pgdata`` (never the shared test server) and stops
when the process that started it exits. Tokens are real: minted by the app's own token code
(``app.domain.identity.grants.mint_for_client``) with the keys in this database.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from alembic.util.exc import CommandError
from sqlmodel import col, select

from app.db import Database
from app.domain.identity.grants import mint_for_client
from app.domain.identity.keys import KeyRing
from app.domain.identity.models import ClientAuthMethod, OAuthClient
from app.domain.organisation.models import Area, Municipality, PartnerOrganisation, Team, TeamArea
from app.domain.webhooks.models import EventType, WebhookSubscription
from app.domain.webhooks.signing import SecretBox, new_secret
from app.embedded import create_database, drop_database, start_embedded_postgres
from app.migrations import upgrade
from app.security.scopes import Role, allowed_scopes
from app.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".wijkwerk" / "bench-referrals"
DATABASE = "wijkwerk_bench_referrals"
MUNICIPALITY = "GM0998"
BUURTEN = [f"BU099801{i:02d}" for i in range(16)]
PARTNERS = 16
ISSUER = "https://wijkwerk.bench.invalid"
# Fixed secrets for the benchmark only (the API server and the relays must share the secret key).
SECRETS = {
    name: f"bench-{name}-" + "x" * 32 for name in ("secret_key", "bsn_encryption_key", "bsn_index_key")
}
RECEIVER_URL = "http://127.0.0.1:9/hooks"  # replaced by the receiver's real port before a relay run


@dataclass
class BenchDatabase:
    url: str  # postgresql+asyncpg:// (Wijkwerk)
    dsn: str  # postgresql:// with the socket folder as host (asyncpg)
    server: Any


def start() -> BenchDatabase:
    url, server = start_embedded_postgres(DATA_DIR, DATABASE)
    return BenchDatabase(url=url, dsn=server.get_uri(DATABASE), server=server)


def settings(url: str, *, production: bool = True) -> Settings:
    """The settings the API server (production) and the relays (development: loopback targets) use."""
    return Settings(
        environment=Environment.production if production else Environment.development,
        database_url=url,
        issuer=ISSUER,
        data_dir=DATA_DIR / "app",
        log_level="WARNING",
        access_token_ttl_seconds=3600,
        webhook_allow_private_targets=not production,
        **SECRETS,  # type: ignore[arg-type]
    )


def environment(url: str, *, production: bool = True, rate_limit: int = 1_000_000) -> dict[str, str]:
    """The same settings as environment variables, for a uvicorn or relay subprocess.

    The per-client rate limit (default 1200/min) would cap 16 partners at 320 requests/s: it is a
    policy, not a capacity, so the benchmark raises it (the limiter still runs on every request).
    """
    env = {
        "WIJKWERK_ENVIRONMENT": "production" if production else "development",
        "DATABASE_URL": url,
        "WIJKWERK_ISSUER": ISSUER,
        "WIJKWERK_DATA_DIR": str(DATA_DIR / "app"),
        "WIJKWERK_LOG_LEVEL": "WARNING",
        "WIJKWERK_ACCESS_TOKEN_TTL_SECONDS": "3600",
        "WIJKWERK_RATE_LIMIT_MACHINE_PER_MINUTE": str(rate_limit),
        **{f"WIJKWERK_{name.upper()}": value for name, value in SECRETS.items()},
    }
    if not production:
        env["WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
    return env


async def prepare(db: BenchDatabase) -> None:
    """Migrate to the heads and create the organisation once (found again by its code later)."""
    try:
        await _migrate(db.url)
    except CommandError:  # the chain of revisions was rewritten since: start from an empty database
        drop_database(db.server, DATABASE)
        create_database(db.server, DATABASE)
        await _migrate(db.url)
    database = Database(db.url, settings(db.url))
    try:
        async with database.transaction() as session:
            found = await session.scalar(select(Municipality.id).where(Municipality.code == MUNICIPALITY))
            if found is None:
                await _organisation(session, SecretBox(SECRETS["secret_key"]))
    finally:
        await database.dispose()


async def _migrate(url: str) -> None:
    database = Database(url, settings(url))
    try:
        await upgrade(database.engine)
    finally:
        await database.dispose()


async def _organisation(session: Any, box: SecretBox) -> None:
    municipality = Municipality(code=MUNICIPALITY, name="Benchdorp")
    session.add(municipality)
    await session.flush()
    wijk = Area(municipality_id=municipality.id, code="WK099801", name="Wijk 1", level="wijk")
    session.add(wijk)
    await session.flush()
    buurten = [
        Area(municipality_id=municipality.id, parent_id=wijk.id, code=code, name=f"Buurt {i}", level="buurt")
        for i, code in enumerate(BUURTEN)
    ]
    teams = [Team(municipality_id=municipality.id, name=f"Team {i}") for i in range(4)]
    session.add_all([*buurten, *teams])
    await session.flush()
    session.add_all(TeamArea(team_id=teams[i // 4].id, area_id=b.id) for i, b in enumerate(buurten))
    scopes = sorted(str(s) for s in allowed_scopes(Role.partner))
    for i in range(PARTNERS):
        organisation = PartnerOrganisation(name=f"Bench partner {i}", kind="debt_help")
        session.add(organisation)
        await session.flush()
        session.add(
            OAuthClient(
                client_id=f"bench-partner-{i:02d}",
                name=f"Bench partner {i}",
                role=Role.partner,
                organisation_id=organisation.id,
                auth_method=ClientAuthMethod.client_secret_basic,
                secret_hash="!unusable",  # noqa: S106 - tokens are minted directly; no secret logs in
                allowed_scopes=scopes,
            )
        )
        session.add(
            WebhookSubscription(
                organisation_id=organisation.id,
                created_by_client_id=f"bench-partner-{i:02d}",
                url=RECEIVER_URL,
                event_types=[str(e) for e in EventType],
                secret_encrypted=box.seal(new_secret()),
            )
        )


async def partner_tokens(url: str) -> list[str]:
    """One real access token per partner client, from the app's token code and this database's keys."""
    config = settings(url)
    database = Database(url, config)
    try:
        async with database.transaction() as session:
            keyring = await KeyRing.load(session, config.signing_alg, config.secret("secret_key"))
            clients = (
                await session.scalars(
                    select(OAuthClient)
                    .where(col(OAuthClient.client_id).startswith("bench-partner-"))
                    .order_by(col(OAuthClient.client_id))
                )
            ).all()
        return [(await mint_for_client(keyring, config, c, None))[0] for c in clients]
    finally:
        await database.dispose()


def referral_body(buurt: str, n: str) -> dict[str, Any]:
    return {
        "person": {"given_name": f"Sanne {n}", "family_name": "Jansen", "birth_date": "1990-02-03"},
        "buurt_code": buurt,
        "reason_domain": "finances",
        "urgency": "urgent",
        "description": "Twee maanden huurachterstand.",
        "legal_basis": "legal_duty",
        "legal_basis_note": "Wgs art. 12: vroegsignalering betalingsachterstand",
    }


async def point_subscriptions_at(dsn: str, url: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "UPDATE webhook_subscriptions SET url = $1 WHERE created_by_client_id LIKE 'bench-partner-%'", url
        )
    finally:
        await connection.close()


def new_key() -> str:
    return f"bench-{uuid.uuid4().hex}-{secrets.token_hex(4)}"
