"""The BSN protector of the deployment (encryption and blind index keys from the settings), as a
dependency for the routes that take or show a citizen service number."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.domain.households.bsn import BsnProtector, protector


async def _protector(request: Request) -> BsnProtector:  # async: no worker thread for this
    return protector(request.app.state.settings)


Bsn = Annotated[BsnProtector, Depends(_protector)]
