"""A neighbourhood's statistics and top themes in GraphQL: who gets which measures, disclosure control
through the same service as REST, and constant SQL for the collectivisation view."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.bootstrap import checked_settings
from app.domain.stats import rollups
from app.domain.stats.catalogue import CATALOGUE
from app.graphql.permissions import SeesNeighbourhoodFigures
from app.settings import Settings
from tests.factories import World
from tests.graphql.support import permissions_of
from tests.initiatives.factories import Networks, make_networks
from tests.stats.data import Dataset
from tests.stats.helpers import figures, refresh
from tests.support.statements import counting_statements

PERIOD = "2025-Q2"
PUBLIC = {"initiatives", "initiative_participants", "initiative_budget_granted", "initiative_budget_spent"}
STATS = """
query($code: String!, $period: String!, $measures: [String!]) {
  neighbourhood(code: $code) {
    stats(period: $period, measures: $measures) {
      period { key granularity start end } asOf publicOnly
      figures { measure unit category cell { value suppressed reason } }
    }
  }
}"""
TOP = """
query($code: String!, $period: String!, $first: Int!, $per: Int!) {
  neighbourhood(code: $code) {
    topThemes(period: $period, first: $first, initiativesFirst: $per) {
      theme { code labelEn } count { value suppressed reason }
      initiatives { id title status themes { code } grant { amountCents } network { name } }
    }
  }
}"""


@pytest.fixture
async def networks(world: World) -> Networks:
    """Network A covers buurten 0-1 (resident, network_coordinator), B buurten 2-3 (resident_b)."""
    return await make_networks(world)


@pytest.fixture
async def filled(networks: Networks) -> Networks:
    """Open households in every buurt with the theme debts (20, 15, 15, 15), three of buurt 0 also
    with loneliness (under the threshold); initiatives in buurt 0 carrying debts or loneliness."""
    world = networks.world
    data = Dataset(world)
    for buurt, size in zip(world.buurten, (20, 15, 15, 15), strict=True):
        households = await data.households(buurt, size, registered=date(2025, 2, 3))
        await data.themes(households, "debts", date(2025, 2, 3))
        if buurt is world.buurten[0]:
            await data.themes(households[:3], "loneliness", date(2025, 2, 3))
    await networks.initiatives("a", 4, themes=["debts", "meeting"])
    await networks.initiatives("a", 2, themes=["loneliness"])
    await networks.initiatives("a", 1, status="idea", themes=["debts"])  # members only
    await refresh(world.app)
    return networks


async def _stats(
    client: httpx.AsyncClient, networks: Networks, actor: str, measures: list[str] | None = None
) -> dict[str, Any]:
    code = networks.world.buurten[0].code
    body = await networks.gql(client, actor, STATS, code=code, period=PERIOD, measures=measures)
    assert "errors" not in body, body
    stats: dict[str, Any] = body["data"]["neighbourhood"]["stats"]
    return stats


def _cells(stats: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["measure"], f["category"]): f["cell"] for f in stats["figures"]}


@pytest.mark.parametrize("actor", ["analyst", "resident", "network_coordinator"])
async def test_analysts_and_covering_networks_get_every_measure(
    client: httpx.AsyncClient, filled: Networks, actor: str
) -> None:
    stats = await _stats(client, filled, actor)
    assert stats["publicOnly"] is False
    assert stats["period"] == {
        "key": PERIOD,
        "granularity": "QUARTER",
        "start": "2025-04-01",
        "end": "2025-06-30",
    }
    assert {f["measure"] for f in stats["figures"]} == set(CATALOGUE)
    cells = _cells(stats)
    assert cells[("households_by_theme", "debts")] == {"value": 20.0, "suppressed": None, "reason": None}
    assert cells[("households_active", "total")]["value"] == 20.0


OUTSIDERS = [
    "anonymous", "resident_b", "coordinator_b", "generalist_a", "team_lead_a", "partner_a", "admin",
    "privacy_officer",
]  # fmt: skip


@pytest.mark.parametrize("actor", OUTSIDERS)
async def test_everyone_else_gets_only_the_public_measures(
    client: httpx.AsyncClient, filled: Networks, actor: str
) -> None:
    """Network B covers other buurten; case roles, partners and admin are not BI."""
    stats = await _stats(client, filled, actor)
    assert stats["publicOnly"] is True
    assert {f["measure"] for f in stats["figures"]} == PUBLIC
    # Asking for a case measure by name does not change that: it is absent, not an error.
    named = await _stats(client, filled, actor, measures=["households_active", "initiatives"])
    assert {f["measure"] for f in named["figures"]} == {"initiatives"}


async def test_the_figures_are_the_rest_figures_and_withheld_cells_say_why(
    client: httpx.AsyncClient, filled: Networks
) -> None:
    world = filled.world
    place: Any = world
    rest = await figures(client, place, "households_by_theme", **{"from": "2025-04-01", "to": "2025-06-30"})
    stats = await _stats(client, filled, "analyst", measures=["households_by_theme"])
    cells = _cells(stats)
    assert cells.keys() == {("households_by_theme", c) for (a, _, c) in rest if a == world.buurten[0].code}
    for (area, _, category), (value, suppressed) in rest.items():
        if area == world.buurten[0].code:
            cell = cells[("households_by_theme", category)]
            assert (cell["value"], cell["suppressed"]) == (
                None if value is None else float(value),
                None if suppressed is None else suppressed.upper(),
            )
    lonely = cells[("households_by_theme", "loneliness")]
    assert lonely["value"] is None and lonely["suppressed"] == "BELOW_THRESHOLD"
    assert "threshold" in lonely["reason"]
    published = [c["value"] for c in cells.values() if c["value"] is not None]
    assert published and all(v >= 10 and v % 5 == 0 for v in published)


async def test_the_threshold_holds_for_every_caller(client: httpx.AsyncClient, filled: Networks) -> None:
    """Public initiative figures of a buurt with six initiatives: withheld, with the reason."""
    for actor in ("anonymous", "analyst"):
        cells = _cells(await _stats(client, filled, actor, measures=["initiatives"]))
        assert cells and all(c["value"] is None and c["suppressed"] for c in cells.values()), actor


async def test_top_themes_for_entitled_callers_with_the_initiatives_carrying_them(
    client: httpx.AsyncClient, filled: Networks
) -> None:
    code = filled.world.buurten[0].code
    for actor, ideas in (("analyst", 0), ("resident", 1)):
        body = await filled.gql(client, actor, TOP, code=code, period=PERIOD, first=3, per=10)
        assert "errors" not in body, body
        top = body["data"]["neighbourhood"]["topThemes"]
        assert [t["theme"]["code"] for t in top][:1] == ["debts"] and len(top) == 3
        assert top[0]["count"] == {"value": 20.0, "suppressed": None, "reason": None}
        assert all(t["count"]["value"] is None and t["count"]["suppressed"] for t in top[1:])
        debts = top[0]["initiatives"]
        assert len(debts) == 4 + ideas, actor  # the idea only for its network's members
        assert all("debts" in [th["code"] for th in i["themes"]] for i in debts)
        # Withheld themes still show their initiatives (loneliness carries two).
        assert all(len(t["initiatives"]) == (2 if t["theme"]["code"] == "loneliness" else 0) for t in top[1:])


@pytest.mark.parametrize("actor", OUTSIDERS)
async def test_top_themes_are_null_for_callers_who_do_not_read_case_figures(
    client: httpx.AsyncClient, filled: Networks, actor: str
) -> None:
    body = await filled.gql(
        client, actor, TOP, code=filled.world.buurten[0].code, period=PERIOD, first=3, per=3
    )
    assert "errors" not in body, body
    assert body["data"]["neighbourhood"]["topThemes"] is None


async def test_top_themes_are_public_when_the_municipality_publishes_them(
    app: FastAPI, client: httpx.AsyncClient, filled: Networks, monkeypatch: Any
) -> None:
    monkeypatch.setattr(app.state.settings, "stats_public_measures", [*PUBLIC, "households_by_theme"])
    body = await filled.gql(
        client, "anonymous", TOP, code=filled.world.buurten[0].code, period=PERIOD, first=1, per=9
    )
    top = body["data"]["neighbourhood"]["topThemes"]
    assert [t["theme"]["code"] for t in top] == ["debts"] and len(top[0]["initiatives"]) == 4


async def test_top_themes_cost_the_same_whatever_the_number_of_themes_and_initiatives(
    app: FastAPI, client: httpx.AsyncClient, filled: Networks
) -> None:
    await filled.initiatives("a", 40, themes=["debts", "loneliness", "meeting"])
    code, headers = filled.world.buurten[0].code, await filled.world.headers("resident")
    counts = {}
    for first, per in ((1, 1), (5, 5), (13, 50)):
        variables = {"code": code, "period": PERIOD, "first": first, "per": per}
        payload = {"query": TOP, "variables": variables}
        await client.post("/graphql", json=payload, headers=headers)  # warm: keys and limits fresh
        with counting_statements(app.state.db) as seen:
            response = await client.post("/graphql", json=payload, headers=headers)
        body = response.json()
        assert "errors" not in body, body
        assert len(body["data"]["neighbourhood"]["topThemes"]) == first
        counts[(first, per)] = len(seen)
    assert len(set(counts.values())) == 1, counts
    # token, viewer, networks of the buurt, theme figures (context + rollup), themes, initiatives, grants
    assert counts[(1, 1)] <= 10, counts


async def test_stats_of_many_neighbourhoods_cost_the_same_as_of_one(
    app: FastAPI, client: httpx.AsyncClient, filled: Networks
) -> None:
    query = """query($m: String!, $first: Int!) { neighbourhoods(municipality: $m, first: $first) {
      code stats(period: "2025") { figures { measure cell { value } } } } }"""
    headers = await filled.world.headers("analyst")
    counts = []
    for first in (1, 4):
        variables = {"m": filled.world.municipality.code, "first": first}
        payload = {"query": query, "variables": variables}
        # Warm: the analyst is a machine client, whose per-client limits the process reloads in the
        # background every 30 s, and the signing keys are reloaded every minute.
        await client.post("/graphql", json=payload, headers=headers)
        with counting_statements(app.state.db) as seen:
            response = await client.post("/graphql", json=payload, headers=headers)
        assert "errors" not in response.json()
        assert len(response.json()["data"]["neighbourhoods"]) == first
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    # the whole catalogue: a context per kind of area dimension, and a rollup read or two per measure
    # 31, plus the three collective-answer measures and the context they read (teams and themes)
    assert counts[0] <= 35, counts


@pytest.mark.parametrize(
    ("period", "rule"),
    [("2025-Q5", "period_format"), ("next year", "period_format"), ("2999", "not_finished")],
)
async def test_a_period_must_be_a_finished_calendar_period(
    client: httpx.AsyncClient, networks: Networks, period: str, rule: str
) -> None:
    body = await networks.gql(client, "analyst", STATS, code=networks.buurt_a, period=period, measures=None)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "rule": rule}
    assert body["data"]["neighbourhood"]["stats"] is None


async def test_an_unknown_measure_is_an_error(client: httpx.AsyncClient, networks: Networks) -> None:
    body = await networks.gql(
        client, "anonymous", STATS, code=networks.buurt_a, period=PERIOD, measures=["nope"]
    )
    assert body["errors"][0]["extensions"]["rule"] == "unknown_measure"


def test_case_figures_in_the_schema_declare_their_permission(app: FastAPI) -> None:
    fields = permissions_of(app.state.graphql_schema)
    assert any(isinstance(p, SeesNeighbourhoodFigures) for p in fields["Neighbourhood.topThemes"])


def test_the_default_public_measures_are_initiative_figures_only() -> None:
    public = Settings().stats_public_measures
    assert set(public) == PUBLIC
    assert all(CATALOGUE[m].networks for m in public)  # initiative measures, none of case data


def test_public_measures_must_be_catalogue_measures(monkeypatch: Any) -> None:
    monkeypatch.setenv("WIJKWERK_STATS_PUBLIC_MEASURES", "initiatives, households_active")
    assert Settings().stats_public_measures == ["initiatives", "households_active"]
    monkeypatch.setenv("WIJKWERK_STATS_PUBLIC_MEASURES", '["initiatives", "everyone_by_name"]')
    with pytest.raises(ValueError, match="everyone_by_name"):
        checked_settings(Settings())


async def test_old_rollups_are_refreshed_in_the_background_as_for_rest(
    app: FastAPI, client: httpx.AsyncClient, filled: Networks, monkeypatch: Any
) -> None:
    before = (await _stats(client, filled, "anonymous"))["asOf"]
    monkeypatch.setattr(app.state.settings, "stats_refresh_seconds", 0)  # every answer is stale
    assert (await _stats(client, filled, "anonymous"))["asOf"] == before  # answered from the old rollups
    for task in list(rollups._background):
        await task
    monkeypatch.setattr(app.state.settings, "stats_refresh_seconds", 86_400)
    assert (await _stats(client, filled, "anonymous"))["asOf"] > before
