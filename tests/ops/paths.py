"""A request path for a route's path template, for the routing tests."""

from __future__ import annotations

import re
import uuid

PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")


def sample_path(template: str) -> str:
    """``/households/{household_id:uuid}`` -> ``/households/<a new UUID>`` (every parameter a UUID)."""
    return PARAMETER.sub(lambda _: str(uuid.uuid4()), template)
