"""Version 1 of the REST API: every context's router is included here."""

from fastapi import APIRouter

from app.api.v1 import (
    assessments,
    consents,
    directory,
    household_offers,
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

PREFIX = "/api/v1"
# Each router is included straight into the app under PREFIX, never through a router that only
# gathers others: FastAPI walks every included router again at each level of nesting and recounts
# its routes each time, so nesting costs every request. The order is not a matter of speed: a request
# is matched only against the routes whose path templates could take it (``app.web.routing``), and no
# path of one router can match a route of another (tests/ops/test_route_order.py).
ROUTERS: tuple[APIRouter, ...] = (
    overview.router,
    *households_routes.ROUTERS,
    referrals.router,
    organisation.router,
    assessments.router,
    plans.router,
    support_network.router,
    initiatives.router,
    resident_networks.router,
    consents.router,
    webhooks.router,
    stats.router,
    directory.search,
    directory.router,
    me.router,
    self_service.router,
    worklist.router,
    household_offers.router,
    policy_signals.router,
    self_service.codes,
)
