"""A real `wijkwerk serve` process for tests, as a newcomer runs it: its own embedded PostgreSQL in a
data folder of its own, no DATABASE_URL and none of the test run's WIJKWERK_* settings, 127.0.0.1
only, bounded timeouts everywhere, and nothing of it left running afterwards.

Also what a client of the live demo does first: read the credentials file, get a machine token, sign
a person in through the login page (as a browser does) and exchange the code.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.auth.helpers import hidden_fields, query_of

HOST = "127.0.0.1"
READY_TIMEOUT = 300.0  # initdb + migrations + demo data on a busy two-core machine
EXIT_TIMEOUT = 60.0
VENV = Path(sys.executable).parent.parent  # the environment running the tests (bin/wijkwerk, bin/python)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wijkwerk_command() -> list[str]:
    script = VENV / "bin" / "wijkwerk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def clean_environment(**extra: str) -> dict[str, str]:
    """The test run's environment without its database and settings: a command sees only ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "WIJKWERK_DATABASE_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith("WIJKWERK_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])

    def credentials(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads((self.data_dir / "demo-credentials.json").read_text())
        return found


def serve(cwd: Path, data_dir: Path, *args: str, **env: str) -> Served:
    """Start `wijkwerk serve --demo` on a free port (``args`` added), writing its output to a log."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*wijkwerk_command(), "serve", "--demo", "--host", HOST, "--port", str(port), *args],
            env=clean_environment(WIJKWERK_DATA_DIR=str(data_dir), **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
    return Served(process, port, data_dir, log)


async def wait_ready(served: Served) -> float:
    """Seconds until /readyz answers 200; fails with the server's log when it exits or takes too long."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=served.base_url, timeout=5.0) as http:
        while time.monotonic() - started < READY_TIMEOUT:
            assert served.process.poll() is None, f"serve exited early:\n{served.logs()}"
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError(f"not ready within {READY_TIMEOUT}s:\n{served.logs()}")


def stop(served: Served) -> None:
    """SIGTERM (the server stops its embedded PostgreSQL), then make sure nothing of ours is left."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            served.process.wait(timeout=EXIT_TIMEOUT)
    stop_leftovers(served)


def stop_leftovers(served: Served) -> None:
    """Whatever the test's outcome, leave no server or postmaster of ours behind."""
    if served.process.poll() is None:
        served.process.kill()
        served.process.wait(timeout=EXIT_TIMEOUT)
    try:
        pid = served.postmaster_pid()
    except (OSError, ValueError, IndexError):
        return
    # The pid file outlives its postmaster: once that exited, the pid may be another process's (a
    # pytest worker, another worker's PostgreSQL). Only the postmaster of this data folder is stopped.
    pgdata = str((served.data_dir / "pgdata").resolve())
    try:
        postmaster = psutil.Process(pid)
        ours = postmaster.name().startswith("postgres") and pgdata in " ".join(postmaster.cmdline())
    except psutil.Error:
        return
    if ours:
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        postmaster.wait(timeout=EXIT_TIMEOUT)


# -- a client of the live demo -----------------------------------------------------------------------


async def machine_token(http: httpx.AsyncClient, credentials: dict[str, Any], client: str) -> str:
    """A client-credentials token of a demo machine client (partner_a, partner_b, analyst)."""
    found = credentials["clients"][client]
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(found["client_id"], found["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def browser_sign_in(address: str, username: str, password: str) -> str:
    """What a person does with the authorization address in a browser: open the login page, sign in,
    and be sent to the redirect URI. Returns the ``code`` of that redirect."""
    async with httpx.AsyncClient(timeout=30.0) as browser:
        page = await browser.get(address)
        assert page.status_code == 200, page.text
        login = str(page.url.copy_with(query=None))
        form = hidden_fields(page.text) | {"username": username, "password": password}
        answer = await browser.post(login, data=form)
    assert answer.status_code == 302, answer.text
    return query_of(answer.headers["location"])["code"]


async def person_token(http: httpx.AsyncClient, credentials: dict[str, Any], user: str, scope: str) -> str:
    """A demo person's access token, through the login page and the code exchange (PKCE S256)."""
    app = credentials["clients"]["mobile_app"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    address = str(
        http.build_request(
            "GET",
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": app["client_id"],
                "redirect_uri": app["redirect_uri"],
                "scope": scope,
                "state": secrets.token_urlsafe(8),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        ).url
    )
    person = credentials["users"][user]
    code = await browser_sign_in(address, person["username"], person["password"])
    answer = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "code": code,
            "redirect_uri": app["redirect_uri"],
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])
