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
# its routes each time, so nesting costs every request. FastAPI tries routes in this order, so the
# busiest come first: the case file's overview and lists, then referrals. No path of one router can
# match a route of another (tests/ops/test_route_order.py), so the order changes nothing but speed.
ROUTERS: tuple[APIRouter, ...] = (
    directory.search,  # the public map's search: one route, the busiest of all (issue 13)
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
    directory.router,
    me.router,
    self_service.router,
    worklist.router,
    household_offers.router,
    policy_signals.router,
    self_service.codes,
)
