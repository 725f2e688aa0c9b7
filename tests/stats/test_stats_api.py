"""The statistics API: who may call it, what the analyst cannot reach, parameters, CSV and scoping."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from app.domain.stats.catalogue import CATALOGUE
from app.security.scopes import Role, allowed_scopes
from tests.contract.routes import endpoints
from tests.factories import World
from tests.stats.data import Dataset, Place
from tests.stats.helpers import figures, refresh

API = "/api/v1/stats"
NOT_ANALYSTS = [
    "generalist_a",
    "team_lead_a",
    "partner_a",
    "resident",
    "network_coordinator",
    "privacy_officer",
    "admin",
]


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("actor", NOT_ANALYSTS)
async def test_only_analysts_get_statistics(
    client: httpx.AsyncClient, world: World, place: Place, actor: str
) -> None:
    headers = await world.headers(actor)
    params = {"area": place.municipality.code, "from": "2025-01-01"}
    for path in (API, f"{API}/households_registered", f"{API}/no_such_measure"):
        response = await client.get(path, params=params, headers=headers)
        assert _problem(response, 403)["type"] == "urn:wijkwerk:problem:insufficient_scope"


async def test_anonymous_callers_get_no_statistics(client: httpx.AsyncClient, place: Place) -> None:
    for path in (API, f"{API}/households_registered"):
        response = await client.get(path, params={"area": place.municipality.code, "from": "2025-01-01"})
        _problem(response, 401)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


async def test_the_analyst_reaches_no_case_route(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    """Walk every route: whatever needs a scope the analyst role cannot hold answers 403, and every
    case-file route (/households...) answers 403 or 404, never data."""
    analyst = {str(s) for s in allowed_scopes(Role.analyst)}
    headers = await world.headers("analyst")
    checked = case_routes = 0
    for endpoint in endpoints(app):
        if endpoint.method in ("*", "WEBSOCKET") or not endpoint.path.startswith("/api/v1/"):
            continue
        case_route = endpoint.path.startswith("/api/v1/households")
        if endpoint.scopes <= analyst and not case_route:
            continue  # the statistics themselves, and public initiative reads
        body: dict[str, Any] | None = {} if endpoint.method in ("POST", "PUT", "PATCH") else None
        response = await client.request(endpoint.method, _concrete(endpoint.path), headers=headers, json=body)
        allowed = {403, 404} if case_route else {403}
        assert response.status_code in allowed, (endpoint, response.status_code, response.text)
        checked += 1
        case_routes += case_route
    assert checked > 0
    assert case_routes > 0 or not any(e.path.startswith("/api/v1/households") for e in endpoints(app))


async def test_the_catalogue_lists_measures_dimensions_and_rules(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(API, headers=await world.headers("analyst"))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert [m["id"] for m in body["measures"]] == list(CATALOGUE)
    for measure in body["measures"]:
        assert measure["definition"] and measure["title"] and measure["unit"]
        areas = ["buurt", "wijk", "gemeente"]
        entry = CATALOGUE[measure["id"]]
        extra = ["network"] if entry.networks else ["team"] if entry.teams else []
        assert measure["levels"] == [*areas, *extra]
        assert measure["periods"] == ["month", "quarter", "year"]
    closed = next(m for m in body["measures"] if m["id"] == "households_closed")
    assert closed["breakdown"]["total"] is True and "goals_reached" in closed["breakdown"]["values"]
    themes = next(m for m in body["measures"] if m["id"] == "households_by_theme")
    assert "debts" in themes["breakdown"]["values"] and themes["breakdown"]["total"] is False
    assert body["disclosure"]["threshold"] == 10 and body["disclosure"]["rounding_base"] == 5
    assert set(body["disclosure"]["reasons"]) == {"below_threshold", "complementary", "small_denominator"}


async def test_csv_has_stable_columns(client: httpx.AsyncClient, place: Place) -> None:
    await Dataset(place).households(place.buurten[0], 12, registered=date(2025, 2, 1))
    await Dataset(place).households(place.buurten[2], 13, registered=date(2025, 2, 1))
    await refresh(place.app)
    response = await client.get(
        f"{API}/households_registered",
        params={
            "area": place.municipality.code,
            "level": "buurt",
            "period": "year",
            "from": "2025-01-01",
            "to": "2025-12-31",
        },
        headers={**await place.headers("analyst"), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "measure",
        "area_code",
        "area_name",
        "area_level",
        "period",
        "period_start",
        "period_end",
        "category",
        "value",
        "suppressed",
    ]
    by_area = {r[1]: r for r in rows[1:]}
    assert len(by_area) == 4
    assert by_area[place.buurten[2].code][4:] == [
        "2025",
        "2025-01-01",
        "2025-12-31",
        "total",
        "",
        "complementary",
    ]
    assert by_area[place.buurten[3].code][8:] == ["", "below_threshold"]
    wijk = await client.get(
        f"{API}/households_registered",
        params={
            "area": place.municipality.code,
            "level": "wijk",
            "period": "year",
            "from": "2025-01-01",
            "to": "2025-12-31",
        },
        headers={**await place.headers("analyst"), "Accept": "text/csv"},
    )
    assert [r[8:] for r in csv.reader(io.StringIO(wijk.text))][1:] == [["10", ""], ["15", ""]]  # 12, 13


async def test_figures_are_scoped_to_the_municipality_of_the_area(
    client: httpx.AsyncClient, place: Place, app: FastAPI, world: World
) -> None:
    await Dataset(place).households(place.buurten[0], 40, registered=date(2025, 2, 1))
    other = world  # another municipality, with no households registered in 2025
    span = {"level": "gemeente", "period": "year", "from": "2025-01-01", "to": "2025-12-31"}
    mine = await figures(client, place, "households_registered", **span)
    assert mine == {(place.municipality.code, "2025", "total"): (40, None)}
    theirs = await figures(client, other, "households_registered", **span)  # type: ignore[arg-type]
    assert theirs == {(other.municipality.code, "2025", "total"): (None, "below_threshold")}
    # A wijk or buurt code selects rows inside it, still with the whole municipality's pattern.
    wijk = await figures(
        client, place, "households_registered", **{**span, "level": "buurt", "area": place.wijken[0].code}
    )
    assert {k[0] for k in wijk} == {place.buurten[0].code, place.buurten[1].code}


async def test_only_finished_periods_are_published(client: httpx.AsyncClient, place: Place) -> None:
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    cells = await figures(
        client,
        place,
        "households_registered",
        level="gemeente",
        period="month",
        **{"from": f"{today.year - 1}-01-01", "to": f"{today.year + 1}-12-31"},
    )
    months = sorted(p for _, p, _ in cells)
    assert months and months[0] == f"{today.year - 1}-01"
    current = f"{today.year}-{today.month:02d}"
    assert all(p < current for p in months)
    assert len(months) == 12 + today.month - 1


@pytest.mark.parametrize(
    ("params", "status", "location", "rule"),
    [
        ({"level": "street"}, 422, ["query", "level"], "enum"),
        ({"period": "week"}, 422, ["query", "period"], "enum"),
        ({"from": "yesterday"}, 422, ["query", "from"], "date_from_datetime_parsing"),
        ({"from": None}, 422, ["query", "from"], "missing"),
        ({"to": "2024-12-31"}, 422, ["query", "to"], "range_order"),
        ({"from": "0001-01-01", "to": "0001-12-31"}, 422, ["query", "from"], "range_start"),
        ({"to": "2040-01-01"}, 422, ["query", "to"], "range_too_long"),
        ({"team": "a"}, 422, ["query", "team"], "unknown_parameter"),
        ({"household_id": str(uuid.uuid4())}, 422, ["query", "household_id"], "unknown_parameter"),
        ({"area": "BU99999999"}, 422, ["query", "area"], "unknown_area"),
        ({"area": "Amsterdam"}, 422, ["query", "area"], "string_pattern_mismatch"),
        ({"area": None}, 422, ["query", "area"], "missing"),
    ],
)
async def test_invalid_parameters_are_named(
    client: httpx.AsyncClient,
    place: Place,
    params: dict[str, str | None],
    status: int,
    location: list[str],
    rule: str,
) -> None:
    query = {"area": place.municipality.code, "from": "2025-01-01", **params}
    response = await client.get(
        f"{API}/households_registered",
        params={k: v for k, v in query.items() if v is not None},
        headers=await place.headers("analyst"),
    )
    errors = _problem(response, status)["errors"]
    assert isinstance(errors, list)
    assert [location, rule] in [[e["loc"], e["rule"]] for e in errors], errors


async def test_level_above_the_area_and_unknown_measures(client: httpx.AsyncClient, place: Place) -> None:
    headers = await place.headers("analyst")
    response = await client.get(
        f"{API}/households_registered",
        params={"area": place.buurten[0].code, "level": "wijk", "from": "2025-01-01"},
        headers=headers,
    )
    assert _problem(response, 422)["errors"] == [
        {
            "loc": ["query", "level"],
            "message": "The level must be the area's own level or one below it.",
            "rule": "level_above_area",
        }
    ]
    missing = await client.get(
        f"{API}/no_such_measure",
        params={"area": place.municipality.code, "from": "2025-01-01"},
        headers=headers,
    )
    assert _problem(missing, 404)["detail"] == "The measure was not found."
