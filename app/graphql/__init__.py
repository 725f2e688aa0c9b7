"""The Strawberry GraphQL schema for neighbourhood-network dashboards, mounted at /graphql."""

from __future__ import annotations

from fastapi import FastAPI

from app.settings import Settings


def mount_graphql(app: FastAPI, settings: Settings) -> None:
    """Mount /graphql on the app (schema, context, limits)."""
