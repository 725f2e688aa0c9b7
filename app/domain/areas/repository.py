"""Every query of the areas context: buurten by code, the buurt of an address, and the postcode table's
load."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import RawStatement, fetch_one
from app.domain.areas.models import PostcodeArea, PostcodeImport
from app.domain.organisation.models import Area, AreaLevel, Municipality, TeamArea
from app.domain.unit_of_work.work import UnitOfWork


def address_buurt_sql(postcode: str = ":postcode", house_number: str = ":house_number") -> str:
    """A query of one row (``id``, ``code``, ``team_id`` of the buurt) or none: the rule of
    ``ADDRESS``, the one lookup of an address.

    The newest year that knows the postcode decides. A house number inside a range is that range's
    buurt; outside every range, the postcode's buurt when it lies in one only. No row: the postcode is
    not in the table (outside the municipality), or it spans several buurten and the number lies in
    none of their ranges (``address_lookup`` tells the two apart)."""
    return f"""
    WITH pc AS (
        SELECT p.area_id, {house_number} BETWEEN p.house_number_from AND p.house_number_to AS exact
          FROM postcode_areas AS p
         WHERE p.postcode = {postcode}
           AND p.year = (SELECT max(y.year) FROM postcode_areas AS y WHERE y.postcode = {postcode})
    ), chosen AS (
        (SELECT area_id FROM pc WHERE exact LIMIT 1)
        UNION ALL
        SELECT min(area_id::text)::uuid FROM pc
         WHERE NOT EXISTS (SELECT 1 FROM pc WHERE exact) HAVING count(DISTINCT area_id) = 1
    )
    SELECT a.id, a.code, ta.team_id
      FROM chosen JOIN areas AS a ON a.id = chosen.area_id
      LEFT JOIN team_areas AS ta ON ta.area_id = a.id"""  # noqa: S608 - our own parameter names only


# The one lookup of an address, for every caller: its buurt (no row's columns: none) and how many
# buurten its postcode spans in the table. Always one row. Raw (``RawStatement``) so that a caller
# without a transaction can read it on its own (``buurt_code_of_address``).
ADDRESS = RawStatement.of(
    sa.text(
        f"""
    WITH found AS ({address_buurt_sql()})
    SELECT found.id, found.code, found.team_id,
           (SELECT count(DISTINCT p.area_id) FROM postcode_areas AS p
             WHERE p.postcode = :postcode
               AND p.year = (SELECT max(y.year) FROM postcode_areas AS y WHERE y.postcode = :postcode))
               AS candidates
      FROM (SELECT 1) AS one LEFT JOIN found ON true
    """  # noqa: S608 - constant SQL
    ).bindparams(sa.bindparam("postcode", type_=sa.String), sa.bindparam("house_number", type_=sa.Integer))
)


@dataclass(frozen=True)
class Place:
    """A buurt, and the team that covers it (None: no team does)."""

    buurt_id: uuid.UUID
    buurt_code: str
    team_id: uuid.UUID | None


async def address_lookup(session: AsyncSession, postcode: str, house_number: int) -> tuple[Place | None, int]:
    """(the buurt of the address or None, how many buurten the postcode spans in the table), in the
    session's transaction."""
    row = await fetch_one(
        await session.connection(), ADDRESS, {"postcode": postcode, "house_number": house_number}
    )
    place = Place(row["id"], row["code"], row["team_id"]) if row["id"] is not None else None
    return place, int(row["candidates"] or 0)


async def buurt_code_of_address(uow: UnitOfWork, postcode: str, house_number: int) -> str | None:
    """The code of the buurt the address lies in, None when the table does not place it (``ADDRESS``):
    on its own when the work has no transaction open yet, so that a statement after it can run on its
    own too (a partner's POST routed by address)."""
    row = await uow.fetch_one(ADDRESS, {"postcode": postcode, "house_number": house_number})
    return str(row["code"]) if row["code"] is not None else None


async def buurt_by_code(session: AsyncSession, code: str) -> Place | None:
    query = (
        sa.select(col(Area.id), col(Area.code), col(TeamArea.team_id))
        .outerjoin(TeamArea, col(TeamArea.area_id) == col(Area.id))
        .where(col(Area.code) == code, col(Area.level) == str(AreaLevel.buurt))
    )
    row = (await session.execute(query)).one_or_none()
    return Place(row[0], row[1], row[2]) if row is not None else None


async def buurten(session: AsyncSession) -> dict[str, tuple[uuid.UUID, str]]:
    """Every buurt the service knows: code -> (id, the municipality's code)."""
    rows = await session.execute(
        sa.select(col(Area.code), col(Area.id), col(Municipality.code))
        .join(Municipality, col(Municipality.id) == col(Area.municipality_id))
        .where(col(Area.level) == str(AreaLevel.buurt))
    )
    return {code: (area_id, municipality) for code, area_id, municipality in rows}


async def municipalities(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Code -> id of every municipality the service holds."""
    rows = await session.execute(sa.select(col(Municipality.code), col(Municipality.id)))
    return {code: municipality_id for code, municipality_id in rows}


async def last_import(session: AsyncSession, year: int, municipality_id: uuid.UUID) -> PostcodeImport | None:
    return await session.get(PostcodeImport, (year, municipality_id))


async def replace_year(
    session: AsyncSession, year: int, rows: Sequence[tuple[str, int, int, uuid.UUID]], record: PostcodeImport
) -> None:
    """The table of ``year`` for the record's municipality becomes ``rows`` (postcode, first, last,
    buurt id), in the caller's transaction: readers see the old table or the new one, never a mix."""
    of_municipality = sa.select(col(Area.id)).where(col(Area.municipality_id) == record.municipality_id)
    await session.execute(
        sa.delete(PostcodeArea).where(
            col(PostcodeArea.year) == year, col(PostcodeArea.area_id).in_(of_municipality)
        )
    )
    if rows:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            "postcode_areas",
            records=[(year, *row) for row in rows],
            columns=["year", "postcode", "house_number_from", "house_number_to", "area_id"],
        )
    await session.merge(record)
    await session.flush()
