"""One live demo and one headless Chromium for the /wijk/ browser tests (one xdist worker runs them:
group ``wijk_browser``). The browser is Debian's ``chromium`` driven by Playwright's Python package;
Playwright's own browser downloads are never used. No browser is a failure that says how to install
one, never a skip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Route, async_playwright

from tests.demo.examples import ROOT
from tests.demo.live import VENV, Served, serve, stop, wait_ready
from tests.wijk.support import Visit, chromium_path


@pytest.fixture(scope="session")
async def wijk_demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    workspace = tmp_path_factory.mktemp("wijk-demo")
    (workspace / ".venv").symlink_to(VENV, target_is_directory=True)
    (workspace / "docs").symlink_to(ROOT / "docs", target_is_directory=True)
    served = serve(workspace, workspace / ".wijkwerk")
    try:
        await wait_ready(served)
        yield served
    finally:
        stop(served)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def visit(browser: Browser, wijk_demo: Served) -> AsyncIterator[Visit]:
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = await context.new_page()
    found = Visit(page, wijk_demo.base_url)
    own_host = urlsplit(wijk_demo.base_url).netloc

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
