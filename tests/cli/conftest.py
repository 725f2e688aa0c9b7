"""The environment the commands under test run in."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings
from tests.cli.support import command_env


@pytest.fixture
def env(migrated: str, settings: Settings, tmp_path: Path) -> dict[str, str]:
    return command_env(migrated, settings, tmp_path / "data")
