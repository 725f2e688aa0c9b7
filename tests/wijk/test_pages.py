"""The /wijk/ pages in headless Chromium against a live demo: they render the public GraphQL data,
navigate between buurten, draw withheld figures as withheld, load nothing from another host, log no
console error and pass axe-core's WCAG 2.x A/AA rules. With WIJKWERK_SCREENSHOTS=1 the screenshots
are written to docs/img/ (docs/wijk.md shows them)."""

from __future__ import annotations

import os

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe

from tests.demo.examples import ROOT
from tests.demo.live import Served
from tests.wijk.support import Visit

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wijk_browser")]

QUERIES = ROOT / "app" / "graphql" / "persisted"
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


async def anonymous(served: Served, name: str, variables: dict[str, object]) -> dict[str, object]:
    """What any anonymous caller gets for a persisted query (the data the page must show)."""
    query = (QUERIES / f"{name}.graphql").read_text()
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as http:
        answer = await http.post("/graphql", json={"query": query, "variables": variables})
    body = answer.json()
    assert "errors" not in body, body
    data: dict[str, object] = body["data"]
    return data


async def test_overview_navigates_between_buurten(visit: Visit) -> None:
    page = visit.page
    await visit.open("/wijk/")
    assert await page.locator("h1").inner_text() == "Wijken en buurten"
    assert await page.locator("h2").all_inner_texts() == ["Wijk WK999901", "Wijk WK999902"]

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


async def test_buurt_page_shows_the_public_data(visit: Visit, wijk_demo: Served) -> None:
    page = visit.page
    await visit.open("/wijk/buurt/BU99990101")
    sections = await page.locator("main h2").all_inner_texts()
    assert sections[0] == "Initiatieven"
    assert any(s.startswith("Wijknetwerk") for s in sections)
    assert "Cijfers per kwartaal" in sections
    overview = await anonymous(wijk_demo, "wijk_overview", {})
    buurt = next(b for b in overview["neighbourhoods"] if b["code"] == "BU99990101")  # type: ignore[attr-defined]
    for initiative in buurt["initiatives"]:
        await page.get_by_role("link", name=initiative["title"]).first.wait_for()
    visit.assert_clean()


async def test_a_withheld_figure_is_drawn_as_withheld_never_zero(visit: Visit) -> None:
    page = visit.page
    await visit.open("/wijk/buurt/BU99990101")
    cells = await page.locator("#cijfers ~ figure td, section[aria-labelledby=cijfers] td").all_inner_texts()
    assert cells, "no figures on the page"
    withheld = [c for c in cells if c in {"minder dan 10", "niet gepubliceerd"}]
    assert withheld, cells
    assert "0" not in cells and "€ 0,00" not in cells
    chart_labels = await page.locator("section[aria-labelledby=cijfers] svg text").all_text_contents()
    assert any(label in {"minder dan 10", "niet gepubliceerd"} for label in chart_labels)
    visit.assert_clean()


async def test_initiative_page(visit: Visit, wijk_demo: Served) -> None:
    found = await anonymous(wijk_demo, "wijk_overview", {})
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


async def test_pages_send_a_strict_content_security_policy(wijk_demo: Served) -> None:
    async with httpx.AsyncClient(base_url=wijk_demo.base_url) as http:
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
