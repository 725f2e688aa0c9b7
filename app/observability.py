"""Structured JSON logs with a request id, and Prometheus metrics per route."""

from __future__ import annotations

from fastapi import FastAPI


def install_observability(app: FastAPI) -> None:
    """Add request-id, logging and metrics middleware and the /metrics route."""
