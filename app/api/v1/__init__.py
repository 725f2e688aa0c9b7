"""Version 1 of the REST API: every context's router is included here."""

from fastapi import APIRouter

from app.api.v1 import (
    assessments,
    consents,
    households_routes,
    initiatives,
    networks,
    organisation,
    overview,
    plans,
    referrals,
    stats,
    webhooks,
)

api_router = APIRouter(prefix="/api/v1")
for context in (
    organisation,
    households_routes,
    assessments,
    plans,
    networks,
    overview,
    initiatives,
    consents,
    referrals,
    webhooks,
    stats,
):
    api_router.include_router(context.router)
