"""The built-in authorization server: /oauth/token, /oauth/authorize, discovery and JWKS."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["oauth"])
