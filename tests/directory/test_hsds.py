"""The HSDS read API (/hsds): the shapes of Open Referral's API reference, every object valid against
the HSDS 3.0 schemas, public services only, the documented parameters and numbered pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.domain.directory.hsds_schema import errors
from tests.directory.support import FULL_SERVICE, Directory, make_directory
from tests.factories import World

PAGE_FIELDS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


@pytest.fixture
async def directory(world: World, client: httpx.AsyncClient) -> Directory:
    d = await make_directory(world, client)
    await d.service(
        "full",
        "welfare",
        **FULL_SERVICE,
        fees_description="Gratis.",
        locations=[await d.location("buurthuis", "welfare", buurt=1)],
        areas=[world.wijken[0].code, world.municipality.code],
        schedules=[{"weekday": 2, "opens_at": "09:00:00", "closes_at": "12:00:00"}],
    )
    return d


async def _get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(f"/hsds{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _valid(name: str, document: Any) -> None:
    assert errors(name, document) == [], (name, document)


async def test_meta_information(client: httpx.AsyncClient) -> None:
    body = await _get(client, "")
    assert body["version"] == "3.0" and body["openapi_url"].endswith("/3.0/schema/openapi.json")


async def test_services_list_pages_and_validates(directory: Directory) -> None:
    d = directory
    org = d.organizations["a"]
    body = await _get(d.client, "/services", organization_id=org)
    assert set(body) == PAGE_FIELDS
    assert body["total_items"] == 1 and body["page_number"] == 1 and body["first_page"] and body["last_page"]
    item = body["contents"][0]
    assert item["name"] == "Dienst debt_a" and item["organization"]["id"] == org
    assert "phones" not in item and "internal_notes" not in item  # a list item has no arrays
    _valid("service", item)
    # The non-public service of partner A is never published.
    everything = await _get(d.client, "/services", per_page=100, search="Dienst internal_a")
    assert all(s["name"] != "Dienst internal_a" for s in everything["contents"])
    # Numbered pages of one.
    welfare = d.organizations["welfare"]
    first = await _get(d.client, "/services", organization_id=welfare, per_page=1)
    assert first["total_items"] == 1 and first["total_pages"] == 1
    beyond = await _get(d.client, "/services", organization_id=welfare, per_page=1, page=2)
    assert beyond["empty"] and beyond["contents"] == [] and beyond["page_number"] == 2


async def test_a_full_service_is_nested_and_valid(directory: Directory) -> None:
    d = directory
    service_id = d.id("full")
    body = await _get(d.client, f"/services/{service_id}")
    _valid("service", body)
    assert body["status"] == "temporarily closed" and body["minimum_age"] == 18
    assert [p["number"] for p in body["phones"]] == ["+31 20 123 4567"]
    assert {lang["code"] for lang in body["languages"]} == {"nl", "ar"}
    assert body["cost_options"][0]["amount"] == 0
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in body["schedules"]] == [
        ("TU", "09:00:00", "12:00:00")
    ]
    assert {a["extent"] for a in body["service_areas"]} == {d.world.wijken[0].code, d.world.municipality.code}
    location = body["service_at_locations"][0]["location"]
    assert location["external_identifier"] == d.world.buurten[1].code
    assert location["addresses"][0]["country"] == "NL"
    terms = {a["taxonomy_term"]["code"] for a in body["attributes"]}
    assert terms == {"debts", "poverty", "finances"}
    full_list = await _get(d.client, "/services", organization_id=d.organizations["welfare"], full="true")
    assert full_list["contents"] == [body]
    # The same service again: every derived id is stable.
    assert await _get(d.client, f"/services/{service_id}") == body


async def test_non_public_services_are_not_found(directory: Directory) -> None:
    response = await directory.client.get(f"/hsds/services/{directory.id('internal_a')}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_taxonomies_and_terms_filter_services(directory: Directory) -> None:
    d = directory
    taxonomies = await _get(d.client, "/taxonomies")
    assert taxonomies["total_items"] == 2
    for taxonomy in taxonomies["contents"]:
        _valid("taxonomy", taxonomy)
    terms = await _get(d.client, "/taxonomy_terms", per_page=100)
    for term in terms["contents"]:
        _valid("taxonomy_term", term)
    debts = next(t for t in terms["contents"] if t["code"] == "debts")
    assert await _get(d.client, f"/taxonomy_terms/{debts['id']}") == debts
    themes = await _get(d.client, "/taxonomy_terms", taxonomy_id=debts["taxonomy_id"], per_page=100)
    assert debts in themes["contents"] and all(
        t["taxonomy_id"] == debts["taxonomy_id"] for t in themes["contents"]
    )
    org = d.organizations["a"]
    found = await _get(d.client, "/services", taxonomy_term_id=debts["id"], organization_id=org)
    assert [s["name"] for s in found["contents"]] == ["Dienst debt_a"]
    housing = next(
        t for t in terms["contents"] if t["code"] == "housing" and t["taxonomy_id"] == debts["taxonomy_id"]
    )
    assert (await _get(d.client, "/services", taxonomy_term_id=housing["id"], organization_id=org))["empty"]
    unknown = await _get(d.client, "/services", taxonomy_term_id="00000000-0000-0000-0000-000000000000")
    assert unknown["total_items"] == 0


async def test_organizations_and_services_at_locations(directory: Directory) -> None:
    d = directory
    org = await _get(d.client, f"/organizations/{d.organizations['a']}")
    _valid("organization", {k: v for k, v in org.items() if k != "services"})
    assert {s["id"] for s in org["services"]} == {d.id("debt_a")}  # the public one only
    full = await _get(d.client, f"/organizations/{d.organizations['a']}", full_service="true")
    _valid("service", full["services"][0])
    listed = await _get(d.client, "/organizations", search="Organisatie", per_page=100)
    for item in listed["contents"]:
        _valid("organization", item)
    links = await _get(d.client, "/service_at_locations", organization_id=d.organizations["welfare"])
    assert links["total_items"] == 1
    link = links["contents"][0]
    _valid("service_at_location", link)
    assert link["service"]["name"] == "Dienst full"
    nested = await _get(d.client, f"/service_at_locations/{link['id']}")
    _valid("service_at_location", nested)
    _valid("service", nested["service"])
    by_postcode = await _get(
        d.client, "/service_at_locations", organization_id=d.organizations["welfare"], postcode="1234ab"
    )
    assert by_postcode["total_items"] == 1


async def test_modified_after_and_minimal(directory: Directory) -> None:
    d = directory
    org = d.organizations["a"]
    minimal = await _get(d.client, "/services", organization_id=org, minimal="true")
    assert minimal["contents"] == [
        {"id": d.id("debt_a"), "modified_date": minimal["contents"][0]["modified_date"]}
    ]
    later = await _get(d.client, "/services", organization_id=org, modified_after="2999-01-01T00:00:00Z")
    assert later["empty"]
    earlier = await _get(d.client, "/services", organization_id=org, modified_after="2000-01-01T00:00:00")
    assert earlier["total_items"] == 1


@pytest.mark.parametrize(
    "params",
    [{"format": "ndjson"}, {"page": "0"}, {"per_page": "1000"}, {"proximity": "500"}, {"colour": "red"}],
)
async def test_unsupported_parameters_are_refused(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/hsds/services", params=params)
    assert response.status_code == 422
