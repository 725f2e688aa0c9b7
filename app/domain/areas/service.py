"""Areas use cases: the buurt of an address or a buurt code (households and referrals are registered
with these), and the import of a year's postcode table.

The import reads the file once, as a stream: every line is checked, and only when every line is
right is the year's table replaced, per municipality the file holds lines of, in the caller's one
transaction; a file with a malformed line changes nothing and says which lines are wrong. The same
file imported again changes nothing at all (the digest of what it holds is remembered per year and
municipality). Lines of municipalities this service does not hold are passed over (CBS publishes the
whole country in one file).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.areas import repository as repo
from app.domain.areas.models import PostcodeImport
from app.domain.areas.repository import Place
from app.domain.areas.rules import Address, HeaderInvalid, Layout, fold, parse_address, read_header
from app.domain.errors import DomainError, FieldError, ValidationFailed
from app.domain.unit_of_work.work import UnitOfWork

Loc = tuple[str | int, ...]
MAX_REPORTED_ERRORS = 200


# -- where an address lies ---------------------------------------------------------------------------


async def place_of_buurt(session: AsyncSession, code: str, loc: Loc) -> Place:
    """The buurt of a code (422 ``unknown_buurt`` at ``loc`` otherwise)."""
    place = await repo.buurt_by_code(session, code)
    if place is None:
        raise ValidationFailed([FieldError(loc, "This buurt is not known.", "unknown_buurt")])
    return place


async def place_of_address(session: AsyncSession, postcode: str, house_number: int, loc: Loc) -> Place:
    """The buurt an address lies in, from the postcode table (422 at ``loc``, the postcode's place in
    the request, when the table does not place it)."""
    place, candidates = await repo.address_lookup(session, postcode, house_number)
    if place is not None:
        return place
    if candidates > 1:
        raise ValidationFailed(
            [
                FieldError(
                    loc,
                    "This postcode spans several buurten and the house number is in none of their "
                    "ranges; give buurt_code.",
                    "address_ambiguous",
                )
            ]
        )
    raise ValidationFailed(
        [
            FieldError(
                loc,
                "This address is not in the municipality's postcode table (it lies outside the "
                "municipality, or the postcode is unknown); check it, or give buurt_code.",
                "address_outside_municipality",
            )
        ]
    )


async def place_of(
    session: AsyncSession,
    *,
    buurt_code: str | None,
    postcode: str,
    house_number: int,
    loc: Loc = ("body",),
) -> Place:
    """The buurt of a registration: the code given wins; otherwise the address decides."""
    if buurt_code is not None:
        return await place_of_buurt(session, buurt_code, (*loc, "buurt_code"))
    return await place_of_address(session, postcode, house_number, (*loc, "postcode"))


# -- the import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    line: int  # 1 is the header
    message: str


class PostcodeTableRefused(DomainError):
    """The file has lines that break the rules: nothing was imported."""

    rule = "postcode_table_invalid"

    def __init__(self, errors: list[LineError], total: int) -> None:
        super().__init__(f"{total} line(s) of the postcode table are invalid; nothing was imported.")
        self.errors = errors  # the first MAX_REPORTED_ERRORS
        self.total = total


@dataclass(frozen=True)
class ImportReport:
    year: int
    addresses: int  # addresses of this service's municipalities
    ranges: int  # rows of the table they were folded into
    passed_over: int  # lines of other municipalities
    unchanged: bool  # the same table was imported before: nothing was written


@dataclass
class _Reading:
    """What the lines read so far hold: per municipality, per postcode, house number -> buurt code."""

    buurten: dict[str, tuple[uuid.UUID, str]]
    ours: dict[str, uuid.UUID]
    postcodes: dict[str, dict[str, dict[int, str]]] = field(default_factory=dict)
    addresses: int = 0
    passed_over: int = 0
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0

    def refuse(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(LineError(line, message))

    def take(self, line: int, address: Address) -> None:
        if address.gemeente_code not in self.ours:
            self.passed_over += 1
            return
        known = self.buurten.get(address.buurt_code)
        if known is None or known[1] != address.gemeente_code:
            self.refuse(line, "the buurt code is not a buurt of its gemeente here (add the buurt first)")
            return
        of_municipality = self.postcodes.setdefault(address.gemeente_code, {})
        numbers = of_municipality.setdefault(address.postcode, {})
        before = numbers.get(address.house_number)
        if before is not None and before != address.buurt_code:
            self.refuse(line, "this address was listed before with another buurt")
            return
        if before is None:
            self.addresses += 1
        numbers[address.house_number] = address.buurt_code


def _year_of(header: str | None, given: int | None) -> tuple[int, Layout]:
    if header is None:
        raise PostcodeTableRefused([LineError(1, "the file is empty")], 1)
    try:
        layout = read_header(header)
    except HeaderInvalid as invalid:
        raise PostcodeTableRefused([LineError(1, str(invalid))], 1) from None
    year = given or layout.year
    if year is None or not 2000 <= year <= 2999:
        message = "the header names no year (BuurtYYYY); give the year"
        raise PostcodeTableRefused([LineError(1, message)], 1)
    return year, layout


async def import_postcodes(
    uow: UnitOfWork,
    lines: Iterable[str],
    *,
    year: int | None = None,
    on_line: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read a CBS postcode table (``lines``, the header first) and make it the table of its year
    (``year``: instead of the one the header names). Raises ``PostcodeTableRefused`` with the lines
    that break a rule, before anything is written. ``on_line`` hears of every line read."""
    session = uow.session
    reading = _Reading(await repo.buurten(session), await repo.municipalities(session))
    stream = iter(lines)
    the_year, layout = _year_of(next(stream, None), year)
    for number, line in enumerate(stream, start=2):
        if on_line is not None:
            on_line(number)
        if not line.strip():
            continue
        address = parse_address(line, layout)
        if isinstance(address, str):
            reading.refuse(number, address)
        else:
            reading.take(number, address)
    if reading.error_count:
        raise PostcodeTableRefused(reading.errors, reading.error_count)
    return await _store(session, the_year, reading)


async def _store(session: AsyncSession, year: int, reading: _Reading) -> ImportReport:
    """Replace the year's table of every municipality the file holds lines of, unless it holds that
    table already."""
    ranges, changed = 0, False
    for gemeente, postcodes in sorted(reading.postcodes.items()):
        rows = [
            (postcode, first, last, reading.buurten[buurt][0])
            for postcode in sorted(postcodes)
            for first, last, buurt in fold(postcodes[postcode])
        ]
        ranges += len(rows)
        addresses = sum(len(numbers) for numbers in postcodes.values())
        digest = hashlib.sha256(
            "\n".join(f"{p};{first};{last};{area}" for p, first, last, area in rows).encode()
        ).hexdigest()
        municipality_id = reading.ours[gemeente]
        previous = await repo.last_import(session, year, municipality_id)
        if previous is not None and previous.digest == digest:
            continue
        record = PostcodeImport(
            year=year, municipality_id=municipality_id, digest=digest, addresses=addresses, ranges=len(rows)
        )
        await repo.replace_year(session, year, rows, record)
        changed = True
    return ImportReport(year, reading.addresses, ranges, reading.passed_over, unchanged=not changed)
