"""Demo administrative-burden counters, so the statistics have figures to show.

In real use the unit of work counts every worker's write request as it commits (app/domain/
unit_of_work/burden.py); the demo households were written in bulk, not through requests, so this
loader (band 90, after the case work) gives them plausible counts: per month with contact moments a
few write requests and fields per contact, and per household with an agreed plan the requests and
fields of its intake. Seeded from the load's random source; a second load adds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from app.demo import DemoContext, demo_loader
from app.domain.unit_of_work.work import UnitOfWork

MONTHS = sa.text(
    """
INSERT INTO case_write_months (household_id, month, write_requests, fields_entered)
SELECT m.household_id, m.month, m.contacts + floor(random() * 3 * m.contacts)::int,
       m.contacts * (4 + floor(random() * 9))::int
  FROM (SELECT c.household_id,
               date_trunc('month', c.occurred_at AT TIME ZONE 'Europe/Amsterdam')::date AS month,
               count(*)::int AS contacts
          FROM contact_moments AS c JOIN households AS h ON h.id = c.household_id
         WHERE h.team_id = ANY(:teams)
         GROUP BY 1, 2) AS m
ON CONFLICT (household_id, month) DO NOTHING
"""
).bindparams(sa.bindparam("teams", type_=ARRAY(sa.Uuid)))

INTAKES = sa.text(
    """
INSERT INTO intake_burden (household_id, write_requests, fields_entered, plan_agreed_at)
SELECT f.household_id, 2 + floor(random() * 9)::int, 14 + floor(random() * 60)::int, f.agreed_at
  FROM (SELECT p.household_id, min(p.agreed_at) AS agreed_at
          FROM plans AS p JOIN households AS h ON h.id = p.household_id
         WHERE p.agreed_at IS NOT NULL AND h.team_id = ANY(:teams)
         GROUP BY p.household_id) AS f
ON CONFLICT (household_id) DO NOTHING
"""
).bindparams(sa.bindparam("teams", type_=ARRAY(sa.Uuid)))


@demo_loader(order=90)
async def burden(uow: UnitOfWork, ctx: DemoContext) -> None:
    teams = list(ctx.teams.values())
    if not teams:
        return
    await uow.session.execute(sa.text("SELECT setseed(:seed)"), {"seed": ctx.rng.uniform(-1, 1)})
    await uow.session.execute(MONTHS, {"teams": teams})
    await uow.session.execute(INTAKES, {"teams": teams})
