"""`wijkwerk serve --demo` as a newcomer runs it: a real process, its own embedded PostgreSQL.

Starts the command with a fresh data folder and no DATABASE_URL, waits for /readyz, checks the demo
credentials file, gets a token with the demo partner's credentials, then sends SIGTERM while several
requests are in flight: they all complete, the process exits 0 and the embedded PostgreSQL is stopped.
Only 127.0.0.1, bounded timeouts everywhere.
"""

from __future__ import annotations

import asyncio
import json
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.demo.live import EXIT_TIMEOUT, HOST, Served, serve, stop_leftovers, wait_ready

pytestmark = pytest.mark.slow

DEMO_USERS = {
    "generalist_a",
    "generalist_b",
    "team_lead_a",
    "resident",
    "network_coordinator",
    "privacy_officer",
    "policy_officer",
    "admin",
}
# Household members of the demo (self-service): two with a password, one with an activation code.
DEMO_MEMBERS = {"household_member_1", "household_member_2"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = serve(tmp_path, tmp_path / "data")
    try:
        yield running
    finally:
        stop_leftovers(running)


def _check_credentials_shape(path: Path) -> dict[str, Any]:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = json.loads(path.read_text())
    assert set(credentials) == {"clients", "users", "activation_codes"}
    clients = credentials["clients"]
    # "docs": the public client of "Authorize" in /docs (issue 11, item 12)
    assert set(clients) == {"partner_a", "partner_b", "analyst", "mobile_app", "docs"}
    for name in ("partner_a", "partner_b", "analyst"):
        assert set(clients[name]) == {"client_id", "client_secret"}
        assert all(isinstance(v, str) and v for v in clients[name].values())
    assert set(clients["mobile_app"]) == {"client_id", "redirect_uri"}
    assert clients["mobile_app"]["redirect_uri"].startswith("http://127.0.0.1:")
    assert set(credentials["users"]) == DEMO_USERS | DEMO_MEMBERS
    for key, user in credentials["users"].items():
        # A household member's entry also names the member and the household's reference.
        about_member = {"member", "household"} if key in DEMO_MEMBERS else set()
        assert set(user) == {"username", "password"} | about_member
        assert len(user["password"]) >= 12
    invitation = credentials["activation_codes"]["household_member_3"]
    assert set(invitation) == {"username", "code", "expires_at", "activate_at", "member", "household"}
    return dict(credentials)


async def _partial_token_request(port: int, client_id: str, secret: str) -> tuple[Any, Any, bytes]:
    """Open a connection and send a token request without the end of its body: it is now in flight."""
    import base64

    body = b"grant_type=client_credentials"
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    head = (
        f"POST /oauth/token HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Basic {basic}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
    writer.write(head + body[:10])
    await writer.drain()
    return reader, writer, body[10:]


async def _finish(reader: Any, writer: Any, rest: bytes) -> tuple[int, dict[str, Any]]:
    writer.write(rest)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), EXIT_TIMEOUT)  # the server closes after answering
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(payload) if payload.startswith(b"{") else {}


async def test_serve_demo_cold_start_token_and_graceful_sigterm(served: Served) -> None:
    cold_start = await wait_ready(served)
    print(f"\ncold start of `wijkwerk serve --demo` (fresh data folder, to /readyz 200): {cold_start:.1f}s")

    credentials = _check_credentials_shape(served.data_dir / "demo-credentials.json")
    partner = credentials["clients"]["partner_a"]
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30.0) as http:
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(partner["client_id"], partner["client_secret"]),
        )
        assert token.status_code == 200, token.text
        assert token.json()["token_type"].lower() == "bearer"
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        # A valid partner token: verified (not 401), but the admin routes are not the partner's (403).
        assert (await http.get("/api/v1/areas", headers=bearer)).status_code == 403

    postmaster = served.postmaster_pid()
    assert psutil.pid_exists(postmaster)
    in_flight = [
        await _partial_token_request(served.port, partner["client_id"], partner["client_secret"])
        for _ in range(5)
    ]
    await asyncio.sleep(0.5)  # the server has read the headers and awaits the bodies
    served.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)  # shutdown has begun: no new connections, in-flight ones may finish
    results = await asyncio.gather(*(_finish(*request) for request in in_flight))
    assert [status for status, _ in results] == [200] * 5, served.logs()
    assert all(body.get("access_token") for _, body in results)

    assert served.process.wait(timeout=EXIT_TIMEOUT) == 0, served.logs()
    assert not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == psutil.STATUS_ZOMBIE
    assert not (served.data_dir / "pgdata" / "postmaster.pid").exists()
    async with httpx.AsyncClient(base_url=served.base_url, timeout=2.0) as http:
        with pytest.raises(httpx.TransportError):
            await http.get("/healthz")
