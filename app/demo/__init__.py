"""Demo data for ``wijkwerk serve --demo`` and ``wijkwerk demo-data``: a fictional municipality.

Loading is idempotent: objects are found by their natural keys (codes, usernames, client ids) before
anything is created, so a second start adds nothing. Demo passwords and client secrets are random;
the database keeps only argon2 hashes, and ``<data_dir>/demo-credentials.json`` (mode 0600) keeps the
plain values. When that file still matches the database the same credentials are kept; otherwise new
ones are set and written.

Extension point for other contexts
----------------------------------
Each context adds a module ``app/demo/<context>.py`` with one or more loaders::

    from app.demo import DemoContext, demo_loader

    @demo_loader(order=20)
    async def households(uow: UnitOfWork, ctx: DemoContext) -> None:
        if not ctx.fresh:  # or look your objects up by natural key, as the organisation loader does
            return
        for _ in range(ctx.households or 25):
            ...  # use ctx.teams["a"], ctx.buurten["BU99990101"], ctx.workers["generalist_a"], ctx.rng

Every module in this package is imported by ``load_demo``, so adding the file is all it takes. Loaders
run in ascending ``order`` (ties by name) in ONE unit of work (one transaction), under an advisory
lock, and must never commit: they call the services with it, or write through ``uow.session``. Order
bands: 10 organisation, 20 households, 30 assessments and plans, 40 informal networks, 50 consents
and referrals, 60 initiatives, 90 anything that needs all of those. ``ctx.households`` is the
``--households N`` option of ``demo-data`` and ``serve`` (None: the loader's own default).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.db import Database
from app.domain.identity.passwords import SecretHasher
from app.domain.unit_of_work.work import UnitOfWork, Wiring, unit_of_work
from app.settings import Settings

CREDENTIALS_FILE = "demo-credentials.json"
_LOCK_KEY = 0x7769_6A6B  # pg_advisory_xact_lock key: one demo load at a time per database


@dataclass
class DemoContext:
    """What the loaders share: the ids of what earlier loaders made, and the demo options."""

    settings: Settings
    hasher: SecretHasher  # demo passwords and client secrets are hashed and checked with it
    households: int | None = None  # --households N; None lets each loader choose
    fresh: bool = False  # True when this run created the demo municipality (a first load)
    rng: random.Random = field(default_factory=lambda: random.Random(20261122))  # noqa: S311 - demo data
    municipality_id: uuid.UUID | None = None
    wijken: dict[str, uuid.UUID] = field(default_factory=dict)  # CBS code -> id
    buurten: dict[str, uuid.UUID] = field(default_factory=dict)  # CBS code -> id
    teams: dict[str, uuid.UUID] = field(default_factory=dict)  # "a", "b" -> id
    workers: dict[str, uuid.UUID] = field(default_factory=dict)  # "generalist_a", ... -> id
    partners: dict[str, uuid.UUID] = field(default_factory=dict)  # "debt_help", "housing" -> id
    users: dict[str, uuid.UUID] = field(default_factory=dict)  # "generalist_a", "resident", ... -> id
    clients: dict[str, str] = field(default_factory=dict)  # "partner_a", ... -> client_id
    previous: dict[str, Any] = field(default_factory=dict)  # the credentials file of an earlier load
    credentials: dict[str, Any] = field(default_factory=lambda: {"clients": {}, "users": {}})


DemoLoader = Callable[[UnitOfWork, DemoContext], Awaitable[None]]


@dataclass(frozen=True)
class RegisteredLoader:
    order: int
    name: str
    load: DemoLoader


LOADERS: list[RegisteredLoader] = []


def demo_loader(order: int, name: str | None = None) -> Callable[[DemoLoader], DemoLoader]:
    """Register ``async (uow, ctx) -> None`` to run at ``order`` (see the module docstring)."""

    def register(load: DemoLoader) -> DemoLoader:
        label = name or f"{load.__module__.rsplit('.', 1)[-1]}.{getattr(load, '__name__', 'load')}"
        if all(entry.name != label for entry in LOADERS):
            LOADERS.append(RegisteredLoader(order, label, load))
        return load

    return register


def ordered_loaders() -> list[RegisteredLoader]:
    """Import every module of this package (each registers its loaders), then sort them."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return sorted(LOADERS, key=lambda entry: (entry.order, entry.name))


StepCallback = Callable[[str, int, int], None]


async def load_demo(
    db: Database,
    settings: Settings,
    wiring: Wiring,
    hasher: SecretHasher,
    *,
    households: int | None = None,
    on_step: StepCallback | None = None,
) -> dict[str, Any]:
    """Load (or complete) the demo data; returns the credentials (shape of demo-credentials.json)."""
    ctx = DemoContext(
        settings=settings, hasher=hasher, households=households, previous=read_credentials(settings)
    )
    steps = ordered_loaders()
    async with unit_of_work(db, wiring) as uow:
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        for index, step in enumerate(steps):
            if on_step is not None:
                on_step(step.name, index, len(steps))
            await step.load(uow, ctx)
    if on_step is not None:
        on_step("done", len(steps), len(steps))
    return ctx.credentials


def credentials_path(settings: Settings) -> Path:
    return settings.data_dir / CREDENTIALS_FILE


def read_credentials(settings: Settings) -> dict[str, Any]:
    try:
        content = json.loads(credentials_path(settings).read_text())
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def write_credentials(settings: Settings, credentials: dict[str, Any]) -> Path:
    """Write the credentials file readable by its owner only (0600), replacing it atomically."""
    path = credentials_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(scratch, 0o600)
    os.replace(scratch, path)
    return path
