"""Version 1 of the REST API: every context's router is included here."""

from fastapi import APIRouter

from app.api.v1 import (
    assessments,
    consents,
    directory,
    households_routes,
    initiatives,
    me,
    organisation,
    overview,
    plans,
    policy_signals,
    referrals,
    resident_networks,
    self_service,
    stats,
    support_network,
    webhooks,
    worklist,
)

api_router = APIRouter(prefix="/api/v1")
# FastAPI tries routes in this order (walking each included router again at every level), so the
# busiest come first: the case file's overview and lists, then referrals. No path of one router can
# match a route of another (tests/ops/test_route_order.py), so the order changes nothing but speed.
for context in (
    overview,
    households_routes,
    referrals,
    organisation,
    assessments,
    plans,
    support_network,
    initiatives,
    resident_networks,
    consents,
    webhooks,
    stats,
    directory,
    me,
    self_service,
    worklist,
    policy_signals,
):
    api_router.include_router(context.router)
api_router.include_router(self_service.codes)
