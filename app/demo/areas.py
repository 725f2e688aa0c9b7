"""Demo postcode table: every postcode of the demo municipality, by house-number range.

Band 15, after the organisation (its buurten) and before the households (whose addresses it places).
Postcodes 8900-8919 lie in wijk Stedenwijk (team A), 8920-8939 in Huizum (team B); the four digits
pick the buurt of the wijk, and postcodes whose letters start with A lie on a border: house numbers
1-120 in one buurt, from 121 in the next. The table is written as the areas importer writes it (one
range per stretch, a record of the import), for the current year; loading it again adds nothing.
"""

from __future__ import annotations

import hashlib

from app.demo import DemoContext, demo_loader
from app.domain.areas import repository
from app.domain.areas.models import HIGHEST_HOUSE_NUMBER, PostcodeImport
from app.domain.assessments.rules import local_today
from app.domain.base import utcnow
from app.domain.unit_of_work.work import UnitOfWork

LETTERS = "ABCDEFGHJKLMNPRTUVWXZ"  # postcode letters (SA, SD, SS never occur with these first letters)
FIRST_DIGITS, LAST_DIGITS = 8900, 8939
BORDER_NUMBER = 120  # on a border postcode, the last house number of the first buurt
WIJK_BUURTEN = {
    "a": ("BU99990101", "BU99990102", "BU99990103"),
    "b": ("BU99990201", "BU99990202", "BU99990203"),
}


def team_of_postcode(digits: int) -> str:
    return "a" if digits < 8920 else "b"


def demo_buurt(postcode: str, house_number: int) -> str:
    """The buurt code of a demo address (the rule the generated table holds)."""
    digits = int(postcode[:4])
    buurten = WIJK_BUURTEN[team_of_postcode(digits)]
    index = digits % len(buurten)
    if postcode[4] == "A" and house_number > BORDER_NUMBER:
        index = (index + 1) % len(buurten)
    return buurten[index]


def demo_ranges() -> list[tuple[str, int, int, str]]:
    """(postcode, first, last, buurt code) of every demo postcode."""
    rows: list[tuple[str, int, int, str]] = []
    for digits in range(FIRST_DIGITS, LAST_DIGITS + 1):
        for first in LETTERS:
            for second in LETTERS:
                postcode = f"{digits}{first}{second}"
                if first == "A":
                    rows.append((postcode, 1, BORDER_NUMBER, demo_buurt(postcode, 1)))
                    rows.append(
                        (postcode, BORDER_NUMBER + 1, HIGHEST_HOUSE_NUMBER, demo_buurt(postcode, 999))
                    )
                else:
                    rows.append((postcode, 1, HIGHEST_HOUSE_NUMBER, demo_buurt(postcode, 1)))
    return rows


@demo_loader(order=15)
async def postcode_table(uow: UnitOfWork, ctx: DemoContext) -> None:
    if ctx.municipality_id is None:
        return
    year = local_today(utcnow()).year
    if await repository.last_import(uow.session, year, ctx.municipality_id) is not None:
        return
    rows = [(p, first, last, ctx.buurten[code]) for p, first, last, code in demo_ranges()]
    digest = hashlib.sha256(
        "\n".join(f"{p};{first};{last};{area}" for p, first, last, area in rows).encode()
    ).hexdigest()
    record = PostcodeImport(
        year=year, municipality_id=ctx.municipality_id, digest=digest, addresses=0, ranges=len(rows)
    )
    await repository.replace_year(uow.session, year, rows, record)
