"""``wijkwerk directory import`` and ``export``: the sociale kaart as HSDS 3.0 documents.

The unit of exchange is HSDS's fully nested service (``compiled/service.json``, what
``GET /hsds/services/{id}`` answers): the service with its organisation, phones, languages, cost
options, attributes (our themes and life domains as taxonomy terms), service areas, schedules and its
service-at-locations with their locations and addresses. The export writes the published ones (public
services only: internal notes and non-public entries never leave in an exchange file), in id order.

The import takes such records one at a time (the file is never read whole) and keeps what Wijkwerk
keeps of them, by HSDS id: a record whose service, organisation, locations or links exist already
updates them, and only where a value differs (importing the same file twice writes nothing the second
time). Every record is checked against the HSDS 3.0 schema, then against Wijkwerk's own rules (the same
inputs as the REST maintenance: lengths, postcodes, known themes, areas and buurten of the
municipality). All or nothing per run: the records are written in one transaction as they are read,
and one refused record anywhere refuses the run; the report names each refused record by number,
field and rule, never with its data. What HSDS has and Wijkwerk does not keep (contacts, funding,
programs, required documents, accessibility, a second phone) is passed over; a service's public flag
and internal notes are not in HSDS and stay as they are (new services are public).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.directory import exchange_repository as store
from app.domain.directory import hsds, publication
from app.domain.directory.hsds_schema import problems
from app.domain.directory.schemas import LocationCreate, OrganizationCreate, ScheduleIn, ServiceCreate
from app.domain.errors import DomainError
from app.domain.text import describe
from app.domain.unit_of_work.work import UnitOfWork

Json = hsds.Json
MAX_REPORTED = 100  # problems listed in a refusal; the count says how many there were
EXPORT_BATCH = 200


# -- the export ------------------------------------------------------------------------------------


async def published_services(session: AsyncSession, municipality: str | None = None) -> AsyncIterator[Json]:
    """Every public service (of ``municipality``, a CBS code, when given) as a fully nested HSDS
    service, in id order, a batch at a time."""
    by_code = (await publication.vocabulary(session)).by_code
    after: uuid.UUID | None = None
    while ids := await store.public_service_ids(session, municipality, after=after, limit=EXPORT_BATCH):
        parts = await publication.service_parts(session, ids)
        for service_id in ids:
            yield hsds.full_service(parts[service_id], by_code)
        after = ids[-1]


async def count_published(session: AsyncSession, municipality: str | None = None) -> int:
    return await store.count_public_services(session, municipality)


def json_lines(document: Json) -> str:
    """One record as the export writes it: compact, keys in HSDS's order, UTF-8 as it is."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


# -- reading a file record by record ---------------------------------------------------------------


def json_records(chunks: Iterable[str]) -> Iterator[Any]:
    """The records of an HSDS JSON file read in chunks: a JSON array of records (what the export
    writes) or records one after the other (NDJSON, HSDS's ``format=ndjson``). Holds one record and
    one chunk at a time, never the file."""
    decoder = json.JSONDecoder()
    buffer, position, started, ended = "", 0, False, False
    stream = iter(chunks)
    while True:
        while position < len(buffer) and buffer[position] in " \t\r\n,":
            position += 1
        if not started and position < len(buffer):
            started = True
            if buffer[position] == "[":
                position += 1
                continue
        if position < len(buffer) and buffer[position] == "]":
            ended = True
            position += 1
            continue
        if ended and position < len(buffer):
            raise ValueError("text after the end of the records")
        try:
            record, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError:
            chunk = next(stream, None)
            if chunk is None:
                if buffer[position:].strip():
                    raise ValueError("the file ends inside a record") from None
                return
            buffer, position = buffer[position:] + chunk, 0
            continue
        if end == len(buffer):  # a number or literal may go on in the next chunk
            chunk = next(stream, None)
            if chunk is not None:
                buffer, position = buffer[position:] + chunk, 0
                continue
        yield record
        position = end


# -- the import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordProblem:
    """A refused record: its number in the file (from 1), the field (an HSDS path) and the rule."""

    record: int
    field: str
    rule: str


class DirectoryImportRefused(DomainError):
    """Records of the file break the rules: nothing was imported."""

    rule = "directory_import_invalid"

    def __init__(self, problems: list[RecordProblem], total: int, records: int) -> None:
        refused = len({p.record for p in problems})
        more = "" if total == len(problems) else " or more"
        super().__init__(
            f"{refused}{more} of {records} record(s) refused ({total} problem(s)); nothing was imported."
        )
        self.problems = problems  # the first MAX_REPORTED
        self.total = total


@dataclass
class ImportReport:
    records: int = 0
    created: int = 0  # services new to the directory
    changed: int = 0  # services (or their organisation, locations, areas, hours) that differed
    unchanged: int = 0


@dataclass
class _Context:
    """What every record is checked against, read once per run."""

    municipality_id: uuid.UUID
    municipality_code: str
    areas: dict[str, tuple[uuid.UUID, str]]
    themes: set[str]
    life_domains: set[str]
    problems: list[RecordProblem] = field(default_factory=list)
    total_problems: int = 0

    def refuse(self, record: int, path: str, rule: str) -> None:
        self.total_problems += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(RecordProblem(record, path, rule))


class UnknownMunicipality(DomainError):
    rule = "unknown_municipality"


async def import_services(
    uow: UnitOfWork,
    records: Iterable[Any],
    *,
    municipality: str,
    on_record: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import fully nested HSDS services into ``municipality``'s sociale kaart (its CBS code), in the
    unit of work's transaction. Raises ``DirectoryImportRefused`` (the caller's work then rolls back)
    when any record is refused."""
    session = uow.session
    municipality_id = await store.municipality(session, municipality)
    if municipality_id is None:
        raise UnknownMunicipality(f"No municipality with code {municipality}.")
    themes, domains = await store.active_codes(session)
    context = _Context(
        municipality_id,
        municipality,
        await store.areas_of_municipality(session, municipality_id),
        themes,
        domains,
    )
    report = ImportReport()
    for number, record in enumerate(records, start=1):
        if on_record is not None:
            on_record(number)
        report.records = number
        rows = _rows(number, record, context)
        org_id = rows.service["organization_id"] if rows is not None and rows.organization is None else None
        if org_id is not None and not await store.organization_exists(session, org_id):
            context.refuse(number, "organization_id", "unknown_organization")
            rows = None
        if rows is None or context.total_problems:
            continue  # a refused run writes nothing more; the rest is still checked
        await _store(session, rows, report)
    if context.total_problems:
        raise DirectoryImportRefused(context.problems, context.total_problems, report.records)
    return report


@dataclass(frozen=True)
class _Rows:
    """One record as the rows of Wijkwerk's tables."""

    service_id: uuid.UUID
    organization: dict[str, Any] | None
    locations: list[dict[str, Any]]
    service: dict[str, Any]
    links: list[dict[str, Any]]
    areas: list[dict[str, Any]]
    schedules: list[dict[str, Any]]


async def _store(session: AsyncSession, rows: _Rows, report: ImportReport) -> None:
    if rows.organization is not None:
        organization = dict(rows.organization)
        in_municipality = {"municipality_id": organization.pop("municipality_id")}
        organization_written = await store.upsert(
            session, store.ORG, [organization], insert_only=in_municipality
        )
    else:
        organization_written = 0
    written = organization_written + await store.upsert(session, store.LOC, rows.locations)
    is_new = not await store.service_exists(session, rows.service_id)
    service_written = await store.upsert(session, store.SVC, [rows.service])
    children = 0
    # The links' locations first, in id order, as the API's relink does (a move beside it would
    # otherwise deadlock with the link rows deleted below).
    await store.share_locations_of_links(
        session, rows.service_id, [link["location_id"] for link in rows.links]
    )
    for table, child_rows in (
        (store.SAL, rows.links),
        (store.SAREA, rows.areas),
        (store.SCHED, rows.schedules),
    ):
        children += await store.delete_other_children(
            session, table, rows.service_id, [r["id"] for r in child_rows]
        )
        children += await store.upsert(session, table, child_rows)
    if children and not service_written and not is_new:
        await store.touch_service(session, rows.service_id)
    if is_new:
        report.created += 1
    elif written or service_written or children:
        report.changed += 1
    else:
        report.unchanged += 1


# -- from an HSDS record to Wijkwerk's rows --------------------------------------------------------


def _rows(number: int, record: Any, context: _Context) -> _Rows | None:
    """The record's rows, or None with its problems told to ``context``."""
    if not isinstance(record, dict):
        context.refuse(number, "", "type")
        return None
    found = problems("service", record)
    for problem in found:
        context.refuse(number, problem.field, problem.rule)
    if found:
        return None
    reader = _Reader(number, record, context)
    rows = reader.rows()
    return rows if not reader.refused else None


WEEKDAYS = {code: day for day, code in enumerate(hsds.WEEKDAYS, start=1)}


@dataclass
class _Reader:
    """Reads one schema-valid record into rows, telling each broken rule of Wijkwerk's to the context."""

    number: int
    record: dict[str, Any]
    context: _Context
    refused: bool = False

    def refuse(self, path: str, rule: str) -> None:
        self.refused = True
        self.context.refuse(self.number, path, rule)

    def check(
        self, model: type[BaseModel], values: Mapping[str, Any], where: Callable[[tuple[Any, ...]], str]
    ) -> Any:
        """``values`` checked by one of the REST inputs (the same rules as maintenance); None when not."""
        try:
            return model.model_validate(values)
        except ValidationError as error:
            for problem in error.errors():
                self.refuse(where(tuple(problem["loc"])), describe(problem)[0])
            return None

    def rows(self) -> _Rows:
        record = self.record
        service_id = uuid.UUID(record["id"])
        org_id, organization = self._organization()
        locations, links, location_ids = self._locations(org_id, service_id)
        attributes = self._attributes()
        values = {
            "organization_id": org_id,
            "name": record["name"],
            "description": record.get("description", ""),
            "status": record["status"],
            "eligibility_description": record.get("eligibility_description", ""),
            "application_process": record.get("application_process", ""),
            "fees_description": record.get("fees_description", ""),
            "free_of_charge": any(c.get("amount") == 0 for c in record.get("cost_options", [])),
            "languages": [lang.get("code") for lang in record.get("languages", []) if lang.get("code")],
            "minimum_age": record.get("minimum_age"),
            "maximum_age": record.get("maximum_age"),
            "themes": attributes["theme"],
            "life_domains": attributes["life_domain"],
            "email": record.get("email"),
            "phone": (record.get("phones") or [{}])[0].get("number"),
            "url": record.get("url"),
        }
        checked = self.check(ServiceCreate, values, _service_path)
        service = {"id": service_id} | (checked.model_dump(include=set(values)) if checked else {})
        service |= {
            "assured_date": _day(record.get("assured_date")),
            "assurer_email": record.get("assurer_email"),
        }
        if record.get("last_modified"):  # the source's date of change; else the import's moment
            service["last_modified"] = datetime.fromisoformat(record["last_modified"])
        return _Rows(
            service_id=service_id,
            organization=organization,
            locations=locations,
            service=service,
            links=links,
            areas=self._areas(service_id),
            schedules=self._schedules(service_id, location_ids),
        )

    def _organization(self) -> tuple[uuid.UUID, dict[str, Any] | None]:
        """The organisation's id, and its row when the record carries it (else it must exist)."""
        given = self.record.get("organization")
        named = self.record.get("organization_id")
        if not given:
            if named is None:
                self.refuse("organization_id", "missing")
                return uuid.UUID(int=0), None
            return uuid.UUID(named), None
        org_id = uuid.UUID(given["id"])
        if named is not None and uuid.UUID(named) != org_id:
            self.refuse("organization_id", "organization_mismatch")
        values = {
            "municipality": self.context.municipality_code,
            "name": given["name"],
            "description": given.get("description", ""),
            "email": given.get("email"),
            "website": given.get("website"),
        }
        checked = self.check(
            OrganizationCreate, values, lambda loc: ".".join(("organization", *map(str, loc)))
        )
        if checked is None:
            return org_id, None
        row = {"id": org_id, "municipality_id": self.context.municipality_id}
        return org_id, row | checked.model_dump(include={"name", "description", "email", "website"})

    def _locations(
        self, org_id: uuid.UUID, service_id: uuid.UUID
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[uuid.UUID]]:
        locations, links, ids = [], [], set()
        for i, link in enumerate(self.record.get("service_at_locations", [])):
            at = f"service_at_locations.{i}"
            place = link.get("location")
            if not place:
                self.refuse(f"{at}.location", "missing")
                continue
            address = (place.get("addresses") or [{}])[0]
            buurt = (
                place.get("external_identifier")
                if place.get("external_identifier_type") == "CBS buurtcode"
                else None
            )
            values = {
                "organization_id": org_id,
                "name": place.get("name"),
                "description": place.get("description", ""),
                "address_1": address.get("address_1"),
                "postal_code": address.get("postal_code"),
                "city": address.get("city"),
                "neighbourhood": buurt,
                "latitude": place.get("latitude"),
                "longitude": place.get("longitude"),
            }
            checked = self.check(LocationCreate, values, partial(_location_path, at))
            buurt_id = None
            if buurt is not None:
                found = self.context.areas.get(buurt)
                if found is None or found[1] != "buurt":
                    self.refuse(f"{at}.location.external_identifier", "unknown_buurt")
                else:
                    buurt_id = found[0]
            if checked is None:
                continue
            location_id = uuid.UUID(place["id"])
            ids.add(location_id)
            locations.append(
                {"id": location_id} | checked.model_dump(exclude={"neighbourhood"}) | {"buurt_id": buurt_id}
            )
            links.append(
                {
                    "id": uuid.UUID(link["id"]),
                    "service_id": service_id,
                    "location_id": location_id,
                    "description": link.get("description", ""),
                }
            )
        return locations, links, ids

    def _attributes(self) -> dict[str, list[str]]:
        known = {"theme": self.context.themes, "life_domain": self.context.life_domains}
        found: dict[str, list[str]] = {"theme": [], "life_domain": []}
        for i, attribute in enumerate(self.record.get("attributes", [])):
            kind = attribute.get("link_type")
            code = (attribute.get("taxonomy_term") or {}).get("code")
            if kind not in known:
                continue  # another taxonomy's attribute: not one Wijkwerk keeps
            if code not in known[kind]:
                self.refuse(f"attributes.{i}.taxonomy_term.code", f"unknown_{kind}")
            elif code not in found[kind]:
                found[kind].append(code)
        return found

    def _areas(self, service_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = []
        for i, area in enumerate(self.record.get("service_areas", [])):
            code = area.get("extent")
            if code == self.context.municipality_code:
                area_id = None
            elif code in self.context.areas:
                area_id = self.context.areas[code][0]
            else:
                self.refuse(f"service_areas.{i}.extent", "unknown_area")
                continue
            rows.append({"id": uuid.UUID(area["id"]), "service_id": service_id, "area_id": area_id})
        return rows

    def _schedules(self, service_id: uuid.UUID, location_ids: set[uuid.UUID]) -> list[dict[str, Any]]:
        given = {s["id"]: s for s in self.record.get("schedules", [])}
        for link in self.record.get("service_at_locations", []):
            given |= {s["id"]: s for s in link.get("schedules", [])}
        rows = []
        for i, schedule in enumerate(given.values()):
            at = f"schedules.{i}"
            day = WEEKDAYS.get(schedule.get("byday", ""))
            if schedule.get("freq") != "WEEKLY" or day is None:
                self.refuse(f"{at}.byday", "weekly_on_one_day")
                continue
            location_id = schedule.get("location_id")
            if location_id is not None and uuid.UUID(location_id) not in location_ids:
                self.refuse(f"{at}.location_id", "unknown_location")
                continue
            values = {
                "weekday": day,
                "opens_at": schedule.get("opens_at"),
                "closes_at": schedule.get("closes_at"),
                "location_id": location_id,
                "description": schedule.get("description", ""),
            }
            entry = self.check(ScheduleIn, values, partial(_schedule_path, at))
            if entry is None:
                continue
            rows.append(
                {
                    "id": uuid.UUID(schedule["id"]),
                    "service_id": service_id,
                    "location_id": entry.location_id,
                    "weekday": entry.weekday,
                    "opens_at": entry.opens,
                    "closes_at": entry.closes,
                    "description": entry.description,
                }
            )
        return rows


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


SERVICE_FIELDS = {
    "languages": "languages.{}.code",
    "phone": "phones.0.number",
    "themes": "attributes",
    "life_domains": "attributes",
}


def _service_path(loc: tuple[Any, ...]) -> str:
    if not loc:
        return ""
    head = SERVICE_FIELDS.get(str(loc[0]))
    if head is None:
        return ".".join(map(str, loc))
    return head.format(*loc[1:2]) if "{}" in head else head


ADDRESS_FIELDS = {"address_1", "postal_code", "city"}


def _location_path(at: str, loc: tuple[Any, ...]) -> str:
    name = str(loc[0]) if loc else ""
    if name in ADDRESS_FIELDS:
        return f"{at}.location.addresses.0.{name}"
    if name == "neighbourhood":
        return f"{at}.location.external_identifier"
    return f"{at}.location.{name}" if name else f"{at}.location"


def _schedule_path(at: str, loc: tuple[Any, ...]) -> str:
    rest = [str(part) for part in loc]
    names = {"weekday": "byday"}
    return ".".join([at, *(names.get(part, part) for part in rest)])
