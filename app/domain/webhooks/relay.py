"""The webhook relay: delivers due deliveries from the outbox, signed, with retries and backoff.

Run it as ``wijkwerk relay`` (any number of copies, on any machines): each round claims a batch with
``FOR UPDATE SKIP LOCKED``, re-checks that it may still send (subscription active, consent in force,
target address public), signs each message per Standard Webhooks, POSTs them concurrently with short
timeouts and no redirects, and records the outcome in the same transaction that holds the claim.
Delivery is at-least-once (a relay killed mid-round leaves its batch to be tried again); receivers
de-duplicate on ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import orjson
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.domain.base import utcnow
from app.domain.webhooks import relay_repository, targets
from app.domain.webhooks.models import DeliveryStatus
from app.domain.webhooks.relay_repository import Job, Result
from app.domain.webhooks.rules import RetryPolicy, is_success
from app.domain.webhooks.signing import SecretBox, signature_headers
from app.settings import Settings

log = logging.getLogger("app.webhooks.relay")

USER_AGENT = "Wijkwerk-Webhooks/1.0"


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 50
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0  # per attempt, whatever the receiver does (slow drip)
    idle_interval: float = 1.0  # seconds between polls when nothing is due
    # Serve only these partner organisations (e.g. a relay of its own for a slow partner); None: all.
    organisation_ids: frozenset[uuid.UUID] | None = None


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
        self.http = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: we connect to the address we checked
            timeout=httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout),
            limits=httpx.Limits(max_connections=self.config.batch_size * 2),
            headers={"user-agent": USER_AGENT},
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
            results = await asyncio.gather(*(self._handle(job) for job in jobs))
            await relay_repository.record(session, list(results))
        sent = sum(1 for r in results if r.status is DeliveryStatus.succeeded)
        log.info("relay round", extra={"claimed": len(jobs), "succeeded": sent})
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

    # -- one delivery -------------------------------------------------------------------------------

    async def _handle(self, job: Job) -> Result:
        if not job.subscription_active:
            return self._cancelled(job, "subscription_paused")
        if not job.consent_in_force:
            return self._cancelled(job, "consent_withdrawn")
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
            next_at = job.db_now + self.config.retry.delay(attempts, self.rng)
        if status_code is not None and not is_success(status_code):
            error = "http_status"
        return Result(
            job.delivery_id, status, attempts, True, job.db_now, next_at, status_code, error, duration
        )

    def _cancelled(self, job: Job, reason: str) -> Result:
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

    def _secrets(self, job: Job) -> list[str]:
        live = [self.box.open(job.secret_encrypted)]
        expires = job.previous_secret_expires_at
        if job.previous_secret_encrypted and expires is not None and expires > job.db_now:
            live.append(self.box.open(job.previous_secret_encrypted))
        return live

    async def _send(self, job: Job) -> tuple[int | None, str | None]:
        """POST the signed message to the checked address; (status code, error category)."""
        try:
            target = await targets.check(job.url, self.policy, self.resolver)
        except targets.TargetRefused as refused:
            return None, refused.rule
        url = httpx.URL(job.url)
        body = orjson.dumps(job.payload).decode()
        headers = signature_headers(message_id(job), utcnow(), body, self._secrets(job))
        headers["content-type"] = "application/json"
        headers["host"] = url.netloc.decode("ascii")
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self.http.build_request(
            "POST",
            url.copy_with(host=target.addresses[0]),
            content=body,
            headers=headers,
            extensions=extensions,
        )
        try:
            async with asyncio.timeout(self.config.total_timeout):
                response = await self.http.send(request, stream=True)
                await response.aclose()  # the body is never read: we only need the status
        except (TimeoutError, httpx.TimeoutException):
            return None, "timeout"
        except httpx.HTTPError:
            return None, "connect_error"
        return response.status_code, None


async def run_relay(
    settings: Settings,
    database_url: str | None = None,
    *,
    once: bool = False,
    stop: asyncio.Event | None = None,
    config: RelayConfig | None = None,
) -> int:
    """The ``wijkwerk relay`` entry point. Without a database URL it joins the embedded server.

    ``once``: deliver what is due now and return (for cron or a smoke test). Otherwise run until
    SIGINT/SIGTERM or ``stop``. Returns the number of deliveries claimed.
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
            return await relay.drain()
        stop = stop or _stop_on_signals()
        await relay.run(stop)
        return 0
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
