"""The directory as Open Referral HSDS 3.0 documents: pure functions from rows to the JSON objects of
the specification (``schema/*.json`` and the compiled ``service``, ``service_list``, ``organization``,
``service_at_location_list`` shapes of its OpenAPI document).

HSDS wants a UUID for every object. Rows of ours have one; objects that are a column of ours in HSDS's
own table (a service's phone, its languages, its free-of-charge cost option, its theme attributes, a
location's address, our reference lists as taxonomy terms) get a stable name-based UUID (version 5)
from the owner's id, so every export and every read names them alike. Optional fields without a value
are left out (the schemas allow no null).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

HSDS_VERSION = "3.0"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
NAMESPACE = uuid.UUID("5b0e7c57-44f6-4f3e-9d64-6f6b2a1d3c11")  # Wijkwerk's sociale kaart
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

Json = dict[str, Any]


def derived_id(owner: uuid.UUID | str, what: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{owner}:{what}"))


def _clean(values: Mapping[str, Any]) -> Json:
    """Leave out what has no value; write ids, dates and moments as HSDS does."""
    result: Json = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        elif isinstance(value, date | time):
            value = value.isoformat()
        result[key] = value
    return result


# -- taxonomies: our themes and life domains -------------------------------------------------------


@dataclass(frozen=True)
class Taxonomy:
    key: str  # "theme" or "life_domain": the attribute's link_type too
    name: str
    description: str

    @property
    def id(self) -> str:
        return derived_id("taxonomy", self.key)

    def as_json(self) -> Json:
        return {"id": self.id, "name": self.name, "description": self.description, "version": "1"}


THEMES = Taxonomy("theme", "Wijkwerk thema's", "Recurring questions in a neighbourhood (Wijkwerk themes).")
LIFE_DOMAINS = Taxonomy(
    "life_domain", "Wijkwerk leefgebieden", "The life domains of the self-sufficiency scale (Wijkwerk)."
)
TAXONOMIES = (THEMES, LIFE_DOMAINS)


@dataclass(frozen=True)
class Term:
    taxonomy: Taxonomy
    code: str
    label_nl: str
    label_en: str

    @property
    def id(self) -> str:
        return derived_id(self.taxonomy.key, self.code)

    def as_json(self) -> Json:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.label_nl,
            "description": self.label_en,
            "taxonomy": self.taxonomy.name,
            "taxonomy_id": self.taxonomy.id,
            "taxonomy_detail": self.taxonomy.as_json(),
            "language": "nl",
        }


def terms(themes: Iterable[tuple[str, str, str]], life_domains: Iterable[tuple[str, str, str]]) -> list[Term]:
    return [Term(THEMES, *t) for t in themes] + [Term(LIFE_DOMAINS, *d) for d in life_domains]


# -- pages -----------------------------------------------------------------------------------------


def page(total: int, number: int, per_page: int, contents: Sequence[Json]) -> Json:
    """HSDS's ``Page``: 1-based page numbers, as the specification's examples count them."""
    pages = math.ceil(total / per_page) if total else 0
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": not contents,
        "contents": list(contents),
    }


# -- organisations, locations, services ------------------------------------------------------------


def organization(row: Mapping[str, Any]) -> Json:
    return _clean(
        {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"] or row["name"],
            "email": row["email"],
            "website": row["website"],
        }
    )


def location(row: Mapping[str, Any], municipality: str) -> Json:
    """A place: a physical location with one physical address; its buurt as external identifier."""
    address = _clean(
        {
            "id": derived_id(row["id"], "address"),
            "location_id": row["id"],
            "address_1": row["address_1"],
            "city": row["city"],
            "region": municipality,
            # Required by HSDS; Wijkwerk keeps no province, so it is empty (docs/directory.md).
            "postal_code": row["postal_code"],
            "country": "NL",
            "address_type": "physical",
        }
    )
    address["state_province"] = ""
    return _clean(
        {
            "id": row["id"],
            "location_type": "physical",
            "organization_id": row["organization_id"],
            "name": row["name"],
            "description": row["description"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "external_identifier": row.get("neighbourhood"),
            "external_identifier_type": "CBS buurtcode" if row.get("neighbourhood") else None,
        }
    ) | {"addresses": [address]}


def service_scalars(row: Mapping[str, Any]) -> Json:
    return _clean(
        {
            "id": row["id"],
            "organization_id": row["organization_id"],
            "name": row["name"],
            "description": row["description"],
            "url": row["url"],
            "email": row["email"],
            "status": row["status"],
            "application_process": row["application_process"],
            "fees_description": row["fees_description"],
            "eligibility_description": row["eligibility_description"],
            "minimum_age": row["minimum_age"],
            "maximum_age": row["maximum_age"],
            "assured_date": row["assured_date"],
            "assurer_email": row["assurer_email"],
            "last_modified": row["last_modified"],
        }
    )


def _schedule(row: Mapping[str, Any]) -> Json:
    return _clean(
        {
            "id": row["id"],
            "service_id": row["service_id"],
            "location_id": row["location_id"],
            "freq": "WEEKLY",
            "wkst": "MO",
            "byday": WEEKDAYS[row["weekday"] - 1],
            "opens_at": row["opens_at"],
            "closes_at": row["closes_at"],
            "description": row["description"],
        }
    )


def _attributes(
    service_id: uuid.UUID, row: Mapping[str, Any], by_code: Mapping[tuple[str, str], Term]
) -> list[Json]:
    found = []
    for key, codes in (("theme", row["themes"]), ("life_domain", row["life_domains"])):
        for code in codes:
            term = by_code.get((key, code))
            if term is not None:
                found.append(
                    {
                        "id": derived_id(service_id, f"{key}:{code}"),
                        "link_id": str(service_id),
                        "link_type": key,
                        "link_entity": "service",
                        "taxonomy_term_id": term.id,
                        "taxonomy_term": term.as_json(),
                    }
                )
    return found


@dataclass(frozen=True)
class ServiceParts:
    """Everything a full service is made of, as read by the repository."""

    row: Mapping[str, Any]
    organization: Mapping[str, Any]
    locations: Sequence[Mapping[str, Any]]
    areas: Sequence[tuple[uuid.UUID, str, str, str]]
    schedules: Sequence[Mapping[str, Any]]
    municipality: str


def full_service(
    parts: ServiceParts, by_code: Mapping[tuple[str, str], Term], *, with_locations: bool = True
) -> Json:
    """A fully nested service (compiled/service.json)."""
    row, service_id = parts.row, parts.row["id"]
    document = service_scalars(row)
    document["organization"] = organization(parts.organization)
    document["phones"] = (
        [{"id": derived_id(service_id, "phone"), "service_id": str(service_id), "number": row["phone"]}]
        if row["phone"]
        else []
    )
    document["schedules"] = [_schedule(s) for s in parts.schedules]
    document["service_areas"] = [
        _clean(
            {
                "id": area_id,
                "service_id": service_id,
                "name": name,
                "description": f"{level} {code}",
                "extent_type": "text",
                "extent": code,
            }
        )
        for area_id, code, name, level in parts.areas
    ]
    document["languages"] = [
        {"id": derived_id(service_id, f"language:{code}"), "service_id": str(service_id), "code": code}
        for code in row["languages"]
    ]
    document["cost_options"] = (
        [
            {
                "id": derived_id(service_id, "free"),
                "service_id": str(service_id),
                "option": "Gratis (free of charge)",
                "currency": "EUR",
                "amount": 0,
            }
        ]
        if row["free_of_charge"]
        else []
    )
    document["attributes"] = _attributes(service_id, row, by_code)
    document["contacts"] = []
    document["funding"] = []
    document["required_documents"] = []
    document["metadata"] = []
    if with_locations:
        document["service_at_locations"] = [
            service_at_location(loc, service_id, parts) for loc in parts.locations
        ]
    return document


def service_at_location(loc: Mapping[str, Any], service_id: uuid.UUID, parts: ServiceParts) -> Json:
    schedules = [_schedule(s) for s in parts.schedules if s["location_id"] == loc["id"]]
    return _clean(
        {
            "id": loc["sal_id"],
            "service_id": service_id,
            "location_id": loc["id"],
            "description": loc["sal_description"],
        }
    ) | {"location": location(loc, parts.municipality), "schedules": schedules, "contacts": [], "phones": []}


def service_list_item(parts: ServiceParts) -> Json:
    """A service without its arrays (compiled/service_list.json)."""
    return service_scalars(parts.row) | {"organization": organization(parts.organization)}


def minimal_service(row: Mapping[str, Any]) -> Json:
    """The ``minimal`` shape: the id and when it last changed (the parameter calls it modified_date)."""
    return _clean({"id": row["id"], "modified_date": row["last_modified"]})


def service_at_location_list_item(loc: Mapping[str, Any], parts: ServiceParts) -> Json:
    """compiled/service_at_location_list.json: the link, its location's and its service's scalars."""
    location_scalars = {k: v for k, v in location(loc, parts.municipality).items() if k != "addresses"}
    return _clean(
        {
            "id": loc["sal_id"],
            "service_id": parts.row["id"],
            "location_id": loc["id"],
            "description": loc["sal_description"],
        }
    ) | {"location": location_scalars, "service": service_list_item(parts)}
