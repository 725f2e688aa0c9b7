"""Load the demo data into the app under test, with the app's own database, settings, wiring and hasher."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.demo import load_demo


async def load_demo_into(app: FastAPI, *, households: int | None = None) -> dict[str, Any]:
    state = app.state
    return await load_demo(state.db, state.settings, state.wiring, state.secret_hasher, households=households)
