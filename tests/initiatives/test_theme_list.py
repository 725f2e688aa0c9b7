"""The shared theme list is reference data: a process reads it at most once per THEMES_MAX_AGE."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.domain.initiatives import service
from tests.support.statements import counting_statements


async def test_the_theme_list_is_read_again_only_when_it_is_old(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.state.db.transaction() as session:
        themes = await service.themes(session)
        assert {"debts", "loneliness"} <= {t.code for t in themes}
        with counting_statements(app.state.db) as fresh:
            assert await service.themes(session) == themes
        assert fresh == [], "a list younger than THEMES_MAX_AGE comes from memory"
        monkeypatch.setattr(service, "THEMES_MAX_AGE", -1.0)
        with counting_statements(app.state.db) as old:
            assert await service.themes(session) == themes
        assert len(old) == 1, "an old list is read again"
