"""A hand-made sociale kaart on top of a ``World``, made through the REST routes as the administrator.

Organisations: "a" is partner A, "b" partner B, "welfare" the municipality's own welfare organisation
(no partner). Buurten 0 and 1 lie in wijk 0, buurten 2 and 3 in wijk 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import World

BASE = "/api/v1/directory"


@dataclass
class Directory:
    world: World
    client: httpx.AsyncClient
    organizations: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def post(self, actor: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"{BASE}{path}", json=body, headers=await self.world.headers(actor))

    async def organization(self, key: str, partner: str | None = None) -> str:
        body: dict[str, Any] = {
            "municipality": self.world.municipality.code,
            "name": f"Organisatie {key}",
            "description": f"Organisatie {key} in de wijk.",
        }
        if partner is not None:
            body["partner_organisation_id"] = str(self.world.organisations[partner].id)
        response = await self.post("admin", "/organizations", body)
        assert response.status_code == 201, response.text
        self.organizations[key] = response.json()["id"]
        return self.organizations[key]

    async def location(self, key: str, organization: str, buurt: int | None) -> str:
        body: dict[str, Any] = {
            "organization_id": self.organizations[organization],
            "name": f"Locatie {key}",
            "address_1": "Dorpsstraat 1",
            "postal_code": "1234 AB",
            "city": "Testdorp",
        }
        if buurt is not None:
            body["neighbourhood"] = self.world.buurten[buurt].code
        response = await self.post("admin", "/locations", body)
        assert response.status_code == 201, response.text
        self.locations[key] = response.json()["id"]
        return self.locations[key]

    async def service(
        self, key: str, organization: str, actor: str = "admin", **fields: Any
    ) -> dict[str, Any]:
        body = {"organization_id": self.organizations[organization], "name": f"Dienst {key}", **fields}
        response = await self.post(actor, "/services", body)
        assert response.status_code == 201, response.text
        self.services[key] = response.json()
        return self.services[key]

    def id(self, key: str) -> str:
        return str(self.services[key]["id"])


async def make_directory(world: World, client: httpx.AsyncClient) -> Directory:
    """Partner A's public debt service and its internal, non-public one; partner B's housing service;
    the welfare organisation's services at each area level."""
    d = Directory(world, client)
    await d.organization("a", partner="a")
    await d.organization("b", partner="b")
    await d.organization("welfare")
    await d.location("office_a", "a", buurt=0)
    await d.service(
        "debt_a",
        "a",
        description="Hulp bij schulden en geldzaken.",
        themes=["debts"],
        life_domains=["finances"],
        free_of_charge=True,
        locations=[d.locations["office_a"]],
        internal_notes="Bel eerst Marieke.",
    )
    await d.service("internal_a", "a", public=False, internal_notes="Alleen via het wijkteam.")
    await d.service("housing_b", "b", themes=["housing"], areas=[world.buurten[2].code])
    return d


async def if_match(world: World, actor: str, etag: str) -> dict[str, Any]:
    """The actor's headers with ``If-Match: etag``."""
    return {**await world.headers(actor), "If-Match": etag}


# A service with every HSDS part filled (the HSDS and exchange tests' "full" service); each test adds
# or replaces what it needs through ``overrides``.
FULL_SERVICE: dict[str, Any] = {
    "description": "Inloopspreekuur voor vragen over geld, zorg en wonen.",
    "status": "temporarily closed",
    "eligibility_description": "Inwoners van de wijk.",
    "application_process": "Loop binnen of bel.",
    "free_of_charge": True,
    "languages": ["nl", "ar"],
    "minimum_age": 18,
    "themes": ["debts", "poverty"],
    "life_domains": ["finances"],
    "email": "spreekuur@welzijn.example",
    "phone": "+31 20 123 4567",
    "url": "https://welzijn.example/spreekuur",
}
