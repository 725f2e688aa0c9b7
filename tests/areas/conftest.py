"""The command tests' environment (the test database, so no embedded server starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings


@pytest.fixture
def env(migrated: str, settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": migrated, "WIJKWERK_DATA_DIR": str(tmp_path / "data")}
