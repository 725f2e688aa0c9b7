"""A generated CBS postcode file for a test world, and a look at the table it made."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from app.domain.areas.models import PostcodeArea
from app.domain.organisation.models import Area, Municipality
from tests.factories import World

HEADER = "PC6;Huisnummer;Buurt2025;Wijk2025;Gemeente2025\n"


def postcode_of(world: World, letters: str) -> str:
    """A postcode of this world's own (the four digits from its code), so tests never share one."""
    return f"{world.municipality.code[2:].lstrip('0').rjust(4, '9')}{letters}"


def line(postcode: str, number: int, buurt: Area, gemeente: str) -> str:
    digits = buurt.code[2:]
    return f"{postcode};{number};{digits};{digits[:6]};{gemeente[2:]}\n"


async def not_held(world: World) -> str:
    """The four digits of a municipality this service does not hold: other tests create municipalities
    in the same database (the demo's GM9999, the contract's fuzzing any code), so none is fixed."""
    async with world.app.state.db.transaction() as session:
        held = set(await session.scalars(select(col(Municipality.code))))
    return next(f"{n:04d}" for n in range(10_000) if f"GM{n:04d}" not in held)


def cbs_file(world: World, path: Path, *, other: str, extra: str = "") -> Path:
    """AA: all of one buurt; BB: numbers 1-20 in buurt 0, 22-40 in buurt 1 (a postcode on a buurt's
    border); plus lines of ``other``, a municipality the service does not hold (``not_held``)."""
    gemeente = world.municipality.code
    aa, bb = postcode_of(world, "AA"), postcode_of(world, "BB")
    lines = [line(aa, n, world.buurten[0], gemeente) for n in range(1, 31)]
    lines += [line(bb, n, world.buurten[0], gemeente) for n in range(1, 21)]
    lines += [line(bb, n, world.buurten[1], gemeente) for n in range(22, 41, 2)]
    lines += [f"1011AB;{n};{other}0101;{other}01;{other}\n" for n in (1, 2)]
    path.write_text(HEADER + "".join(lines) + extra)
    return path


async def table_of(world: World, year: int = 2025) -> list[tuple[str, int, int, str]]:
    async with world.app.state.db.transaction() as session:
        rows = await session.execute(
            select(
                col(PostcodeArea.postcode),
                col(PostcodeArea.house_number_from),
                col(PostcodeArea.house_number_to),
                col(Area.code),
            )
            .join(Area, col(Area.id) == col(PostcodeArea.area_id))
            .where(col(Area.municipality_id) == world.municipality.id, col(PostcodeArea.year) == year)
            .order_by(col(PostcodeArea.postcode), col(PostcodeArea.house_number_from))
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


async def rows_of_year(world: World, year: int = 2025) -> int:
    async with world.app.state.db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(PostcodeArea)
            .join(Area, col(Area.id) == col(PostcodeArea.area_id))
            .where(col(Area.municipality_id) == world.municipality.id, col(PostcodeArea.year) == year)
        )
        return int(count or 0)
