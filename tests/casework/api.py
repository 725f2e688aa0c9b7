"""Small client helpers for the case-file tests: make assessments, plans, goals, actions, people."""

from __future__ import annotations

from typing import Any

import httpx

from tests.casework.conftest import Cases

WRITER = "generalist_a"  # coordinator of "conf", member of team A: may write to "a" and "conf"


class CaseApi:
    def __init__(self, client: httpx.AsyncClient, cases: Cases) -> None:
        self.client = client
        self.cases = cases

    def base(self, key: str) -> str:
        return f"/api/v1/households/{self.cases.hid(key)}"

    async def _post(self, url: str, body: dict[str, Any], actor: str = WRITER) -> httpx.Response:
        response = await self.client.post(url, json=body, headers=await self.cases.headers(actor))
        assert response.status_code == 201, response.text
        return response

    async def assessment(
        self, key: str, scores: dict[str, int] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "assessed_on": "2026-01-15",
            "scores": [{"domain": d, "score": s} for d, s in (scores or {"finances": 3}).items()],
            **fields,
        }
        return (await self._post(self.base(key) + "/assessments", body)).json()

    async def active_plan_id(self, key: str) -> str | None:
        response = await self.client.get(self.base(key) + "/plan", headers=await self.cases.headers(WRITER))
        return response.json()["id"] if response.status_code == 200 else None

    def plan_body(self, supersedes: str | None, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "supersedes_id": supersedes,
            "evaluation_date": "2027-01-01",
            "goals": [
                {
                    "domain": "finances",
                    "target_score": 4,
                    "description": "Grip op geld",
                    "actions": [{"description": "Post samen sorteren", "performer_kind": "household"}],
                }
            ],
        }
        body.update(fields)
        return body

    async def plan(self, key: str, **fields: Any) -> dict[str, Any]:
        """A new active version on top of whatever is active now."""
        body = self.plan_body(await self.active_plan_id(key), **fields)
        return (await self._post(self.base(key) + "/plans", body)).json()

    async def goal(self, key: str, plan_id: str) -> dict[str, Any]:
        body = {"domain": "housing", "target_score": 4}
        return (await self._post(f"{self.base(key)}/plans/{plan_id}/goals", body)).json()

    async def action(self, key: str, plan_id: str, **fields: Any) -> dict[str, Any]:
        body = {"description": "Bellen met de woningcorporatie", "performer_kind": "household", **fields}
        return (await self._post(f"{self.base(key)}/plans/{plan_id}/actions", body)).json()

    async def person(self, key: str, **fields: Any) -> dict[str, Any]:
        body = {"label": "buurvrouw", "relation": "neighbour", "support_kinds": ["practical"], **fields}
        return (await self._post(self.base(key) + "/network", body)).json()


def etag(item: dict[str, Any]) -> str:
    return f'"{item["id"]}.{item["version"]}"'
