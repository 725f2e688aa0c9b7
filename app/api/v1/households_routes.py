"""The routers of the household case file, the sync and the privacy officer's audit, in the order
FastAPI tries them."""

from fastapi import APIRouter

from app.api.v1 import (
    audit,
    households,
    households_contacts,
    households_members,
    households_team,
    sync,
    sync_edits,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        households,
        households_members,
        households_contacts,
        households_team,
        sync,
        sync_edits,
        audit,
    )
)
