"""The tier refresh of a statement over many households reads the score table a bounded number of times,
not once per household (migration 0310): planned as the demo loader's batches were planned without
statistics (sequential scans and hash joins), 0205's refresh scanned the whole of ``assessment_scores``
for every household of the statement, which made the 100,000-household load quadratic."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.assessments.rules import tier_sql
from tests.casework.conftest import Cases

HOUSEHOLDS = 30

# The plan the load got for the per-household subquery without statistics: a hash join over a
# sequential scan of the scores. Set here so that the test does not depend on the table's statistics,
# and planned for this statement (not a generic plan the pooled connection cached for the function).
AS_WITHOUT_STATISTICS = (
    "SET LOCAL plan_cache_mode = force_custom_plan",
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_bitmapscan = off",
    "SET LOCAL enable_indexonlyscan = off",
    "SET LOCAL enable_nestloop = off",
)

EXPECTED = text(
    f"""SELECT latest.household_id, {tier_sql("latest.score")} AS tier
      FROM (SELECT DISTINCT ON (a.household_id, a.member_id, s.domain_code) a.household_id, s.score
              FROM assessments AS a JOIN assessment_scores AS s ON s.assessment_id = a.id
             WHERE a.household_id = ANY (:ids)
             ORDER BY a.household_id, a.member_id, s.domain_code,
                      a.assessed_on DESC, a.created_at DESC, a.id DESC) AS latest
     GROUP BY latest.household_id"""
)


async def _score_scans(session: AsyncSession) -> int:
    """Scans of ``assessment_scores`` by this transaction so far (its own, not yet reported, counts)."""
    scans = await session.scalar(
        text(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables"
            " WHERE relid = 'assessment_scores'::regclass"
        )
    )
    return int(scans or 0)


async def test_a_statement_scoring_many_households_reads_the_scores_once_not_per_household(
    cases: Cases,
) -> None:
    ids = [(await cases.add(f"bulk{n}", members=1)).id for n in range(HOUSEHOLDS)]
    assessments = [uuid.uuid4() for _ in ids]
    async with cases.world.app.state.db.transaction() as session:
        for setting in AS_WITHOUT_STATISTICS:
            await session.execute(text(setting))
        await session.execute(
            text(
                "INSERT INTO assessments (id, household_id, assessed_on)"
                " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:households AS uuid[]),"
                " CAST(:dates AS date[]))"
            ),
            {"ids": assessments, "households": ids, "dates": [date(2026, 3, 1)] * len(ids)},
        )
        before = await _score_scans(session)
        # One statement over all the households, as a COPY of the demo loader: its trigger refreshes them.
        await session.execute(
            text(
                "INSERT INTO assessment_scores (assessment_id, domain_code, score)"
                " SELECT a, d, s FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS v(a, n)"
                " CROSS JOIN LATERAL (VALUES ('finances', 1 + (n % 5)::int), ('housing', 2)) AS x(d, s)"
            ),
            {"ids": assessments},
        )
        scans = await _score_scans(session) - before
        expected = {row[0]: row[1] for row in await session.execute(EXPECTED, {"ids": ids})}
        stored = {
            row[0]: row[1]
            for row in await session.execute(
                text("SELECT household_id, tier FROM household_tiers WHERE household_id = ANY (:ids)"),
                {"ids": ids},
            )
        }
    # 0205's refresh read the scores at least once per household (30 here); 0310's reads them a few times
    # per statement whatever the plan (1 alone; 5 after other tests' rows and statistics: 4 index scans).
    assert scans < HOUSEHOLDS // 3, (
        f"{scans} scans of assessment_scores for one statement over {HOUSEHOLDS} households"
    )
    assert len(stored) == HOUSEHOLDS and stored == expected
