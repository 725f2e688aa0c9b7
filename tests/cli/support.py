"""Running ``wijkwerk`` commands against the test database, as from a shell."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from app import cli
from app.settings import Settings


def command_env(database_url: str, settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment of a command that works on the app under test's database."""
    assert settings.secret_key is not None
    return {
        "DATABASE_URL": database_url,
        "WIJKWERK_DATA_DIR": str(data_dir),
        # The app under test wraps its signing keys with this secret; `keys rotate` must use the same.
        "WIJKWERK_SECRET_KEY": settings.secret_key.get_secret_value(),
        # The commands hash what they create as the app under test does (cheaply).
        "WIJKWERK_PASSWORD_HASHING": str(settings.password_hashing),
    }


async def invoke(args: list[str], env: dict[str, str], input: str | None = None) -> Result:
    """Run the command in a thread: it runs its own event loop, as from a shell."""
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(cli.app, args, env=env, input=input))


def output_json(result: Result) -> dict[str, Any]:
    """The JSON a command printed (``--json``), once it succeeded."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return dict(json.loads(result.stdout))
