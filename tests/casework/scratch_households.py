"""Households written straight into a scratch database at an older revision, with their assessments and
scores, for the migration tests of what PostgreSQL keeps per household (the stored tier, 0205; the
worklist's facts, 0270): each migration's back-fill is checked against them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Per household: (member or None, assessed_on, {domain: score}) of each assessment, and the tier.
HOUSEHOLDS: dict[str, tuple[list[tuple[int | None, date, dict[str, int]]], str | None]] = {
    "multi_problem": (
        [(None, date(2026, 1, 5), {"finances": 2, "housing": 2}), (0, date(2026, 1, 6), {"parenting": 2})],
        "specialist",
    ),
    "crisis_resolved": (  # the 1 was superseded by a later 3 of the same person and domain
        [(0, date(2026, 1, 5), {"finances": 1}), (0, date(2026, 2, 5), {"finances": 3})],
        "support",
    ),
    "fine": ([(None, date(2026, 3, 1), {"housing": 4, "finances": 5})], "self_reliant"),
    "not_assessed": ([], None),
}


async def fill(connection: AsyncConnection) -> dict[str, uuid.UUID]:
    municipality, buurt, team = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        text("INSERT INTO municipalities (id, code, name) VALUES (:id, 'GM9999', 'Proefdorp')"),
        {"id": municipality},
    )
    await connection.execute(
        text(
            "INSERT INTO areas (id, municipality_id, code, name, level)"
            " VALUES (:id, :municipality, 'BU99990001', 'Proefbuurt', 'buurt')"
        ),
        {"id": buurt, "municipality": municipality},
    )
    await connection.execute(
        text("INSERT INTO teams (id, municipality_id, name) VALUES (:id, :municipality, 'Team proef')"),
        {"id": team, "municipality": municipality},
    )
    ids = {}
    for number, (key, (assessments, _tier)) in enumerate(HOUSEHOLDS.items(), start=1):
        household, member = uuid.uuid4(), uuid.uuid4()
        ids[key] = household
        await connection.execute(
            text(
                "INSERT INTO households (id, reference, team_id, buurt_id, postcode, house_number, status)"
                " VALUES (:id, :reference, :team, :buurt, '9999AA', :number, 'active')"
            ),
            {
                "id": household,
                "reference": f"HH-PROEF-{number}",
                "team": team,
                "buurt": buurt,
                "number": number,
            },
        )
        await connection.execute(
            text(
                "INSERT INTO members (id, household_id, given_name, role)"
                " VALUES (:id, :household, 'Kind', 'child')"
            ),
            {"id": member, "household": household},
        )
        for person, assessed_on, scores in assessments:
            assessment = uuid.uuid4()
            await connection.execute(
                text(
                    "INSERT INTO assessments (id, household_id, member_id, assessed_on)"
                    " VALUES (:id, :household, :member, :on)"
                ),
                {"id": assessment, "household": household, "member": member if person is not None else None,
                 "on": assessed_on},
            )  # fmt: skip
            for domain, score in scores.items():
                await connection.execute(
                    text(
                        "INSERT INTO assessment_scores (assessment_id, domain_code, score)"
                        " VALUES (:a, :d, :s)"
                    ),
                    {"a": assessment, "d": domain, "s": score},
                )
    return ids
