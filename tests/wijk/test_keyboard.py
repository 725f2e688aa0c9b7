"""Keyboard use of the /wijk/ pages: Tab goes from the skip link to the navigation and then through the
main content in reading order (on the overview: wijk by wijk, each buurt before its initiatives), ends
in nothing hidden, and every stop shows where the focus is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.live_demo import ON_THE_DEMO_WORKER, LiveDemo
from tests.wijk.support import Visit, anonymous

pytestmark = [pytest.mark.slow, ON_THE_DEMO_WORKER]

# What the focused element is, where it sits, and whether the focus can be seen there.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    text: el.innerText.trim(),
    href: el.getAttribute("href"),
    region: el.closest("header, main, footer")?.localName ?? "body",
    focusVisible: el.matches(":focus-visible"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= 0,
  };
}"""
# Everything in <main> a keyboard can reach, in document order.
MAIN_STOPS = """() => [...document.querySelectorAll("main a[href], main summary, main button")]
  .filter((el) => el.checkVisibility()).map((el) => el.innerText.trim())"""


async def tab_through(visit: Visit, limit: int = 200) -> list[dict[str, Any]]:
    """Every stop of the Tab key from the top of the page, until the focus leaves the page's links."""
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        await visit.page.keyboard.press("Tab")
        found = await visit.page.evaluate(FOCUSED)
        if found is None or (stops and found == stops[0]):
            return stops
        await visit.page.locator(":focus").scroll_into_view_if_needed()
        stops.append(await visit.page.evaluate(FOCUSED))
    raise AssertionError(f"more than {limit} Tab stops")


def assert_visible_focus(stops: list[dict[str, Any]]) -> None:
    hidden = [s["text"] for s in stops if not (s["focusVisible"] and s["outline"] and s["onScreen"])]
    assert hidden == [], f"focus not visible on: {hidden}"


@pytest.mark.parametrize("path", ["/wijk/", "/wijk/buurt/BU99990101"])
async def test_tab_goes_skip_link_navigation_then_the_content(visit: Visit, path: str) -> None:
    await visit.open(path)
    stops = await tab_through(visit)
    assert [(s["text"], s["region"]) for s in stops[:2]] == [
        ("Naar de inhoud", "body"),
        ("Wijkwerk: alle wijken en buurten", "header"),
    ]
    in_main = [s["text"] for s in stops if s["region"] == "main"]
    assert in_main == await visit.page.evaluate(MAIN_STOPS)
    assert [s["region"] for s in stops[2:]] == ["main"] * len(in_main)  # nothing after the content
    assert_visible_focus(stops)
    visit.assert_clean()


async def test_the_overview_tabs_wijk_by_wijk_through_the_buurten(visit: Visit, live_demo: LiveDemo) -> None:
    await visit.open("/wijk/")
    stops = await tab_through(visit)
    buurten = [s["text"] for s in stops if (s["href"] or "").startswith("/wijk/buurt/")]
    found: Any = await anonymous(live_demo, "wijk_overview", {})
    assert buurten == [b["name"] for b in found["neighbourhoods"]]  # by code: wijk by wijk
    first_buurt = next(i for i, s in enumerate(stops) if s["text"] == buurten[0])
    assert first_buurt == 2, "the first buurt is the first stop after the navigation"


async def test_the_skip_link_moves_the_focus_to_the_content(visit: Visit) -> None:
    await visit.open("/wijk/")
    await visit.page.keyboard.press("Tab")
    await visit.page.keyboard.press("Enter")
    assert await visit.page.evaluate("() => document.activeElement.id") == "inhoud"
    await visit.page.keyboard.press("Tab")
    focused = await visit.page.evaluate(FOCUSED)
    assert focused["region"] == "main"
    assert focused["text"] == (await visit.page.evaluate(MAIN_STOPS))[0]
