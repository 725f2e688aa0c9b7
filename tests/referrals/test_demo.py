"""Demo consents and referrals: both directions, both demo partners, every state; a second load adds
nothing."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from tests.support.demo import load_demo_into

DEMO_REFERRALS = """
    SELECT r.direction, p.kind, r.status, count(*) FROM referrals r
    JOIN partner_organisations p ON p.id = r.organisation_id
    JOIN teams t ON t.id = r.team_id JOIN municipalities m ON m.id = t.municipality_id
    WHERE m.code = 'GM9999' GROUP BY 1, 2, 3
"""
DEMO_LINKS = """
    SELECT
      (SELECT count(*) FROM consents c JOIN households h ON h.id = c.household_id
         JOIN teams t ON t.id = h.team_id JOIN municipalities m ON m.id = t.municipality_id
         WHERE m.code = 'GM9999'),
      (SELECT count(*) FROM consents c JOIN households h ON h.id = c.household_id
         JOIN teams t ON t.id = h.team_id JOIN municipalities m ON m.id = t.municipality_id
         WHERE m.code = 'GM9999' AND c.withdrawn_at IS NOT NULL),
      (SELECT count(*) FROM plan_actions a JOIN referrals r ON r.id = a.referral_id
         JOIN teams t ON t.id = r.team_id JOIN municipalities m ON m.id = t.municipality_id
         WHERE m.code = 'GM9999'),
      (SELECT count(*) FROM referrals r JOIN teams t ON t.id = r.team_id
         JOIN municipalities m ON m.id = t.municipality_id WHERE m.code = 'GM9999'
         AND r.status <> (SELECT to_status FROM referral_transitions x WHERE x.referral_id = r.id
                          ORDER BY occurred_at DESC LIMIT 1))
"""


async def _facts(app: FastAPI) -> tuple[dict[tuple[str, str, str], int], tuple[int, ...]]:
    async with app.state.db.transaction() as session:
        rows = (await session.execute(text(DEMO_REFERRALS))).all()
        links = (await session.execute(text(DEMO_LINKS))).one()
    return {(r[0], r[1], r[2]): r[3] for r in rows}, tuple(links)


async def test_demo_referrals_in_every_state_both_ways(app: FastAPI) -> None:
    await load_demo_into(app, households=80)
    counts, (consents, withdrawn, linked_actions, inconsistent) = await _facts(app)
    for kind in ("debt_help", "housing"):
        outbound = {s for (d, k, s) in counts if d == "outbound" and k == kind}
        inbound = {s for (d, k, s) in counts if d == "inbound" and k == kind}
        assert outbound == {"submitted", "accepted", "in_progress", "completed", "declined", "cancelled"}, (
            kind
        )
        assert {"submitted", "accepted", "declined"} <= inbound, kind
    assert consents >= 14 and withdrawn >= 1
    assert linked_actions >= 1  # the plan keeps the lead: partner actions point at their referrals
    assert inconsistent == 0  # every status is where its transition trail ends

    await load_demo_into(app, households=80)
    assert await _facts(app) == (counts, (consents, withdrawn, linked_actions, inconsistent))
