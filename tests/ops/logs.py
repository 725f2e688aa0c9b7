"""Everything a test's requests write to the logs: the JSON lines on stdout (the service's log) and
every Python logging record of any logger at any level, rendered whole (message, extras, the
exception's traceback with its message, the stack), so a value hidden anywhere in a record shows."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

_PLAIN = logging.Formatter("%(levelname)s %(name)s %(message)s")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Logs:
    def __init__(self, capsys: pytest.CaptureFixture[str], keep: _Keep) -> None:
        self.capsys = capsys
        self.keep = keep
        self.stdout = ""

    def records(self) -> list[logging.LogRecord]:
        return list(self.keep.records)

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written to stdout so far."""
        self._read()
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def text(self) -> str:
        """All of it, as one text to search."""
        self._read()
        rendered = []
        for record in self.keep.records:
            extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
            rendered.append(f"{_PLAIN.format(record)} {extras!r}")
        return self.stdout + "\n" + "\n".join(rendered)

    def _read(self) -> None:
        captured = self.capsys.readouterr()
        self.stdout += captured.out + captured.err


@contextmanager
def captured_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    """Capture at DEBUG, the most a deployment could be set to log."""
    root = logging.getLogger()
    keep = _Keep()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    capsys.readouterr()
    try:
        yield Logs(capsys, keep)
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
