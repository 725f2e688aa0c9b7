"""Demo policy signals: a bundle answered with an exemption, one closed with its outcome, a draft; the
demo policy officer can sign in; a second load adds nothing."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from tests.support.demo import load_demo_into

DEMO_SIGNALS = """
    SELECT s.status, s.answer, s.bundled_into_id IS NOT NULL, count(*) FROM policy_signals s
    JOIN municipalities m ON m.id = s.municipality_id WHERE m.code = 'GM9999' GROUP BY 1, 2, 3
"""


async def _facts(app: FastAPI) -> dict[tuple[str, str | None, bool], int]:
    async with app.state.db.transaction() as session:
        rows = (await session.execute(text(DEMO_SIGNALS))).all()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


async def test_demo_signals_in_every_step(app: FastAPI) -> None:
    credentials = await load_demo_into(app, households=40)
    assert "policy_officer" in credentials["users"]
    facts = await _facts(app)
    assert facts == {
        ("answered", "exemption_granted", False): 1,
        ("answered", "exemption_granted", True): 1,
        ("closed", "policy_will_change", False): 1,
        ("draft", None, False): 1,
    }
    await load_demo_into(app, households=40)
    assert await _facts(app) == facts
