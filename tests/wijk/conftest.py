"""One headless Chromium for the /wijk/ browser tests, against the run's one live demo (the session
fixture ``live_demo``: the tests run on its worker, tests/support/live_demo.py). The browser is
Debian's ``chromium`` driven by Playwright's Python package; Playwright's own browser downloads are
never used. No browser is a failure that says how to install one, never a skip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Route, ViewportSize, async_playwright

from tests.support.live_demo import LiveDemo
from tests.wijk.support import Visit, chromium_path


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def visiting(browser: Browser, base_url: str, *, javascript: bool = True) -> AsyncIterator[Visit]:
    """A fresh context on a phone-sized screen that records every request and console error."""
    phone: ViewportSize = {"width": 390, "height": 844}
    context = await browser.new_context(viewport=phone, java_script_enabled=javascript)
    page = await context.new_page()
    found = Visit(page, base_url)
    own_host = urlsplit(base_url).netloc

    async def record(route: Route) -> None:
        url = route.request.url
        found.requests.append(url)
        if urlsplit(url).netloc != own_host:
            found.foreign.append(url)
            await route.abort()
            return
        await route.continue_()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.console_errors.append(message.text)

    await context.route("**/*", record)
    page.on("console", console)
    page.on("pageerror", lambda error: found.console_errors.append(str(error)))
    try:
        yield found
    finally:
        await context.close()


@pytest.fixture
async def visit(browser: Browser, live_demo: LiveDemo) -> AsyncIterator[Visit]:
    async with visiting(browser, live_demo.base_url) as found:
        yield found


@pytest.fixture
async def visit_without_javascript(browser: Browser, live_demo: LiveDemo) -> AsyncIterator[Visit]:
    """What a visitor with JavaScript off gets: the HTML shells as served."""
    async with visiting(browser, live_demo.base_url, javascript=False) as found:
        yield found
