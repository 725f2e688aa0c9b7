"""Directory tables, shaped like Open Referral's HSDS 3.0 (organization, service, location,
service_at_location, service_area, schedule).

Where HSDS has a field, the column carries its name (``eligibility_description``, ``fees_description``,
``assured_date``, ``last_modified``); what the sociale kaart adds is Wijkwerk's own: the buurt of a
location, free of charge, themes and life domains (the reference lists, published as HSDS taxonomy
terms), public or internal, internal notes. The full-text vector is a generated column (Dutch
configuration) written by the migration.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, uuid_pk


class ServiceStatus(StrEnum):
    """HSDS 3.0's status codelist, verbatim (``temporarily closed`` has a space)."""

    active = "active"
    inactive = "inactive"
    defunct = "defunct"
    temporarily_closed = "temporarily closed"


class DirectoryOrganization(SQLModel, table=True):
    """An organisation that offers services; linked to our partner organisation when it is one."""

    __tablename__ = "directory_organizations"
    __table_args__ = (
        # A municipality's organisations from this index alone: the buurt search's set of them (0290).
        sa.Index("ix_directory_organizations_municipality_org", "municipality_id", "id"),
    )

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id")
    partner_organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="partner_organisations.id", unique=True
    )
    name: str = Field(max_length=160)
    description: str = Field(default="", max_length=4000)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    last_modified: datetime = timestamp_now()


class DirectoryLocation(SQLModel, table=True):
    """A place where services are offered: an address, and the buurt it lies in."""

    __tablename__ = "directory_locations"
    __table_args__ = (
        # A buurt search gathers the services at the buurt's locations: (buurt, id) lists those
        # locations from the index alone, without reading each location's row (bench/directory).
        sa.Index("ix_directory_locations_buurt_location", "buurt_id", "id"),
    )

    id: uuid.UUID = uuid_pk()
    organization_id: uuid.UUID = Field(
        foreign_key="directory_organizations.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=160)
    description: str = Field(default="", max_length=4000)
    address_1: str = Field(max_length=200)
    postal_code: str = Field(max_length=10)
    city: str = Field(max_length=120)
    buurt_id: uuid.UUID | None = Field(default=None, foreign_key="areas.id")
    latitude: float | None = None
    longitude: float | None = None
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    last_modified: datetime = timestamp_now()


# Ranked Dutch full-text search: the name weighs most, then the description, then who it is for and
# how to apply. The 'dutch' configuration stems (schulden ~ schuld) and drops Dutch stop words.
SEARCH_VECTOR = (
    "setweight(to_tsvector('dutch'::regconfig, name), 'A') || "
    "setweight(to_tsvector('dutch'::regconfig, description), 'B') || "
    "setweight(to_tsvector('dutch'::regconfig, eligibility_description || ' ' || application_process), 'C')"
)


class DirectoryService(SQLModel, table=True):
    """What an organisation offers: who it is for, what it costs, how to apply, how to reach it."""

    __tablename__ = "directory_services"
    __table_args__ = (
        one_of("status", ServiceStatus),
        sa.CheckConstraint(
            "minimum_age IS NULL OR maximum_age IS NULL OR minimum_age <= maximum_age", name="age_range"
        ),
        sa.Index("ix_directory_services_search", "search_vector", postgresql_using="gin"),
        sa.Index("ix_directory_services_themes", "themes", postgresql_using="gin"),
    )

    id: uuid.UUID = uuid_pk()
    organization_id: uuid.UUID = Field(
        foreign_key="directory_organizations.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=160)
    description: str = Field(default="", max_length=4000)
    status: str = Field(default=ServiceStatus.active, max_length=20)
    eligibility_description: str = Field(default="", max_length=2000)
    application_process: str = Field(default="", max_length=2000)
    fees_description: str = Field(default="", max_length=1000)
    free_of_charge: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    languages: list[str] = string_array()
    minimum_age: int | None = None
    maximum_age: int | None = None
    themes: list[str] = string_array()
    life_domains: list[str] = string_array()
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    url: str | None = Field(default=None, max_length=500)
    public: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    internal_notes: str = Field(default="", max_length=4000)
    assured_date: date | None = None
    assurer_email: str | None = Field(default=None, max_length=254)
    assurer_name: str | None = Field(default=None, max_length=160)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = timestamp_now()
    last_modified: datetime = timestamp_now()
    search_vector: str | None = Field(
        default=None,
        sa_column=sa.Column(postgresql.TSVECTOR, sa.Computed(SEARCH_VECTOR, persisted=True)),
    )


class DirectoryServiceAtLocation(SQLModel, table=True):
    """A service offered at a location (HSDS service_at_location)."""

    __tablename__ = "directory_service_at_locations"
    __table_args__ = (
        sa.UniqueConstraint("service_id", "location_id", name="uq_directory_sal_pair"),
        # A buurt search asks which services are offered at the buurt's locations: answered from
        # this index alone, a probe per location, instead of reading every link (bench/directory).
        sa.Index("ix_directory_sal_location_service", "location_id", "service_id"),
        # The services offered in a buurt (the search's nearest level) from this index alone: a few
        # index pages instead of a probe per location of the buurt (migration 0290).
        sa.Index("ix_directory_sal_buurt_service", "buurt_id", "service_id"),
    )

    id: uuid.UUID = uuid_pk()
    service_id: uuid.UUID = Field(foreign_key="directory_services.id", index=True, ondelete="CASCADE")
    location_id: uuid.UUID = Field(foreign_key="directory_locations.id", ondelete="CASCADE")
    description: str = Field(default="", max_length=1000)
    # The location's buurt, copied by PostgreSQL (migration 0290's triggers: set on every insert and
    # change of the link, and when the location moves): whatever is written here is replaced. Fetched
    # values, so the ORM reads the copy back after an insert (RETURNING) and expires it after an update.
    buurt_id: uuid.UUID | None = Field(
        default=None,
        sa_column_kwargs={"server_default": sa.FetchedValue(), "server_onupdate": sa.FetchedValue()},
    )


class DirectoryServiceArea(SQLModel, table=True):
    """An area a service serves: a buurt, a wijk, or (``area_id`` null) the whole municipality."""

    __tablename__ = "directory_service_areas"
    __table_args__ = (
        # The services serving one area (or, area null, their whole municipality) from this index
        # alone: the search's sets of services serving its buurt, wijk and municipality (0290).
        sa.Index("ix_directory_service_areas_area_service", "area_id", "service_id"),
    )

    id: uuid.UUID = uuid_pk()
    service_id: uuid.UUID = Field(foreign_key="directory_services.id", index=True, ondelete="CASCADE")
    area_id: uuid.UUID | None = Field(default=None, foreign_key="areas.id")


class DirectorySchedule(SQLModel, table=True):
    """Opening hours: one weekday (ISO, 1 = Monday) from ``opens_at`` to ``closes_at``, local time,
    at one of the service's locations or (``location_id`` null) wherever it is offered."""

    __tablename__ = "directory_schedules"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        sa.CheckConstraint("opens_at < closes_at", name="opens_before_closing"),
    )

    id: uuid.UUID = uuid_pk()
    service_id: uuid.UUID = Field(foreign_key="directory_services.id", index=True, ondelete="CASCADE")
    location_id: uuid.UUID | None = Field(
        default=None, foreign_key="directory_locations.id", ondelete="CASCADE"
    )
    weekday: int
    opens_at: time
    closes_at: time
    description: str = Field(default="", max_length=200)
