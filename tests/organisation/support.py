"""Calling the organisation routes as roles other than admin."""

from __future__ import annotations

from typing import Any

import httpx

# Every role that signs in, but the administrator.
NOT_ADMINS = [
    "generalist_a",
    "team_lead_a",
    "partner_a",
    "analyst",
    "resident",
    "network_coordinator",
    "privacy_officer",
]


async def send(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, Any]) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return await client.request(method, path, headers=headers, json=body)
