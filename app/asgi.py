"""The app factory uvicorn runs (``app.asgi:create``): settings from the environment.

``wijkwerk serve`` exports ``DATABASE_URL`` (the embedded server's, when none was configured) before
starting uvicorn, so every worker process builds the same app against the same database. To run
without the CLI: ``DATABASE_URL=postgresql://... uvicorn --factory app.asgi:create``.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.main import create_app
from app.settings import get_settings


def create() -> FastAPI:
    get_settings.cache_clear()  # read the environment as the parent process left it
    return create_app(get_settings())
