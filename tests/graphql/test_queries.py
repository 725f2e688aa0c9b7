"""The query entry points: the Relay-style connection, filters, neighbourhoods, networks and themes."""

from __future__ import annotations

import httpx

from tests.initiatives.factories import Networks

PAGE = """
query($after: String, $municipality: String!) {
  initiatives(filter: {municipality: $municipality, status: [REQUESTED]}, first: 2, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_the_connection_pages_through_everything_once(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    created = {str(i) for i in await networks.initiatives("a", 3) + await networks.initiatives("b", 2)}
    await networks.funded("a", 2)  # other statuses are filtered out
    municipality = networks.world.municipality.code
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = (await networks.gql(client, "anonymous", PAGE, after=after, municipality=municipality))["data"]
        connection = page["initiatives"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        after = connection["pageInfo"]["endCursor"]
        assert connection["pageInfo"]["hasNextPage"] is (after is not None)
        if after is None:
            break
        assert connection["edges"][-1]["cursor"] == after
    assert len(seen) == 5 and set(seen) == created


async def test_a_forged_cursor_is_a_clean_error(client: httpx.AsyncClient, networks: Networks) -> None:
    body = await networks.gql(client, "anonymous", PAGE, after="eyJ4Ijox.forged", municipality="GM0000")
    assert body["data"] is None
    assert body["errors"][0]["message"] == "The cursor is not valid."
    assert body["errors"][0]["extensions"] == {"code": "BAD_CURSOR"}


async def test_filters_neighbourhoods_networks_and_themes(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 2)
    await networks.initiatives("a", 1, buurt=1, themes=["youth"])
    world = networks.world
    query = """query($m: String!, $code: String!, $wijk: String!) {
      themes { code labelNl }
      neighbourhoods(municipality: $m) { code wijkCode networks { name } }
      inWijk: neighbourhoods(wijk: $wijk) { code }
      neighbourhood(code: $code) {
        name youth: initiatives(theme: "youth") { title } all: initiatives { title }
      }
      unknown: neighbourhood(code: "BU00000001") { code }
      networks(municipality: $m) { name area { code } }
      coveringB: networks(neighbourhood: $code) { name }
    }"""
    variables = {"m": world.municipality.code, "code": world.buurten[1].code, "wijk": world.wijken[1].code}
    data = (await networks.gql(client, "anonymous", query, **variables))["data"]
    assert {"debts", "loneliness"} <= {t["code"] for t in data["themes"]}
    assert [n["code"] for n in data["neighbourhoods"]] == sorted(b.code for b in world.buurten)
    assert data["neighbourhoods"][0]["wijkCode"] == world.wijken[0].code
    assert [len(n["networks"]) for n in data["neighbourhoods"]] == [1, 1, 1, 1]
    assert [n["code"] for n in data["inWijk"]] == [b.code for b in world.buurten[2:]]
    assert len(data["neighbourhood"]["youth"]) == 1 and len(data["neighbourhood"]["all"]) == 1
    assert data["unknown"] is None
    assert len(data["networks"]) == 2 and all(len(n["area"]) == 2 for n in data["networks"])
    assert [n["name"] for n in data["coveringB"]] == [data["neighbourhoods"][1]["networks"][0]["name"]]


WIJK_NAMES = """query($m: String!, $code: String!) {
  neighbourhoods(municipality: $m) { code wijkCode wijkName }
  neighbourhood(code: $code) { wijkName initiatives { neighbourhood { code wijkName } } }
  initiatives(filter: {municipality: $m}) { nodes { neighbourhood { wijkCode wijkName } } }
}"""


async def test_a_buurt_names_its_wijk_for_anyone(client: httpx.AsyncClient, networks: Networks) -> None:
    """Wijk names are public. ``neighbourhood`` and ``initiatives`` are roots the compiled read path
    answers in SQL; a selection of ``wijkName`` is outside its mapping, so the resolvers answer it."""
    await networks.initiatives("a", 1)
    world = networks.world
    wijk_of = {b.code: next(w for w in world.wijken if w.id == b.parent_id) for b in world.buurten}
    variables = {"m": world.municipality.code, "code": world.buurten[0].code}
    for actor in ["anonymous", "resident_b", "analyst", "partner_a"]:
        data = (await networks.gql(client, actor, WIJK_NAMES, **variables))["data"]
        assert [(n["wijkCode"], n["wijkName"]) for n in data["neighbourhoods"]] == [
            (wijk_of[b.code].code, wijk_of[b.code].name) for b in sorted(world.buurten, key=lambda b: b.code)
        ]
        assert data["neighbourhood"]["wijkName"] == wijk_of[world.buurten[0].code].name
        [own] = data["neighbourhood"]["initiatives"]
        assert own["neighbourhood"] == {"code": world.buurten[0].code, "wijkName": "Wijk 1"}
        assert data["initiatives"]["nodes"][0]["neighbourhood"]["wijkName"] == "Wijk 1"
