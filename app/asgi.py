"""The app factory uvicorn runs (``app.asgi:create``): settings from the environment.

``wijkwerk serve`` exports ``DATABASE_URL`` (the embedded server's, when none was configured) before
starting uvicorn, so every worker process builds the same app against the same database. To run
without the CLI: ``DATABASE_URL=postgresql://... uvicorn --factory app.asgi:create``.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from app.main import create_app
from app.settings import get_settings


def create() -> FastAPI:
    get_settings.cache_clear()  # read the environment as the parent process left it
    app = create_app(get_settings())
    # Everything made so far (modules, the app, its routes and schemas) lives as long as the process:
    # move it out of the collector's generations, so collections during requests do not walk it again.
    gc.collect()
    gc.freeze()
    return app
