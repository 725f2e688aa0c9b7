"""What the /wijk/ browser tests share: where Chromium is, and a visit (a page with what it did)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from tests.demo.examples import ROOT
from tests.support.live_demo import LiveDemo

QUERIES = ROOT / "app" / "graphql" / "persisted"
INSTALL = "apt-get install -y chromium  (Debian; `bash scripts/test` does it when run as root)"


def chromium_path() -> str:
    """Debian's chromium, or the one named by WIJKWERK_CHROMIUM."""
    named = os.environ.get("WIJKWERK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(named).exists():
        pytest.fail(f"No Chromium for the browser tests at {named}. Install it: {INSTALL}", pytrace=False)
    return named


@dataclass
class Visit:
    """A page of a fresh browser context, with every request it made and every console error."""

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    async def open(self, path: str) -> None:
        await self.page.goto(self.base_url + path)
        # Rendered: the module replaced the shell's "loading" status with the data (or an error).
        await self.page.locator("main .status").wait_for(state="detached")

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests left for another host: {self.foreign}"
        assert self.console_errors == [], self.console_errors


async def anonymous(demo: LiveDemo, name: str, variables: dict[str, object]) -> dict[str, object]:
    """What any anonymous caller gets for a persisted query (the data the page must show)."""
    query = (QUERIES / f"{name}.graphql").read_text()
    async with httpx.AsyncClient(base_url=demo.base_url, timeout=30) as http:
        answer = await http.post("/graphql", json={"query": query, "variables": variables})
    body = answer.json()
    assert "errors" not in body, body
    data: dict[str, object] = body["data"]
    return data
