"""Running a `wijkwerk` command as from a shell, with typer's runner."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from typer.testing import CliRunner, Result

from app import cli


async def invoke(args: list[str], env: dict[str, str], input: str | None = None) -> Result:
    """Run the command in a thread: it runs its own event loop, as from a shell."""
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(cli.app, args, env=env, input=input))


def output_json(result: Result) -> dict[str, Any]:
    """The JSON a command printed on success."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return dict(json.loads(result.stdout))
