"""Request ids, JSON access lines without personal data, and Prometheus metrics per route template."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.main import MAX_BODY_BYTES, create_app
from app.settings import Settings
from app.web.observability import StdoutHandler, configure_logging, describe_exception
from tests.factories import World
from tests.ops.conftest import LEAKY_MESSAGE


def log_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for raw in output.splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def access_line(output: str, request_id: str) -> dict[str, Any]:
    matches = [
        line
        for line in log_lines(output)
        if line["logger"] == "wijkwerk.access" and line["request_id"] == request_id
    ]
    assert len(matches) == 1, matches
    return matches[0]


def sample(metrics_text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return 0.0


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32

    echoed = await client.get("/healthz", headers={"X-Request-ID": "abcd-1234-efgh"})
    assert echoed.headers["x-request-id"] == "abcd-1234-efgh"

    for unusable in (b"short", b"has spaces in it", b"x" * 65, b"drop;table", "naïve-id-01".encode()):
        replaced = await client.get("/healthz", headers={b"X-Request-ID": unusable})
        assert replaced.headers["x-request-id"].encode() != unusable
        assert len(replaced.headers["x-request-id"]) == 32


async def test_problem_bodies_and_headers_share_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/areas", headers={"X-Request-ID": "trace-0001-abcd"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "trace-0001-abcd"
    assert response.headers["x-request-id"] == "trace-0001-abcd"


async def test_access_line_names_the_route_template_and_client_only(
    probe: httpx.AsyncClient, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await world.token("admin")
    capsys.readouterr()
    item = "0b6f6a43-5d3a-4a57-9a53-5e0c2f0d9a11"
    response = await probe.get(
        f"/probe/items/{item}?name=Jansen&bsn=123456782",
        headers={"Authorization": f"Bearer {token}", "User-Agent": "secret-agent"},
    )
    assert response.status_code == 200
    output = capsys.readouterr().out
    line = access_line(output, response.headers["x-request-id"])
    assert line["level"] == "INFO"
    assert line["message"] == "request"
    assert line["time"].endswith("+00:00")
    assert line["method"] == "GET"
    assert line["route"] == "/probe/items/{item_id}"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["client_id"] == world.clients["mobile_app"].client_id
    for leaked in (item, "Jansen", "123456782", token, "secret-agent", "Bearer"):
        assert leaked not in output


async def test_unmatched_paths_are_one_label(
    probe: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await probe.get("/no/such/path/123456782")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    output = capsys.readouterr().out
    line = access_line(output, response.headers["x-request-id"])
    assert line["route"] == "unmatched"
    assert line["client_id"] is None
    assert "123456782" not in output


async def test_an_unexpected_error_is_a_problem_and_its_message_is_not_logged(
    probe: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await probe.get("/probe/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    request_id = response.headers["x-request-id"]
    assert response.json()["request_id"] == request_id
    assert "Traceback" not in response.text and "123456782" not in response.text

    output = capsys.readouterr().out
    assert access_line(output, request_id)["status"] == 500
    [error] = [line for line in log_lines(output) if line["message"] == "unhandled error"]
    assert error["level"] == "ERROR"
    assert error["request_id"] == request_id
    assert error["exception"]["type"] == "builtins.RuntimeError"
    assert any("probe_boom" in frame for frame in error["exception"]["frames"])
    assert LEAKY_MESSAGE not in output and "123456782" not in output


async def test_database_errors_log_their_code_not_their_text(
    probe: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await probe.get("/probe/db-error")
    assert response.status_code == 500
    [error] = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "unhandled error"]
    exception = error["exception"]
    assert exception["type"].startswith("sqlalchemy.exc.")
    assert exception["sqlstate"] == "22012"  # division_by_zero
    assert "division" not in json.dumps(error)  # the driver's message stays out of the log


async def test_a_statement_over_the_timeout_is_a_503(probe: httpx.AsyncClient) -> None:
    response = await probe.get("/probe/slow")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0


async def test_oversized_bodies_are_refused_as_problems(probe: httpx.AsyncClient) -> None:
    assert (await probe.post("/probe/echo", json={"a": "b"})).json() == {"a": "b"}
    too_large = {"a": "x" * (MAX_BODY_BYTES + 1)}
    declared = await probe.post("/probe/echo", json=too_large)

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted while it arrives
        body = json.dumps(too_large).encode()
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    chunked = await probe.post(
        "/probe/echo", content=streamed(), headers={"content-type": "application/json"}
    )
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:wijkwerk:problem:content_too_large"
        assert "x" * 100 not in response.text


def test_describe_exception_follows_the_cause_chain() -> None:
    try:
        try:
            raise KeyError("jan@example.org")
        except KeyError as inner:
            raise ValueError("also personal") from inner
    except ValueError as outer:
        described = describe_exception(outer)
    assert described["type"] == "builtins.ValueError"
    assert described["cause"]["type"] == "builtins.KeyError"
    assert "example.org" not in json.dumps(described)
    assert "personal" not in json.dumps(described)


async def test_metrics_count_requests_per_route_template(probe: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("admin")
    before = (await probe.get("/metrics")).text
    for item in ("a", "b", "c"):
        assert (await probe.get(f"/probe/items/{item}", headers=headers)).status_code == 200
    await probe.get("/probe/items/x")  # 401 without a token
    await probe.get("/nowhere/1")
    await probe.get("/nowhere/2")
    response = await probe.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    route = "/probe/items/{item_id}"
    assert delta("http_requests_total", method="GET", route=route, status="200") == 3
    assert delta("http_requests_total", method="GET", route=route, status="401") == 1
    assert delta("http_requests_total", method="GET", route="unmatched", status="404") == 2
    assert delta("http_request_duration_seconds_count", method="GET", route=route) == 4
    assert sample(after, "http_request_duration_seconds_bucket", route=route, le="+Inf") >= 4
    assert "/probe/items/a" not in after and "/nowhere/1" not in after
    assert sample(after, "wijkwerk_db_pool_connections", state="idle") >= 1


async def test_each_app_has_its_own_registry(settings: Settings) -> None:
    apps = [create_app(settings, database_url="postgresql://nobody@localhost/none") for _ in range(2)]
    first, second = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://test") for a in apps
    )
    async with first, second:
        for _ in range(3):
            assert (await first.get("/healthz")).status_code == 200
        first_text = (await first.get("/metrics")).text
        second_text = (await second.get("/metrics")).text
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    assert sample(first_text, "http_requests_total", **labels) == 3
    assert sample(second_text, "http_requests_total", **labels) == 0


def test_logging_setup_is_idempotent_and_silences_uvicorn_access(settings: Settings) -> None:
    configure_logging(settings)
    configure_logging(settings)
    ours = [h for h in logging.getLogger().handlers if isinstance(h, StdoutHandler)]
    assert len(ours) == 1
    assert logging.getLogger("uvicorn.access").disabled
    assert logging.getLogger("uvicorn.error").propagate


def test_metrics_is_documented_as_plain_text(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/metrics"]["get"]
    assert "text/plain" in operation["responses"]["200"]["content"]
    assert "401" not in operation["responses"]  # public: it cannot answer 401
