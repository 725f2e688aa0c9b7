"""The access line is written straight to the service's JSON handler when that handler is the only one
an access record would reach (production: ``configure_logging`` alone), and it is the very line
logging's own path writes; with any other handler or filter in the way, logging's path is taken."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.web import observability
from app.web.observability import REQUEST_ID, JsonFormatter, StdoutHandler, access_log

FIELDS = {"method": "GET", "route": "/api/v1/x/{x_id}", "status": 200, "duration_ms": 1.25, "client_id": None}


@contextmanager
def only_the_service_handler() -> Iterator[StdoutHandler]:
    """Logging as ``configure_logging`` leaves it in production: our handler alone on the root, no
    filter on the access logger (pytest's capture handlers and the contract tests' live-server
    filter are set aside for the duration)."""
    root = logging.getLogger()
    saved, level, filters = list(root.handlers), root.level, list(access_log.filters)
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    access_log.filters = []
    try:
        yield handler
    finally:
        root.handlers = saved
        root.setLevel(level)
        access_log.filters = filters


def test_the_direct_line_is_the_line_logging_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time", lambda: 1765000000.1234)  # both read the clock once
    token = REQUEST_ID.set("0123456789abcdef")
    try:
        with only_the_service_handler() as handler:
            assert observability._sole_json_handler(access_log) is handler
            capsys.readouterr()
            observability._write_access_line(handler, dict(FIELDS))
            direct = capsys.readouterr().out
            access_log.handle(observability._access_record(dict(FIELDS)))
            through_logging = capsys.readouterr().out
    finally:
        REQUEST_ID.reset(token)
    assert direct == through_logging
    assert json.loads(direct) == {
        "time": "2025-12-06T05:46:40.123+00:00",
        "level": "INFO",
        "logger": "wijkwerk.access",
        "message": "request",
        "request_id": "0123456789abcdef",
        **FIELDS,
    }


def test_any_other_handler_or_filter_takes_loggings_path() -> None:
    with only_the_service_handler() as handler:
        root = logging.getLogger()
        other = logging.NullHandler()
        root.addHandler(other)
        assert observability._sole_json_handler(access_log) is None  # a test capturing records
        root.removeHandler(other)
        handler.addFilter(lambda record: True)
        assert observability._sole_json_handler(access_log) is None
        handler.filters.clear()
        access_log.addFilter(lambda record: True)
        assert observability._sole_json_handler(access_log) is None
        handler.setLevel(logging.WARNING)
        assert observability._sole_json_handler(access_log) is None


async def test_a_request_writes_its_line_without_a_log_record(
    app: FastAPI,
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Any] = []
    make_record = logging.Logger.makeRecord

    def counted(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        if self is access_log:
            made.append(args)
        return make_record(self, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "makeRecord", counted)
    with only_the_service_handler():
        capsys.readouterr()
        answer = await client.get("/api/v1/nothing-here", headers={"X-Request-ID": "direct-line-0001"})
        output = capsys.readouterr().out
    assert answer.status_code == 404
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "wijkwerk.access"]
    assert access == [
        {
            "time": access[0]["time"],
            "level": "INFO",
            "logger": "wijkwerk.access",
            "message": "request",
            "request_id": "direct-line-0001",
            "method": "GET",
            "route": "unmatched",
            "status": 404,
            "duration_ms": access[0]["duration_ms"],
            "client_id": None,
        }
    ]
    assert made == []  # no record made: the line went straight to the handler
