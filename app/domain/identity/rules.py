"""Pure rules of the identity context (no database): usernames, passwords, roles and scopes of
people and clients, client authentication set-up and their keys.

Each check returns a list of ``FieldError`` (empty when the input is fine), so a service can collect
every broken rule of one request and answer them together in one 422.
"""

from __future__ import annotations

import re
import warnings
from typing import Any
from urllib.parse import urlsplit

from app.domain.errors import FieldError
from app.domain.identity.models import ClientAuthMethod
from app.security.scopes import BSN_ELIGIBLE_ROLES, MACHINE_ROLES, PERSON_ROLES, Role, Scope, allowed_scopes

Loc = tuple[str | int, ...]

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,79}")
KEY_ID = re.compile(r"[\x21-\x7e]{1,255}")
MIN_PASSWORD_LENGTH = 12
MAX_JWKS_KEYS = 5
MIN_RSA_BITS = 2048
# What the token endpoint accepts for private_key_jwt assertions (app/domain/identity/clients.py).
CLIENT_KEY_ALGORITHMS = ("ES256", "RS256", "PS256")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_PUBLIC_JWK_MEMBERS = ("kty", "kid", "use", "alg", "crv", "x", "y", "n", "e")


# -- scopes and roles ------------------------------------------------------------------------------


def public_client_scopes() -> frozenset[str]:
    """What people may ever obtain through a public client (the app): every person role, plus BSN."""
    scopes: set[str] = {str(Scope.bsn_read)}
    for role in PERSON_ROLES:
        scopes |= {str(s) for s in allowed_scopes(role)}
    return frozenset(scopes)


def check_client_scopes(role: Role | None, scopes: list[str], loc: Loc) -> list[FieldError]:
    """A client's allowlist stays within what its role can hold (public clients: any person role)."""
    permitted = {str(s) for s in allowed_scopes(role)} if role else public_client_scopes()
    return [
        FieldError((*loc, index), "This scope is not within the client's role.", "scope_not_in_role")
        for index, scope in enumerate(scopes)
        if scope not in permitted
    ]


def check_user_role(
    role: Role, *, bsn_read: bool, has_worker: bool, loc: Loc = ("body",)
) -> list[FieldError]:
    """BSN access and a worker link are only for generalists and team leads."""
    errors = []
    if bsn_read and role not in BSN_ELIGIBLE_ROLES:
        message = "bsn:read can only be granted to generalists and team leads."
        errors.append(FieldError((*loc, "bsn_read"), message, "bsn_read_not_eligible"))
    if has_worker and role not in BSN_ELIGIBLE_ROLES:
        message = "Only generalists and team leads are linked to a worker."
        errors.append(FieldError((*loc, "worker_id"), message, "worker_link_not_allowed"))
    if role not in PERSON_ROLES:
        message = "People sign in with a person role; partners and analysts are OAuth clients."
        errors.append(FieldError((*loc, "role"), message, "not_a_person_role"))
    if role is Role.household_member:
        # Their accounts belong to their case file: made by their coordinator (an activation code) or
        # at their first DigiD sign-in, never by an administrator (who holds no case data).
        message = "Household members get their account from their coordinator, not here."
        errors.append(FieldError((*loc, "role"), message, "household_member_account"))
    return errors


def check_password(password: str, loc: Loc = ("body", "password")) -> list[FieldError]:
    if len(password) < MIN_PASSWORD_LENGTH:
        message = f"A password has at least {MIN_PASSWORD_LENGTH} characters."
        return [FieldError(loc, message, "password_too_short")]
    return []


# -- OAuth clients ---------------------------------------------------------------------------------


def default_auth_method(role: Role | None, has_jwks: bool) -> ClientAuthMethod:
    if role is None:
        return ClientAuthMethod.none
    return ClientAuthMethod.private_key_jwt if has_jwks else ClientAuthMethod.client_secret_basic


def check_client_setup(
    role: Role | None,
    auth_method: ClientAuthMethod,
    *,
    has_jwks: bool,
    redirect_uris: list[str],
    has_organisation: bool,
) -> list[FieldError]:
    """Machine clients (partner, analyst) authenticate; public clients (the app) use PKCE and redirects."""
    errors: list[FieldError] = []
    if role is not None and role not in MACHINE_ROLES:
        message = "A client acts as a partner or an analyst, or is public (no role)."
        errors.append(FieldError(("body", "role"), message, "not_a_machine_role"))
    if role is None:
        if auth_method is not ClientAuthMethod.none:
            message = "A public client has no secret: it uses PKCE."
            errors.append(FieldError(("body", "auth_method"), message, "public_client_auth"))
        if not redirect_uris:
            message = "A public client needs at least one redirect URI."
            errors.append(FieldError(("body", "redirect_uris"), message, "redirect_uri_required"))
    else:
        if auth_method is ClientAuthMethod.none:
            message = "A machine client must authenticate."
            errors.append(FieldError(("body", "auth_method"), message, "machine_client_auth"))
        if redirect_uris:
            message = "Machine clients use client credentials and have no redirect URIs."
            errors.append(FieldError(("body", "redirect_uris"), message, "redirect_uri_not_allowed"))
    if auth_method is ClientAuthMethod.private_key_jwt and not has_jwks:
        message = "private_key_jwt needs the client's public keys (jwks)."
        errors.append(FieldError(("body", "jwks"), message, "jwks_required"))
    if has_jwks and auth_method is not ClientAuthMethod.private_key_jwt:
        message = "Public keys are only used with private_key_jwt."
        errors.append(FieldError(("body", "jwks"), message, "jwks_not_allowed"))
    if role is Role.partner and not has_organisation:
        message = "A partner client belongs to a partner organisation."
        errors.append(FieldError(("body", "organisation_id"), message, "organisation_required"))
    if role is not Role.partner and has_organisation:
        message = "Only partner clients belong to a partner organisation."
        errors.append(FieldError(("body", "organisation_id"), message, "organisation_not_allowed"))
    return errors


def check_redirect_uri(uri: str, loc: Loc) -> list[FieldError]:
    """RFC 8252 / OAuth 2.1: https, http only on the loopback interface, or a private-use scheme."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or parts.fragment:
        return [FieldError(loc, "A redirect URI is absolute and has no fragment.", "redirect_uri_invalid")]
    if parts.scheme == "https" and parts.hostname:
        return []
    if parts.scheme == "http" and parts.hostname in {"127.0.0.1", "::1", "localhost"}:
        return []
    if parts.scheme not in {"http", "https"} and "." in parts.scheme:
        return []  # a private-use scheme in reverse-domain form, e.g. nl.wijkwerk.app:/callback
    message = "Use https, http on the loopback interface, or a reverse-domain private-use scheme."
    return [FieldError(loc, message, "redirect_uri_invalid")]


def check_jwks(jwks: Any, loc: Loc = ("body", "jwks")) -> list[FieldError]:
    """A JWK Set of 1-5 public signing keys (EC P-256 or RSA >= 2048 bits) with a kid each."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_JWKS_KEYS:
        message = f"A JWK Set with 1 to {MAX_JWKS_KEYS} keys is expected."
        return [FieldError((*loc, "keys"), message, "jwks_invalid")]
    errors: list[FieldError] = []
    kids: set[str] = set()
    for index, key in enumerate(keys):
        problem = _jwk_problem(key, kids)
        if problem:
            errors.append(FieldError((*loc, "keys", index), problem[1], problem[0]))
    return errors


def _jwk_problem(key: Any, kids: set[str]) -> tuple[str, str] | None:
    if not isinstance(key, dict):
        return "jwk_invalid", "Each key is a JSON object."
    if _PRIVATE_JWK_MEMBERS & key.keys():
        return "jwk_private", "Register public keys only; never send a private key."
    kid = key.get("kid")
    if not isinstance(kid, str) or not KEY_ID.fullmatch(kid) or kid in kids:
        return "jwk_kid", "Each key needs its own non-empty kid."
    kids.add(kid)
    if key.get("alg") is not None and key.get("alg") not in CLIENT_KEY_ALGORITHMS:
        return "jwk_alg", f"The key algorithm must be one of {', '.join(CLIENT_KEY_ALGORITHMS)}."
    if key.get("use") not in (None, "sig"):
        return "jwk_use", "The key must be a signing key."
    return _jwk_material_problem(key)


def _jwk_material_problem(key: dict[str, Any]) -> tuple[str, str] | None:
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, RSAKey

    try:
        if key.get("kty") == "EC":
            if key.get("crv") != "P-256":
                return "jwk_curve", "EC keys must use the P-256 curve."
            ECKey.import_key(key)
            return None
        if key.get("kty") == "RSA":
            with warnings.catch_warnings():  # joserfc warns on small keys; we refuse them below
                warnings.simplefilter("ignore")
                rsa = RSAKey.import_key(key)
            if rsa.raw_value.key_size < MIN_RSA_BITS:
                return "jwk_size", f"RSA keys need at least {MIN_RSA_BITS} bits."
            return None
    except (JoseError, ValueError, TypeError, KeyError, AttributeError):
        return "jwk_invalid", "The key material cannot be read."
    return "jwk_kty", "Keys must be EC (P-256) or RSA."


def normalised_jwks(jwks: dict[str, Any]) -> dict[str, Any]:
    """A checked JWK Set reduced to the public members we use (nothing else is stored)."""
    keys = [{m: key[m] for m in _PUBLIC_JWK_MEMBERS if m in key} for key in jwks["keys"]]
    return {"keys": keys}
