"""Version 1 of the REST API: every context's router is included here."""

from fastapi import APIRouter

from app.api.v1 import organisation

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(organisation.router)
