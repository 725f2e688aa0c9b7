"""Every router of the household case file, the sync and the privacy officer's audit, as one."""

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

router = APIRouter()
for module in (households, households_members, households_contacts, households_team, sync, sync_edits, audit):
    router.include_router(module.router)
