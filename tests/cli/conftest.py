"""The environment the `wijkwerk` command tests run in: the test database, so no embedded server starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings


@pytest.fixture
def env(migrated: str, settings: Settings, tmp_path: Path) -> dict[str, str]:
    assert settings.secret_key is not None
    return {
        "DATABASE_URL": migrated,
        "WIJKWERK_DATA_DIR": str(tmp_path / "data"),
        # The app under test wraps its signing keys with this secret; `keys rotate` must use the same.
        "WIJKWERK_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
