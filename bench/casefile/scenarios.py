"""The five request shapes of the case-file benchmark, for wrk (``Scenario``) and for in-process use."""

from __future__ import annotations

from collections.abc import Callable

from bench.casefile.fixtures import QUEUED_EDITS, Fixtures, contact_body, upload_body
from bench.harness import Scenario

NAMES = ("overview", "list", "contact", "sync", "upload", "worklist-worker", "worklist-lead")
TITLES = {
    "overview": "(a) read household overview",
    "list": "(b) list 50 households of a team",
    "contact": "(c) post a contact moment",
    "sync": "(d) sync from a one-day-old cursor",
    "upload": f"(e) sync upload of {QUEUED_EDITS} queued edits",
    "worklist-worker": "(f) worklist of a worker with 60 households",
    "worklist-lead": "(g) team lead's worklist of a 12-worker team",
}
# The worklist scenarios: their route and their caller (``Fixtures.worklist``).
WORKLISTS = {
    "worklist-worker": ("/api/v1/worklist", "worker"),
    "worklist-lead": ("/api/v1/worklist/team", "lead"),
}
WORKLIST_LIMIT = 100
JSON = {"Content-Type": "application/json"}


def paths(name: str, facts: Fixtures) -> list[str]:
    if name == "overview":
        return [f"/api/v1/households/{h}/overview" for h in facts.active]
    if name == "list":
        return ["/api/v1/households?limit=50"]
    if name == "contact":
        return [f"/api/v1/households/{h}/contacts" for h in facts.open]
    if name == "upload":
        return ["/api/v1/sync/edits"]
    if name in WORKLISTS:
        return [f"{WORKLISTS[name][0]}?limit={WORKLIST_LIMIT}"]
    return [f"/api/v1/sync?cursor={facts.sync_cursor}&limit=50"]


def scenario(name: str, facts: Fixtures) -> Scenario:
    headers = dict(facts.worklist_headers(WORKLISTS[name][1]) if name in WORKLISTS else facts.headers)
    if name == "contact":
        return Scenario(name, paths(name, facts), "POST", {**headers, **JSON}, contact_body())
    if name == "upload":
        return Scenario(name, paths(name, facts), "POST", {**headers, **JSON}, upload_body(facts.open))
    return Scenario(name, paths(name, facts), headers=headers)


Request = tuple[str, str, dict[str, str], str | None]


def requests_for(name: str, facts: Fixtures) -> Callable[[int], Request]:
    """The n-th request of a scenario, as wrk would send it."""
    shape = scenario(name, facts)

    def make(n: int) -> Request:
        body = shape.body.replace("{n}", str(n)) if shape.body is not None else None
        return shape.method, shape.paths[n % len(shape.paths)], shape.headers, body

    return make
