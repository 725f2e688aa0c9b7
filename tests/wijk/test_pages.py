"""The /wijk/ pages in headless Chromium against a live demo: they render the public GraphQL data,
navigate between buurten, draw withheld figures as withheld, load nothing from another host, log no
console error and pass axe-core's WCAG 2.x A/AA rules. With WIJKWERK_SCREENSHOTS=1 the screenshots
are written to docs/img/ (docs/wijk.md shows them)."""

from __future__ import annotations

import os
from datetime import date
from itertools import pairwise
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe

from app.pages.wijk import buurt_variables, last_finished_quarters
from tests.demo.examples import ROOT
from tests.support.live_demo import ON_THE_DEMO_WORKER, LiveDemo
from tests.wijk.support import Visit, anonymous

pytestmark = [pytest.mark.slow, ON_THE_DEMO_WORKER]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


WITHHELD = {"minder dan 10", "niet gepubliceerd"}


async def test_overview_heads_each_wijk_with_its_name(visit: Visit, live_demo: LiveDemo) -> None:
    await visit.open("/wijk/")
    assert await visit.page.locator("h1").inner_text() == "Wijken en buurten"
    assert await visit.page.locator("main h2").all_inner_texts() == ["Stedenwijk", "Huizum"]
    found: Any = await anonymous(live_demo, "wijk_overview", {})
    wijken = {b["wijkCode"]: b["wijkName"] for b in found["neighbourhoods"]}
    assert wijken == {"WK999901": "Stedenwijk", "WK999902": "Huizum"}
    for code, name in wijken.items():  # the code stays, below the name
        section = visit.page.locator("main section").filter(has=visit.page.get_by_role("heading", name=name))
        assert await section.locator("p.code").inner_text() == f"Wijkcode {code}"
    visit.assert_clean()


async def test_overview_navigates_between_buurten(visit: Visit) -> None:
    page = visit.page
    await visit.open("/wijk/")

    await page.get_by_role("link", name="Stedenwijk-Noord", exact=True).click()
    await page.wait_for_url("**/wijk/buurt/BU99990101")
    await page.locator("main .status").wait_for(state="detached")
    assert await page.locator("h1").inner_text() == "Stedenwijk-Noord"

    await page.get_by_role("link", name="Wijkwerk: alle wijken en buurten").click()
    await page.wait_for_url("**/wijk/")
    await page.get_by_role("link", name="Huizum-Oost", exact=True).click()
    await page.wait_for_url("**/wijk/buurt/BU99990202")
    await page.locator("main .status").wait_for(state="detached")
    assert await page.locator("h1").inner_text() == "Huizum-Oost"
    visit.assert_clean()


async def test_buurt_page_shows_the_public_data(visit: Visit, live_demo: LiveDemo) -> None:
    page = visit.page
    await visit.open("/wijk/buurt/BU99990101")
    sections = await page.locator("main h2").all_inner_texts()
    assert sections[0] == "Initiatieven"
    assert any(s.startswith("Wijknetwerk") for s in sections)
    assert "Cijfers per kwartaal" in sections
    overview = await anonymous(live_demo, "wijk_overview", {})
    buurt = next(b for b in overview["neighbourhoods"] if b["code"] == "BU99990101")  # type: ignore[attr-defined]
    for initiative in buurt["initiatives"]:
        await page.get_by_role("link", name=initiative["title"]).first.wait_for()
    visit.assert_clean()


async def test_a_withheld_figure_is_drawn_as_withheld_never_zero(visit: Visit, live_demo: LiveDemo) -> None:
    """Cell by cell, the page's figures are what an anonymous caller gets: every figure the API withholds
    is drawn as withheld (never as a zero, in the table or the chart), every published one as a value."""
    page = visit.page
    await visit.open("/wijk/buurt/BU99990101")
    variables = buurt_variables("BU99990101", date.today())
    buurt: Any = (await anonymous(live_demo, "wijk_buurt", variables))["neighbourhood"]
    expected: dict[str, list[bool]] = {}  # measure -> withheld per quarter, in the page's order
    for index, stats in enumerate(buurt[q] for q in ("q1", "q2", "q3", "q4")):
        for figure in (stats or {}).get("figures", []):
            if figure["category"] == "total":
                row = expected.setdefault(figure["measure"], [True] * 4)
                row[index] = figure["cell"]["value"] is None
    tables = page.locator("section[aria-labelledby=cijfers] figure table")
    shown = [
        [cell in WITHHELD for cell in await tables.nth(i).locator("td").all_inner_texts()]
        for i in range(await tables.count())
    ]
    assert shown == list(expected.values())
    assert any(any(row) for row in shown), "the demo buurt should have a withheld figure"
    chart_labels = await page.locator("section[aria-labelledby=cijfers] svg text").all_text_contents()
    assert sum(label in WITHHELD for label in chart_labels) == sum(map(sum, shown))
    visit.assert_clean()


async def test_quarters_are_named_in_dutch(visit: Visit) -> None:
    """The API's period key "2026-Q1" reads "1e kwartaal 2026" on the page, in the table and the chart."""
    await visit.open("/wijk/buurt/BU99990101")
    quarters = last_finished_quarters(date.today())
    dutch = [f"{key[-1]}e kwartaal {key[:4]}" for key in quarters]
    figures = visit.page.locator("section[aria-labelledby=cijfers] figure")
    assert await figures.count() > 0
    for i in range(await figures.count()):
        assert await figures.nth(i).locator("th").all_inner_texts() == dutch
        labels = await figures.nth(i).locator("svg text").all_text_contents()
        assert [f"{a} {b}" for a, b in pairwise(labels) if a.endswith("kwartaal")] == dutch
    text = await visit.page.locator("main").inner_text()
    assert "-Q" not in text
    visit.assert_clean()


async def test_initiative_page(visit: Visit, live_demo: LiveDemo) -> None:
    found = await anonymous(live_demo, "wijk_overview", {})
    running = next(i for b in found["neighbourhoods"] for i in b["initiatives"])  # type: ignore[attr-defined]
    page = visit.page
    await visit.open(f"/wijk/initiatief/{running['id']}")
    assert await page.locator("h1").inner_text() == running["title"]
    assert "Loopt" in await page.locator("dl").inner_text()
    visit.assert_clean()


@pytest.mark.parametrize("path", ["/wijk/", "/wijk/buurt/BU99990101", "/wijk/buurt/BU99990202"])
async def test_pages_pass_axe_core(visit: Visit, path: str) -> None:
    await visit.open(path)
    results = await Axe().run(visit.page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    visit.assert_clean()


async def test_pages_send_a_strict_content_security_policy(live_demo: LiveDemo) -> None:
    async with httpx.AsyncClient(base_url=live_demo.base_url) as http:
        for path in ["/wijk/", "/wijk/buurt/BU99990101", "/wijk/static/wijk.js"]:
            answer = await http.get(path)
            assert answer.status_code == 200
            policy = answer.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert (await http.get("/wijk/buurt/<script>")).status_code == 404
        assert (await http.get("/wijk/queries/secret.graphql")).status_code == 404


async def test_screenshots(visit: Visit) -> None:
    """Screenshots of the three pages; written to docs/img/ with WIJKWERK_SCREENSHOTS=1."""
    found = await anonymous_first_initiative(visit)
    pages = {"overzicht": "/wijk/", "buurt": "/wijk/buurt/BU99990101", "initiatief": found}
    for name, path in pages.items():
        await visit.open(path)
        image = await visit.page.screenshot(full_page=True)
        assert image.startswith(b"\x89PNG")
        if os.environ.get("WIJKWERK_SCREENSHOTS") == "1":
            (ROOT / "docs" / "img" / f"wijk-{name}.png").write_bytes(image)
    visit.assert_clean()


async def anonymous_first_initiative(visit: Visit) -> str:
    await visit.open("/wijk/")
    href = await visit.page.locator("main a[href^='/wijk/initiatief/']").first.get_attribute("href")
    assert href is not None
    return href
