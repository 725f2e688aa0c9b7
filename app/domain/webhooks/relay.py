"""The webhook relay: delivers due deliveries from the outbox, signed, with retries and backoff.

Run it as ``wijkwerk relay`` (any number of copies, on any machines): each round claims a batch with
``FOR UPDATE SKIP LOCKED``, re-checks that it may still send (subscription active, consent in force,
target address public: each distinct URL is resolved and checked once per round, just before its
sends), signs each message per Standard Webhooks, POSTs them concurrently over kept-alive
connections (``sender``) with short timeouts and no redirects, and records the outcome in the same
transaction that holds the claim. The events of one referral to one URL go out one after the other,
oldest first, so a receiver sees them in order. Delivery is at-least-once (a relay killed mid-round
leaves its batch to be tried again); receivers de-duplicate on ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import SplitResult, quote, urlsplit

import orjson
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.domain.base import utcnow
from app.domain.webhooks import relay_repository, targets
from app.domain.webhooks.models import DeliveryStatus
from app.domain.webhooks.relay_repository import Job, Result
from app.domain.webhooks.rules import RetryPolicy, is_success
from app.domain.webhooks.sender import Endpoint, Sender, SendFailed
from app.domain.webhooks.signing import SecretBox, signature_headers
from app.settings import Settings

log = logging.getLogger("app.webhooks.relay")

USER_AGENT = "Wijkwerk-Webhooks/1.0"


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 200
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0  # per attempt, whatever the receiver does (slow drip)
    idle_interval: float = 1.0  # seconds between polls when nothing is due
    # Serve only these partner organisations (e.g. a relay of its own for a slow partner); None: all.
    organisation_ids: frozenset[uuid.UUID] | None = None
    per_target: int = 16  # at most this many connections (requests in flight) to one target address


@dataclass(frozen=True)
class Tally:
    """What a relay's rounds made of the deliveries they claimed."""

    delivered: int = 0
    retried: int = 0  # the attempt failed; another one is scheduled (backoff)
    dead: int = 0  # the last attempt failed; only a redelivery through the API sends it again
    cancelled: int = 0  # not sent: the subscription is paused or the consent withdrawn
    failures: Counter[str] = field(default_factory=Counter)  # failed attempts by error category

    @classmethod
    def of(cls, results: list[Result]) -> Tally:
        statuses = Counter(result.status for result in results)
        return cls(
            delivered=statuses[DeliveryStatus.succeeded],
            retried=statuses[DeliveryStatus.pending],
            dead=statuses[DeliveryStatus.dead],
            cancelled=statuses[DeliveryStatus.cancelled],
            failures=Counter(
                result.error or "unknown"
                for result in results
                if result.status in {DeliveryStatus.pending, DeliveryStatus.dead}
            ),
        )

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.delivered + other.delivered,
            self.retried + other.retried,
            self.dead + other.dead,
            self.cancelled + other.cancelled,
            self.failures + other.failures,
        )

    @property
    def nothing_delivered(self) -> bool:
        """Attempts were made and none arrived (a run that found nothing due is not a failure)."""
        return self.delivered == 0 and self.retried + self.dead > 0


def message_id(job: Job) -> str:
    return f"msg_{job.event_id.hex}"


class Relay:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        config: RelayConfig | None = None,
        *,
        resolver: targets.Resolver = targets.system_resolver,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.config = config or RelayConfig()
        self.policy = targets.policy_for(settings)
        self.box = SecretBox(settings.secret("secret_key"))
        self.resolver = resolver
        self.rng = rng or random.SystemRandom()
        self.tally = Tally()  # of every round since the relay started
        self.http = Sender(
            connect_timeout=self.config.connect_timeout,
            read_timeout=self.config.read_timeout,
            per_target=self.config.per_target,
            user_agent=USER_AGENT,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run_once(self, *, due_by: datetime | None = None) -> int:
        """Attempt one batch of due deliveries; returns how many were claimed.

        ``due_by`` (default: the database's now) lets a caller treat later retries as due already.
        """
        async with self.db.transaction() as session:
            jobs = await relay_repository.claim(
                session,
                limit=self.config.batch_size,
                due_by=due_by,
                organisation_ids=self.config.organisation_ids,
            )
            if not jobs:
                return 0
            results = await _Round(self).deliver(jobs)
            await relay_repository.record(session, results)
        tally = Tally.of(results)
        self.tally += tally
        log.info(
            "relay round",
            extra={
                "claimed": len(jobs),
                "succeeded": tally.delivered,
                "retried": tally.retried,
                "dead": tally.dead,
                "failures": dict(tally.failures),
            },
        )
        return len(jobs)

    async def drain(self, *, due_by: datetime | None = None) -> int:
        """Rounds until nothing is due; returns the total claimed."""
        total = 0
        while claimed := await self.run_once(due_by=due_by):
            total += claimed
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set. A failing database is waited out, not fatal."""
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except (OSError, TimeoutError, SQLAlchemyError) as error:
                log.warning("relay round failed", extra={"error_type": type(error).__name__})
                claimed = 0
            if claimed < self.config.batch_size:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.idle_interval)


class _Round:
    """One batch: its target checks and opened secrets are shared by its deliveries."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.config = relay.config
        self._targets: dict[str, asyncio.Future[targets.Target | targets.TargetRefused]] = {}
        self._secrets: dict[tuple[str, str | None], list[str]] = {}

    async def deliver(self, jobs: list[Job]) -> list[Result]:
        """Every job once: chains (one referral's events to one URL, oldest first) run concurrently."""
        chains: dict[tuple[str, uuid.UUID | None], list[Job]] = {}
        for job in jobs:
            key = (job.url, job.referral_id or job.delivery_id)
            chains.setdefault(key, []).append(job)
        done = await asyncio.gather(*(self._chain(chain) for chain in chains.values()))
        return [result for chain in done for result in chain]

    async def _chain(self, jobs: list[Job]) -> list[Result]:
        return [await self._handle(job) for job in jobs]

    async def _handle(self, job: Job) -> Result:
        if not job.subscription_active:
            return _cancelled(job, "subscription_paused")
        if not job.consent_in_force:
            return _cancelled(job, "consent_withdrawn")
        started = time.monotonic()
        status_code, error = await self._send(job)
        duration = int((time.monotonic() - started) * 1000)
        attempts = job.attempts + 1
        if is_success(status_code):
            status, next_at = DeliveryStatus.succeeded, job.db_now
        elif self.config.retry.give_up(attempts):
            status, next_at = DeliveryStatus.dead, job.db_now
        else:
            status = DeliveryStatus.pending
            next_at = job.db_now + self.config.retry.delay(attempts, self.relay.rng)
        if status_code is not None and not is_success(status_code):
            error = "http_status"
        return Result(
            job.delivery_id, status, attempts, True, job.db_now, next_at, status_code, error, duration
        )

    async def _target(self, url: str) -> targets.Target | targets.TargetRefused:
        """The URL's checked target, resolved once per round (the check runs right before sending)."""
        found = self._targets.get(url)
        if found is None:
            found = self._targets[url] = asyncio.ensure_future(self._check(url))
        return await asyncio.shield(found)

    async def _check(self, url: str) -> targets.Target | targets.TargetRefused:
        try:
            return await targets.check(url, self.relay.policy, self.relay.resolver)
        except targets.TargetRefused as refused:
            return refused

    def _secrets_of(self, job: Job) -> list[str]:
        expires = job.previous_secret_expires_at
        previous = job.previous_secret_encrypted if expires is not None and expires > job.db_now else None
        key = (job.secret_encrypted, previous)
        live = self._secrets.get(key)
        if live is None:
            box = self.relay.box
            live = [box.open(job.secret_encrypted)] + ([box.open(previous)] if previous else [])
            self._secrets[key] = live
        return live

    async def _send(self, job: Job) -> tuple[int | None, str | None]:
        """POST the signed message to the checked address; (status code, error category)."""
        target = await self._target(job.url)
        if isinstance(target, targets.TargetRefused):
            return None, target.rule
        parts = urlsplit(job.url)  # its shape was checked with the target
        body = orjson.dumps(job.payload).decode()
        headers = signature_headers(message_id(job), utcnow(), body, self._secrets_of(job))
        endpoint = Endpoint(
            target.addresses[0], target.port, target.host if target.scheme == "https" else None
        )
        try:
            async with asyncio.timeout(self.config.total_timeout):
                status = await self.relay.http.post(
                    endpoint,
                    _host_header(parts),
                    _request_target(parts),
                    [("content-type", "application/json"), *headers.items()],
                    body.encode(),
                )
        except TimeoutError:
            return None, "timeout"
        except SendFailed as failed:
            return None, failed.category
        return status, None


def _host_header(parts: SplitResult) -> str:
    """The URL's host (IDNA-encoded, IPv6 in brackets) and explicit port, as the Host header."""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    return f"{host}:{parts.port}" if parts.port is not None else host


def _request_target(parts: SplitResult) -> str:
    """Path and query, percent-encoded where needed (already-encoded sequences are kept)."""
    path = quote(parts.path or "/", safe=_SAFE)
    return f"{path}?{quote(parts.query, safe=_SAFE + '?')}" if parts.query else path


_SAFE = "/%:@!$&'()*+,;=-._~"


def _cancelled(job: Job, reason: str) -> Result:
    return Result(
        job.delivery_id,
        DeliveryStatus.cancelled,
        job.attempts,
        False,
        job.db_now,
        job.db_now,
        None,
        reason,
        0,
    )


async def run_relay(
    settings: Settings,
    database_url: str | None = None,
    *,
    once: bool = False,
    stop: asyncio.Event | None = None,
    config: RelayConfig | None = None,
) -> Tally:
    """The ``wijkwerk relay`` entry point. Without a database URL it joins the embedded server.

    ``once``: deliver what is due now and return (for cron or a smoke test). Otherwise run until
    SIGINT/SIGTERM or ``stop``. Returns what became of the deliveries it claimed.
    """
    url = database_url or settings.database_url
    if url is None:
        from app.embedded import start_embedded_postgres

        url, _server = await asyncio.to_thread(start_embedded_postgres, settings.data_dir)
    assert url is not None
    db = Database(url, settings, pool_size=2, max_overflow=1)
    relay = Relay(db, settings, config)
    try:
        if once:
            await relay.drain()
        else:
            await relay.run(stop or _stop_on_signals())
        return relay.tally
    finally:
        await relay.aclose()
        await db.dispose()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop
