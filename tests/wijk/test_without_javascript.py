"""With JavaScript off a /wijk/ page says so in Dutch and offers what still works: the page's own data
as JSON straight from the public API (the same persisted query, by GET) and the query's text. No
"loading" message that never ends, no request to another host."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest

from app.pages.wijk import buurt_variables
from tests.demo.examples import ROOT
from tests.support.live_demo import ON_THE_DEMO_WORKER, LiveDemo
from tests.wijk.support import Visit, anonymous

pytestmark = [pytest.mark.slow, ON_THE_DEMO_WORKER]

PAGES = {
    "/wijk/": ("wijk_overview", None),
    "/wijk/buurt/BU99990101": ("wijk_buurt", "BU99990101"),
}


@pytest.mark.parametrize("path", PAGES)
async def test_a_page_without_javascript_explains_and_links_to_its_data(
    visit_without_javascript: Visit, live_demo: LiveDemo, path: str
) -> None:
    visit = visit_without_javascript
    page = visit.page
    await page.goto(visit.base_url + path)
    notice = page.get_by_role("heading", name="JavaScript staat uit")
    assert await notice.is_visible()
    shown = await page.locator("main").inner_text()  # what is rendered (a <noscript>'s text included)
    assert "Zet JavaScript aan in uw browser" in shown
    assert "Gegevens worden geladen" not in shown  # nothing will load: no endless "loading"
    assert await page.get_by_role("link", name="Wijkwerk: alle wijken en buurten").is_visible()

    name, code = PAGES[path]
    data_link = page.get_by_role("link", name="als JSON")
    query_link = page.get_by_role("link", name="De vraag (GraphQL-query)")
    assert await query_link.get_attribute("href") == f"/wijk/queries/{name}.graphql"

    variables = {} if code is None else buurt_variables(code, date.today())
    expected = await anonymous(live_demo, name, variables)
    async with page.expect_navigation() as followed:
        await data_link.click()
    answer = await followed.value
    assert answer is not None and answer.ok
    assert json.loads(await answer.text())["data"] == expected  # the page's own data, from the API

    await page.go_back()
    async with page.expect_navigation() as followed:
        await query_link.click()
    text = await (await followed.value).text()
    assert text == (ROOT / "app" / "graphql" / "persisted" / f"{name}.graphql").read_text()
    visit.assert_clean()


async def test_screenshot_without_javascript(visit_without_javascript: Visit) -> None:
    """What a visitor with JavaScript off sees (docs/img/wijk-zonder-javascript.png)."""
    await visit_without_javascript.page.goto(visit_without_javascript.base_url + "/wijk/buurt/BU99990101")
    image = await visit_without_javascript.page.screenshot(full_page=True)
    assert image.startswith(b"\x89PNG")
    if os.environ.get("WIJKWERK_SCREENSHOTS") == "1":
        (ROOT / "docs" / "img" / "wijk-zonder-javascript.png").write_bytes(image)
    visit_without_javascript.assert_clean()
