"""Wijkwerk as ``app.asgi:create`` builds it, plus two one-line changes proposed outside this
benchmark's ownership, to measure what they would give (bench-only; production code is unchanged):

* ``gc.freeze()`` once the app is built (``app/asgi.py``): the app holds ~340k long-lived objects
  (modules, schema, mappers) that every full garbage collection walks again; under 16 concurrent
  dashboard requests the collector takes ~25% of the CPU (py-spy --native).
* ``pool_pre_ping=False`` (``app/db.py``): the pre-ping costs a round trip to PostgreSQL on every
  checkout, i.e. every request; on this machine each round trip costs ~0.25 ms of CPU in ``write``.
  Without it a connection broken while idle fails one request instead (SQLAlchemy then discards
  the pool's stale connections), or ``pool_recycle`` bounds their age.
"""

from __future__ import annotations

import gc
from functools import partial
from typing import Any

from fastapi import FastAPI

import app.main
from app.asgi import create as create_app
from app.db import Database


def create() -> FastAPI:
    no_ping: Any = partial(Database, pool_pre_ping=False)
    app.main.Database = no_ping  # type: ignore[misc]  # what the lifespan builds its engine with
    built = create_app()
    gc.freeze()
    return built
