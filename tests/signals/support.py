"""Policy signals through the real API, with real tokens of every role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import World
from tests.households.support import create_household

BASE = "/api/v1/policy-signals"


def signal_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "PGB may not pay an unemployed daughter for her mother's care",
        "situation": "A mother needs daily care. Her daughter, without a job, could give it and be "
        "paid from the PGB, but the rule forbids paying a relative in the same house.",
        "rule_reference": "Beleidsregels Wmo, art. 4.2",
        "rule_quote": "Een persoonsgebonden budget wordt niet verstrekt voor hulp door huisgenoten.",
        "solution": "An exemption for these cases: the daughter is paid from the PGB.",
        "themes": ["debts"],
        "life_domains": ["finances"],
    }
    body.update(extra)
    return body


@dataclass
class Signals:
    world: World
    client: httpx.AsyncClient

    async def send(self, method: str, path: str, actor: str, **kwargs: Any) -> httpx.Response:
        headers = {**await self.world.headers(actor), **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, actor: str, **kwargs: Any) -> httpx.Response:
        response = await self.send(method, path, actor, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response

    async def household(self, actor: str = "generalist_a", **extra: Any) -> str:
        return str((await create_household(self.client, self.world, actor, **extra))["id"])

    async def draft(self, actor: str = "generalist_a", **extra: Any) -> httpx.Response:
        return await self.ok("POST", BASE, actor, json=signal_body(**extra))

    async def step(
        self, response: httpx.Response, actor: str, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        """POST a step with the ETag of ``response`` (the signal as last read)."""
        signal_id = response.json()["id"]
        return await self.send(
            "POST",
            f"{BASE}/{signal_id}/{path}",
            actor,
            json=body,
            headers={"If-Match": response.headers["etag"]},
        )

    async def submitted(
        self, actor: str = "generalist_a", lead: str = "team_lead_a", **extra: Any
    ) -> httpx.Response:
        draft = await self.draft(actor, **extra)
        response = await self.step(draft, lead, "submit", {})
        assert response.status_code == 200, response.text
        return response
