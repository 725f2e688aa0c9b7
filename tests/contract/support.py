"""Helpers of the contract tests: who may call an operation of the document."""

from __future__ import annotations

from typing import Any

from app.security.scopes import ROLE_SCOPES, Role

# Who calls an operation: the first role holding every scope it declares (a token that reaches the
# service instead of a 403). An operation that declares none is called anonymously.
ROLE_PREFERENCE = [
    Role.generalist,
    Role.team_lead,
    Role.admin,
    Role.privacy_officer,
    Role.network_coordinator,
    Role.analyst,
    Role.partner,
    Role.resident,
    Role.household_member,
    Role.policy_officer,
]


def required_scopes(document: dict[str, Any], path: str, method: str) -> set[str]:
    security = document["paths"][path][method.lower()].get("security") or []
    return {scope for requirement in security for scopes in requirement.values() for scope in scopes}


def role_for(document: dict[str, Any], path: str, method: str) -> str:
    """The role whose token an operation is called with ("anonymous" when it declares no scope)."""
    required = required_scopes(document, path, method)
    if not required:
        return "anonymous"
    for role in ROLE_PREFERENCE:
        if required <= {str(s) for s in ROLE_SCOPES[role]}:
            return str(role)
    raise AssertionError(f"no role holds {sorted(required)} ({method} {path})")
