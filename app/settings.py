"""One documented Settings object, read from the environment (``WIJKWERK_*`` and ``DATABASE_URL``).

Secrets that a development or demo run needs but nobody configured are generated once and kept in
``<data_dir>/secrets.json`` (mode 0600). In production settings they must be given explicitly.
"""

from __future__ import annotations

import json
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class PasswordHashing(StrEnum):
    """How much a password or client-secret hash costs to make (``WIJKWERK_PASSWORD_HASHING``)."""

    # argon2id at argon2-cffi's defaults (RFC 9106, low memory): slow on purpose, the only choice in
    # production.
    argon2id = "argon2id"
    # argon2id at the library's cheapest parameters, for test suites and throwaway demos: a hash costs
    # microseconds instead of tens of milliseconds. Refused in production settings.
    fast = "fast"


# DigiD Midden, Substantieel and Hoog (the SAML AuthnContextClassRefs of Logius), and the eIDAS
# levels substantial and high: what a broker puts in ``acr`` for a sign-in of at least DigiD Midden.
DIGID_SUBSTANTIAL_OR_HIGHER = (
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    "http://eidas.europa.eu/LoA/substantial",
    "http://eidas.europa.eu/LoA/high",
)


def _list_setting(value: Any) -> Any:
    """A list from the environment: a JSON list or comma-separated values."""
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
    return value


class DatabasePooler(StrEnum):
    none = "none"  # the API connects to PostgreSQL itself
    transaction = "transaction"  # through a pooler in transaction mode (PgBouncer pool_mode=transaction)


class Settings(BaseSettings):
    """Every knob of the service. Each field maps to ``WIJKWERK_<NAME>`` unless noted."""

    model_config = SettingsConfigDict(env_prefix="WIJKWERK_", extra="ignore")

    environment: Environment = Environment.development
    data_dir: Path = Path(".wijkwerk")
    # Any PostgreSQL server; without it an embedded PostgreSQL runs in data_dir/pgdata.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "WIJKWERK_DATABASE_URL")
    )
    # Per process. Overflow connections are closed again at check-in, so a pool smaller than the
    # steady concurrency opens and closes connections all the time (bench/referrals: 16 partners on
    # a pool of 10 ran at 300 requests/s, on a pool of 16 at 400).
    # Streaming replicas for the reads that may be a few seconds behind (statistics, the public and
    # dashboard GraphQL queries): one or more postgresql:// URLs, comma-separated. Writes, case files
    # (their reads write the access log), sync and webhook cursors always use the primary.
    read_database_url: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A replica further behind the primary than this (or unreachable) is not read from: its reads go
    # to the primary until it has caught up.
    read_max_lag_seconds: float = Field(default=10.0, gt=0, le=3600)
    # How long a replica's lag and reachability, once checked, are trusted (one small query per
    # replica per interval and process).
    read_check_seconds: float = Field(default=2.0, ge=0, le=60)
    db_pool_size: int = 16
    db_max_overflow: int = 4
    statement_timeout_ms: int = 5000
    # What sits between the API and PostgreSQL. ``transaction``: a pooler in transaction mode
    # (PgBouncer): no prepared statements kept per connection, no session settings sent at connect
    # (the statement timeout is the role's or database's, see docs/operations.md).
    database_pooler: DatabasePooler = DatabasePooler.none
    # A direct connection (not through the pooler) for migrations and the partition jobs, whose DDL
    # and session-level advisory locks need one session; without it DATABASE_URL is used.
    migration_database_url: str | None = None
    # Monthly partitions of the access log and change feed made ahead of time (``wijkwerk partitions
    # maintain``, and at start-up), so rows never land in the default partition.
    partition_months_ahead: int = Field(default=3, ge=1, le=24)

    # OAuth / tokens
    issuer: str = "http://localhost:8000"
    audience: str = "wijkwerk-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    signing_alg: str = "ES256"
    token_leeway_seconds: int = Field(default=30, ge=0, le=60)
    authorization_code_ttl_seconds: int = Field(default=60, ge=10, le=600)
    # Refresh tokens of people's apps (rotated on every use): a sign-in lasts this long at most (a
    # working day), and ends earlier when the app has not refreshed for the idle time.
    refresh_token_ttl_seconds: int = Field(default=12 * 3600, ge=900, le=7 * 24 * 3600)
    refresh_token_idle_seconds: int = Field(default=4 * 3600, ge=900, le=7 * 24 * 3600)

    # Trust an external OpenID Connect issuer as well (the municipality's IdP).
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_subject_claim: str = "sub"
    oidc_role_claim: str = "roles"
    # JSON object: external role value -> Wijkwerk role, e.g. {"wijkteam-generalist": "generalist"}
    oidc_role_map: dict[str, str] = Field(default_factory=dict)
    # Household members (self-service) signing in with DigiD through the municipality's broker: the
    # claim that carries the BSN (a dotted path reaches nested claims). A token of the trusted issuer
    # with this claim is a household member's; the BSN only finds the member through the blind index
    # and is never stored, logged or put in a token of ours. None: residents do not sign in there.
    oidc_bsn_claim: str | None = None
    # The assurance level such a token must carry (claim, and the accepted values): by default DigiD
    # Midden or higher (substantial/high in eIDAS terms), the level for data of the social domain.
    oidc_member_acr_claim: str = "acr"
    oidc_member_acr_values: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DIGID_SUBSTANTIAL_OR_HIGHER)
    )

    # Self-service (household members): whether a member's access-log view names the individual
    # workers who looked (True) or shows their role and organisation only (False, the default: the
    # AVG gives a right to know who received the data, not which employee; CJEU C-579/21).
    self_service_worker_names: bool = False
    # How long an activation code a coordinator hands a household member stays valid.
    self_service_activation_hours: int = Field(default=72, ge=1, le=30 * 24)

    # Cost of new password and client-secret hashes (existing hashes verify whatever their cost).
    password_hashing: PasswordHashing = PasswordHashing.argon2id

    # Secrets: a key that wraps token signing keys, and the BSN encryption and blind-index keys.
    secret_key: SecretStr | None = None
    bsn_encryption_key: SecretStr | None = None
    bsn_index_key: SecretStr | None = None

    # Rate limits (requests per minute, per client).
    rate_limit_token_per_minute: int = 60
    rate_limit_machine_per_minute: int = 1200

    # How long an Idempotency-Key's stored answer is replayed before the key may be purged.
    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 30)

    # The sociale kaart (docs/directory.md): an entry nobody verified for this many months is flagged
    # stale and listed for the administrator; opening hours are read in this time zone ("open now").
    directory_stale_months: int = Field(default=12, ge=1, le=120)
    directory_time_zone: str = "Europe/Amsterdam"
    # Anonymous directory searches (app.web.answer_cache): answers each process keeps (0: off, the
    # search answers no-store without an ETag), for how long at most, and the max-age browsers get.
    directory_answer_cache_entries: int = Field(default=1000, ge=0, le=100_000)
    directory_answer_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    directory_cache_max_age_seconds: int = Field(default=60, ge=0, le=3600)

    # Retention (`wijkwerk purge`, docs/privacy.md), in days. The municipality decides these terms (its
    # privacy policy and Archiefwet selection list); the law gives the frame: the Jeugdwet (art. 7.3.8)
    # keeps a youth-care file 15 years after the help ended, the Wmo 2015 sets no term (shorter ones are
    # usual), and the AVG (art. 5(1)(e)) forbids keeping data longer than needed. The defaults suit a team
    # whose household files mix youth care and Wmo support.
    # A closed file is deleted whole (household, members, notes, plans, referrals, consents ...) this
    # long after closing (15 years, leap days included).
    retention_closed_household_days: int = Field(default=15 * 365 + 4, ge=365)
    # A contact moment's note text is blanked this long after the contact; the contact itself stays.
    retention_contact_note_days: int = Field(default=2 * 365, ge=30)
    # People of the informal network (they never asked to be in a file) go this long after closing.
    retention_network_person_days: int = Field(default=365, ge=0)
    # Inbound referrals declined, cancelled or completed without ever joining a file.
    retention_unlinked_referral_days: int = Field(default=365, ge=30)
    # Webhook events (and their deliveries) with nothing left to deliver.
    retention_outbox_days: int = Field(default=30, ge=1)
    # The sync horizon: change-feed rows older than this go; phones with an older cursor start afresh.
    retention_change_feed_days: int = Field(default=90, ge=7)
    # The access log: unset, it is kept (its term is the database owner's). Set, a month of it goes as
    # a whole once all of it is older than this: detached and moved to the ``archive`` schema, or with
    # ``retention_access_log_archive=false`` dropped.
    retention_access_log_days: int | None = Field(default=None, ge=365)
    retention_access_log_archive: bool = True
    # Rows per purge transaction (whole households: a twentieth of it), so no lock is held for long.
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)

    # Disclosure control of published aggregates: may be raised, never lowered below these floors.
    stats_threshold: int = Field(default=10, ge=10)
    stats_rounding_base: int = Field(default=5, ge=5)
    stats_min_denominator: int = Field(default=20, ge=20)
    # Catalogue measures anyone may read per neighbourhood in GraphQL (anonymous callers included);
    # analysts and members of networks covering the buurt read every measure. Never case figures by
    # default. Env: a JSON list or comma-separated ids. Each must be a catalogue measure.
    stats_public_measures: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "initiatives",
            "initiative_participants",
            "initiative_budget_granted",
            "initiative_budget_spent",
        ]
    )
    # The statistics rollups are refreshed when a request finds them older than this (and by
    # `wijkwerk stats refresh`, e.g. from cron at this interval).
    stats_refresh_seconds: int = Field(default=900, ge=60)

    # Plans: the evaluation date an agreed plan gets when none was given, in months after the agreement
    # (and after each evaluation, unless the evaluation names the next date).
    plan_evaluation_months: int = Field(default=3, ge=1, le=24)

    # The worklist (docs/worklist.md): an item shows this many days before it is due; the thresholds
    # behind its items. Contact weeks per 80-20-5 tier (and "none" before any assessment), as JSON.
    worklist_horizon_days: int = Field(default=14, ge=0, le=90)
    worklist_contact_weeks: dict[str, int] = Field(
        default_factory=lambda: {"specialist": 2, "support": 4, "self_reliant": 8, "none": 4}
    )
    worklist_inbound_decision_days: int = Field(default=3, ge=0, le=60)
    worklist_partner_response_days: int = Field(default=10, ge=1, le=120)
    worklist_consent_expiry_days: int = Field(default=30, ge=1, le=365)
    worklist_plan_agreement_days: int = Field(default=42, ge=1, le=365)
    worklist_break_glass_review_days: int = Field(default=7, ge=0, le=60)
    worklist_aftercare_weeks: int = Field(default=13, ge=1, le=104)

    # Webhook targets on private/loopback/link-local addresses (development and tests only).
    webhook_allow_private_targets: bool = False

    # Policy signals (docs/policy-signals.md): whether the municipality publishes the signal aggregates
    # (per theme and status, days to an answer, outcomes) to everyone; otherwise BI and policy staff only.
    policy_signal_stats_public: bool = False
    # GraphQL for public dashboards (docs/graphql.md). Anonymous callers run only the published
    # (persisted) documents of app/graphql/persisted when this is on: set it in production.
    graphql_persisted_only: bool = False
    # max-age of an anonymous GET answer (Cache-Control: public) for browsers and CDNs; the server's
    # own copy is recomputed as soon as public data changes, whatever this says.
    graphql_cache_max_age_seconds: int = Field(default=10, ge=0, le=3600)
    # Anonymous GET answers each process keeps (0: none), and for how long at most.
    graphql_answer_cache_entries: int = Field(default=1000, ge=0, le=100_000)
    graphql_answer_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)

    log_level: str = "INFO"
    # Set by `wijkwerk serve --demo`: demo data is loaded and the GraphQL IDE is on.
    demo: bool = False

    @field_validator("stats_public_measures", "oidc_member_acr_values", mode="before")
    @classmethod
    def _parse_lists(cls, value: Any) -> Any:
        return _list_setting(value)

    @field_validator("read_database_url", mode="before")
    @classmethod
    def _parse_read_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("read_database_url")
    @classmethod
    def _postgres_read_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
                # The URL itself is not repeated: it may hold a password.
                raise ValueError("each WIJKWERK_READ_DATABASE_URL must be a postgresql:// URL")
        return list(dict.fromkeys(value))

    @field_validator("stats_public_measures")
    @classmethod
    def _unique_measures(cls, value: list[str]) -> list[str]:
        # Whether each is a catalogue measure is checked where the catalogue is known
        # (``app.bootstrap.checked_settings``, when the app or a job starts).
        return list(dict.fromkeys(value))

    @field_validator("worklist_contact_weeks", mode="before")
    @classmethod
    def _parse_contact_weeks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("worklist_contact_weeks")
    @classmethod
    def _contact_weeks_range(cls, value: dict[str, int]) -> dict[str, int]:
        # Which keys are tiers is checked where the tiers are known (``app.bootstrap.checked_settings``).
        if any(not 1 <= weeks <= 104 for weeks in value.values()):
            raise ValueError("worklist_contact_weeks: every value is a number of weeks from 1 to 104")
        return value

    @field_validator("directory_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("directory_time_zone: not an IANA time zone, e.g. Europe/Amsterdam") from None
        return value

    @field_validator("oidc_role_map", mode="before")
    @classmethod
    def _parse_role_map(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment is Environment.production:
            missing = [
                name
                for name in ("secret_key", "bsn_encryption_key", "bsn_index_key", "database_url")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(
                    f"production settings need: {', '.join('WIJKWERK_' + m.upper() for m in missing)}"
                )
            if not self.issuer.startswith("https://"):
                raise ValueError("production settings need an https issuer")
            if self.password_hashing is not PasswordHashing.argon2id:
                raise ValueError(
                    f"WIJKWERK_PASSWORD_HASHING={self.password_hashing} is for tests and development: "
                    "production settings hash passwords with argon2id"
                )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    def secret(self, name: str) -> str:
        """A secret by name: configured, or generated once into the data folder (not in production)."""
        configured = getattr(self, name)
        if configured is not None:
            return str(configured.get_secret_value())
        return _dev_secrets(self.data_dir)[name]


def _dev_secrets(data_dir: Path) -> dict[str, str]:
    path = data_dir / "secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    data_dir.mkdir(parents=True, exist_ok=True)
    values = {
        name: secrets.token_urlsafe(32) for name in ("secret_key", "bsn_encryption_key", "bsn_index_key")
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return values


@lru_cache
def get_settings() -> Settings:
    return Settings()
