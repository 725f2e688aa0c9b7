"""RFC 9068 JWT access tokens: issued by the built-in server, verified by the resource server.

Verification accepts our own tokens (keys from the database) and, when configured, tokens of an
external OpenID Connect issuer (keys from its JWKS), whose claims are mapped to a Wijkwerk role.

Every token, own or external, must have: a compact JWS with ``alg`` in the allowlist (ES256, RS256;
never ``none`` or HMAC), header ``typ`` ``at+jwt`` (RFC 9068 §2.1, so ID tokens and other JWTs are
refused), a ``kid`` of a published key, a valid signature, the expected ``iss`` and ``aud``, and an
``exp`` in the future (with ``token_leeway_seconds`` of leeway, at most 60 s); ``nbf``/``iat`` must
not lie in the future. An unknown ``kid`` reloads the keys at most every 30 s, then answers 401.

Mapping of an external OpenID Connect issuer's claims (settings ``WIJKWERK_OIDC_*``):

* **Which tokens**: those whose ``iss`` equals ``WIJKWERK_OIDC_ISSUER`` exactly. Keys come from
  ``WIJKWERK_OIDC_JWKS_URL``, or from the ``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``
  (whose ``issuer`` must match); they are cached and refetched on an unknown ``kid`` (at most every 30 s)
  and at least hourly. ``aud`` must contain ``WIJKWERK_OIDC_AUDIENCE`` (default ``WIJKWERK_AUDIENCE``).
* **Role**: the claim ``WIJKWERK_OIDC_ROLE_CLAIM`` (default ``roles``; a dotted path such as
  ``realm_access.roles`` reaches nested claims; a string or a list of strings). Each value is looked up in
  ``WIJKWERK_OIDC_ROLE_MAP`` (JSON, external value -> Wijkwerk role, e.g.
  ``{"wijkteam-generalist": "generalist"}``); the first value, in claim order, that maps to a people role
  wins. Unmapped values are ignored; no mapped value is 401. Mapping to ``partner`` or ``analyst`` is
  refused: machine clients get their tokens from the built-in server.
* **Person**: the claim ``WIJKWERK_OIDC_SUBJECT_CLAIM`` (default ``sub``) must equal
  ``users.external_subject`` of an **active** local user, who supplies ``user_id``, ``worker_id`` (team
  membership is then read live by the object rules) and the per-worker ``bsn:read`` grant. No linked
  user, or an inactive one, is 401: the identity provider says who and which role, Wijkwerk says
  which caseload.
* **Scopes**: the role's scopes (a role bundles the kinds of data its work needs, ``app.security.
  scopes``), plus ``bsn:read`` when the local user has it; when the token carries a ``scope`` claim,
  only the ones it names.
* ``Principal.subject`` is ``oidc:<subject>``; ``client_id`` is the token's ``client_id`` or ``azp``.

Household members (self-service) sign in with DigiD through the municipality's broker, the same
trusted issuer. A token of that issuer carrying the claim ``WIJKWERK_OIDC_BSN_CLAIM`` is a household
member's, whatever roles it names:

* its assurance level (claim ``WIJKWERK_OIDC_MEMBER_ACR_CLAIM``, default ``acr``) must be one of
  ``WIJKWERK_OIDC_MEMBER_ACR_VALUES`` (default: DigiD Midden or higher);
* the BSN finds the member through the blind index (``MemberLookup``, wired in ``app.bootstrap``; the
  number itself is never stored, logged or put in a token of ours), among members and households
  whose self-service is on; the account bound to that member (made at the first sign-in) supplies
  the principal: ``subject`` is its user id (the IdP's ``sub`` may be the BSN itself), ``member_id``
  and ``household_id`` name the member;
* an unknown BSN, a member or household whose self-service is off (confidential households start
  off), a missing or too low assurance level, and a token of an issuer that is neither ours nor the
  trusted one all get the same 401 (``NOT_ACCEPTED``): the answer tells nobody whether a BSN is known.

Verified tokens are remembered (``VerifiedTokens``): a bounded LRU keyed by the whole token string,
so the signature and the claims are checked once per token and not once per request. An entry is
served only while its signing key is still published (a removed or retired key takes its tokens with
it at the next key reload), until the token's ``exp`` minus the leeway and for at most
``TOKEN_CACHE_MAX_AGE`` seconds (so a deactivated external user is refused within that time).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlmodel import select

from app.db import Database
from app.domain.errors import ServiceUnavailable
from app.domain.identity.keys import KEYRING_MAX_AGE, SIGNING_ALGORITHMS, KeyRing, fetch_external_jwks
from app.domain.identity.models import User
from app.security.errors import AuthenticationFailed
from app.security.principal import Principal
from app.security.scopes import PERSON_ROLES, Role, allowed_scopes
from app.settings import Settings

ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
# One answer for every sign-in that finds nobody to let in (see the module docstring).
NOT_ACCEPTED = "This sign-in gives no access to Wijkwerk."
# Reload keys on an unknown kid at most this often, so forged kids cannot hammer the database.
KEY_RELOAD_INTERVAL = 30.0
# Refetch an external issuer's keys at least this often, even when no unknown kid shows up.
EXTERNAL_KEYS_MAX_AGE = 3600.0
# Verified tokens remembered per process (LRU), and for how long at most (seconds).
TOKEN_CACHE_SIZE = 4096
TOKEN_CACHE_MAX_AGE = 30.0


def issue_access_token(
    keyring: KeyRing,
    settings: Settings,
    *,
    subject: str,
    client_id: str,
    role: Role,
    scopes: set[str],
    extra: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Sign an access token. Returns the token and its lifetime in seconds."""
    now = int(time.time())
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {
        **(extra or {}),  # first, so it can never override a registered claim
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "client_id": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(16),
        "scope": " ".join(sorted(scopes)),
        "role": str(role),
    }
    header = {"alg": keyring.signing_key.alg, "typ": "at+jwt", "kid": keyring.signing_key.kid}
    return jwt.encode(header, claims, keyring.signing_key, algorithms=list(SIGNING_ALGORITHMS)), ttl


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class LinkedUser:
    """The local user an external identity is linked to (``users.external_subject``)."""

    user_id: uuid.UUID
    worker_id: uuid.UUID | None
    active: bool
    bsn_read: bool


LinkedUserLookup = Callable[[str], Awaitable[LinkedUser | None]]


@dataclass(frozen=True)
class LinkedMember:
    """The household member a resident's token leads to, and the account bound to them."""

    user_id: uuid.UUID
    member_id: uuid.UUID
    household_id: uuid.UUID


# Takes the BSN as the token carries it; None when no member with self-service on has it.
MemberLookup = Callable[[str], Awaitable[LinkedMember | None]]


@dataclass(frozen=True)
class _Unverified:
    header: dict[str, Any]
    claims: dict[str, Any]


def _unverified(token: str) -> _Unverified:
    """Header and claims before any check: used only to pick the issuer and the key."""
    try:
        parsed = jws.extract_compact(token.encode("ascii"))
        header = dict(parsed.protected)
        claims = json.loads(parsed.payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as error:
        raise AuthenticationFailed("The access token is malformed.") from error
    if not isinstance(claims, dict):
        raise AuthenticationFailed("The access token is malformed.")
    if header.get("alg") not in SIGNING_ALGORITHMS:
        raise AuthenticationFailed("The access token algorithm is not allowed.")
    if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise AuthenticationFailed("The token is not an access token (typ must be at+jwt).")
    if not isinstance(header.get("kid"), str):
        raise AuthenticationFailed("The access token names no signing key.")
    return _Unverified(header, claims)


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal  # immutable (a frozen dataclass of frozensets, tuples and strings)
    kid: str
    external: bool
    served_until: float  # wall clock: the token's exp minus the leeway
    stored_at: float  # the verifier's monotonic clock


class VerifiedTokens:
    """Verified tokens and their principal: an LRU of at most ``size`` entries, keyed by the whole
    token string (a token that differs in any character, its signature included, is another key)."""

    def __init__(self, size: int = TOKEN_CACHE_SIZE, max_age: float = TOKEN_CACHE_MAX_AGE) -> None:
        self.size = size
        self.max_age = max_age
        self._entries: OrderedDict[str, _Verified] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, token: object) -> bool:
        return token in self._entries

    def get(self, token: str, now: float, monotonic: float) -> _Verified | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if now >= entry.served_until or monotonic - entry.stored_at >= self.max_age:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry

    def put(self, token: str, entry: _Verified) -> None:
        self._entries[token] = entry
        self._entries.move_to_end(token)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        self._entries.pop(token, None)

    def clear(self) -> None:
        self._entries.clear()


class TokenVerifier:
    """Checks signature (JWKS, algorithm allowlist), ``typ``, ``iss``, ``aud``, ``exp`` with leeway.

    ``clock`` (monotonic) paces key reloads and the cache's maximum age; ``wall_clock`` is the time
    the claims are checked against (``exp``, ``nbf``, ``iat``). Tests drive both."""

    def __init__(
        self,
        settings: Settings,
        load_keyring: Callable[[], Awaitable[KeyRing]],
        fetch_external_jwks: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        lookup_linked_user: LinkedUserLookup | None = None,
        lookup_member: MemberLookup | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        cache: VerifiedTokens | None = None,
    ) -> None:
        self.settings = settings
        self._load_keyring = load_keyring
        self._fetch_external_jwks = fetch_external_jwks
        self._lookup_linked_user = lookup_linked_user
        self._lookup_member = lookup_member
        self._clock = clock
        self._wall_clock = wall_clock
        self.cache = cache if cache is not None else VerifiedTokens()
        self.keyring: KeyRing | None = None
        self._own_kids: frozenset[str] = frozenset()
        self._keyring_loaded = 0.0
        self._external_keys: KeySet | None = None
        self._external_kids: frozenset[str] = frozenset()
        self._external_loaded = 0.0
        self._last_reload: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._leeway = min(settings.token_leeway_seconds, 60)
        self._registries = {external: self._claims_registry(external) for external in (False, True)}

    async def keys(self) -> KeyRing:
        """This process's keys (also used to sign), reloaded when older than KEYRING_MAX_AGE."""
        if self.keyring is None or self._clock() - self._keyring_loaded >= KEYRING_MAX_AGE:
            await self.reload()
        assert self.keyring is not None
        return self.keyring

    async def reload(self) -> KeyRing:
        """Load the keys now (after a rotation in this process, or on an unknown kid)."""
        async with self._lock:
            self.keyring = await self._load_keyring()
            self._own_kids = frozenset(self.keyring.kids)
            self._keyring_loaded = self._clock()
        return self.keyring

    async def verify(self, token: str) -> Principal:
        cached = await self._cached(token)
        if cached is not None:
            return cached
        unverified = _unverified(token)
        issuer = unverified.claims.get("iss")
        external = self.settings.oidc_issuer is not None and issuer == self.settings.oidc_issuer
        kid = str(unverified.header["kid"])
        try:
            claims = await self._verified_claims(token, unverified, kid, external)
        except AuthenticationFailed:
            if not external and issuer != self.settings.issuer:
                # Another issuer's token fails our checks one way or another; it gets the one answer
                # of every sign-in that finds nobody to let in.
                raise AuthenticationFailed(NOT_ACCEPTED) from None
            raise
        principal = await self._external_principal(claims) if external else self._own_principal(claims)
        self._remember(token, principal, kid, external, claims["exp"])
        return principal

    async def _verified_claims(
        self, token: str, unverified: _Unverified, kid: str, external: bool
    ) -> dict[str, Any]:
        """The claims once the key, the signature and the registered claims check out."""
        key_set = await (self._external_key_set(kid) if external else self._own_key_set(kid))
        try:
            decoded = jwt.decode(token, key_set, algorithms=[str(unverified.header["alg"])])
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise AuthenticationFailed("The access token signature is not valid.") from error
        claims: dict[str, Any] = decoded.claims
        self._validate_claims(claims, external)
        return claims

    # -- verified tokens ------------------------------------------------------------------------

    async def _cached(self, token: str) -> Principal | None:
        """The principal of a token verified before, while its key is still published."""
        entry = self.cache.get(token, self._wall_clock(), self._clock())
        if entry is None:
            return None
        if entry.external:
            external_fresh = self._clock() - self._external_loaded < EXTERNAL_KEYS_MAX_AGE
            published = external_fresh and entry.kid in self._external_kids
        else:
            await self.keys()  # reloads when older than KEYRING_MAX_AGE: retired keys drop out
            published = entry.kid in self._own_kids
        if not published:
            self.cache.forget(token)
            return None
        return entry.principal

    def _remember(self, token: str, principal: Principal, kid: str, external: bool, exp: Any) -> None:
        served_until = float(exp) - self._leeway
        if served_until > self._wall_clock():
            self.cache.put(token, _Verified(principal, kid, external, served_until, self._clock()))

    # -- key lookup -----------------------------------------------------------------------------

    def _may_reload(self, which: str) -> bool:
        now = self._clock()
        last = self._last_reload.get(which)
        if last is not None and now - last < KEY_RELOAD_INTERVAL:
            return False
        self._last_reload[which] = now
        return True

    async def _own_key_set(self, kid: str) -> KeySet:
        ring = await self.keys()
        if kid not in ring.kids and self._may_reload("own"):
            ring = await self.reload()  # a key rotated in another process
        if kid not in ring.kids:
            raise AuthenticationFailed("The access token was signed with an unknown key.")
        return ring.public

    async def _external_key_set(self, kid: str) -> KeySet:
        if self._fetch_external_jwks is None:
            raise AuthenticationFailed("The token issuer is not trusted.")
        keys = self._external_keys
        stale = keys is None or self._clock() - self._external_loaded >= EXTERNAL_KEYS_MAX_AGE
        unknown = keys is None or kid not in {k.kid for k in keys.keys}
        if stale or (unknown and self._may_reload("external")):
            keys = await self._refresh_external_keys()
        if keys is None or kid not in {k.kid for k in keys.keys}:
            raise AuthenticationFailed("The access token was signed with an unknown key.")
        return keys

    async def _refresh_external_keys(self) -> KeySet | None:
        assert self._fetch_external_jwks is not None
        try:
            jwks: Any = await self._fetch_external_jwks()
            fresh = KeySet.import_key_set(jwks)
        except (ServiceUnavailable, JoseError, ValueError, TypeError, KeyError):
            if self._external_keys is None:
                raise ServiceUnavailable(
                    "The identity provider's signing keys cannot be fetched; retry shortly."
                ) from None
            return self._external_keys  # keep serving with the keys we had
        self._external_keys, self._external_loaded = fresh, self._clock()
        self._external_kids = frozenset(str(k.kid) for k in fresh.keys)
        return fresh

    # -- claims ---------------------------------------------------------------------------------

    def _claims_registry(self, external: bool) -> JWTClaimsRegistry:
        settings = self.settings
        issuer = settings.oidc_issuer if external else settings.issuer
        audience = (settings.oidc_audience or settings.audience) if external else settings.audience
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": str(issuer)},
            "aud": {"essential": True, "value": str(audience)},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        if not external:  # RFC 9068 §2.2: our own tokens always carry these
            options |= {"iat": {"essential": True}, "jti": {"essential": True}}
            options["client_id"] = {"essential": True}
        return JWTClaimsRegistry(now=lambda: int(self._wall_clock()), leeway=self._leeway, **options)

    def _validate_claims(self, claims: dict[str, Any], external: bool) -> None:
        try:
            self._registries[external].validate(claims)
        except JoseError as error:
            raise AuthenticationFailed(f"The access token is not valid here ({error.error}).") from error

    def _own_principal(self, claims: dict[str, Any]) -> Principal:
        try:
            role = Role(claims["role"])
        except (KeyError, ValueError) as error:
            raise AuthenticationFailed("The access token carries no known role.") from error
        scopes = set(str(claims.get("scope", "")).split()) & allowed_scopes(role, bsn_read=True)
        teams = claims.get("teams", [])
        return Principal(
            subject=str(claims["sub"]),
            role=role,
            scopes=frozenset(scopes),
            client_id=str(claims.get("client_id", "")),
            token_id=str(claims.get("jti", "")),
            user_id=_uuid_or_none(claims.get("user_id")),
            worker_id=_uuid_or_none(claims.get("worker_id")),
            organisation_id=_uuid_or_none(claims.get("organisation_id")),
            teams=tuple(t for t in (_uuid_or_none(v) for v in teams if isinstance(teams, list)) if t),
            member_id=_uuid_or_none(claims.get("member_id")),
            household_id=_uuid_or_none(claims.get("household_id")),
        )

    async def _external_principal(self, claims: dict[str, Any]) -> Principal:
        """Map an external IdP's claims to a role and a linked local user (see the module docstring)."""
        bsn_claim = self.settings.oidc_bsn_claim
        if bsn_claim is not None and _claim(claims, bsn_claim) is not None:
            return await self._member_principal(claims, _claim(claims, bsn_claim))
        role = external_role(claims, self.settings.oidc_role_claim, self.settings.oidc_role_map)
        subject = _claim(claims, self.settings.oidc_subject_claim)
        if not isinstance(subject, str) or not subject:
            raise AuthenticationFailed("The access token names no subject.")
        linked = await self._lookup_linked_user(subject) if self._lookup_linked_user else None
        if linked is None or not linked.active:
            raise AuthenticationFailed("The identity is not linked to an active Wijkwerk user.")
        permitted = {str(s) for s in allowed_scopes(role, bsn_read=linked.bsn_read)}
        requested = set(str(claims.get("scope", "")).split())
        return Principal(
            subject=f"oidc:{subject}",
            role=role,
            scopes=frozenset(permitted & requested if requested else permitted),
            client_id=str(claims.get("client_id") or claims.get("azp") or "external"),
            token_id=str(claims.get("jti", "")),
            user_id=linked.user_id,
            worker_id=linked.worker_id,
        )

    async def _member_principal(self, claims: dict[str, Any], bsn: Any) -> Principal:
        """A household member's sign-in (DigiD through the broker): the member the BSN leads to."""
        settings = self.settings
        assurance = _claim(claims, settings.oidc_member_acr_claim)
        if not isinstance(assurance, str) or assurance not in settings.oidc_member_acr_values:
            raise AuthenticationFailed(NOT_ACCEPTED)
        number = str(bsn) if isinstance(bsn, str | int) and not isinstance(bsn, bool) else None
        linked = await self._lookup_member(number) if number and self._lookup_member else None
        if linked is None:
            raise AuthenticationFailed(NOT_ACCEPTED)
        permitted = {str(s) for s in allowed_scopes(Role.household_member)}
        requested = set(str(claims.get("scope", "")).split())
        return Principal(
            subject=str(linked.user_id),
            role=Role.household_member,
            scopes=frozenset(permitted & requested if requested else permitted),
            client_id=str(claims.get("client_id") or claims.get("azp") or "external"),
            token_id=str(claims.get("jti", "")),
            user_id=linked.user_id,
            member_id=linked.member_id,
            household_id=linked.household_id,
        )


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by dotted path into nested objects (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def external_role(claims: dict[str, Any], role_claim: str, role_map: dict[str, str]) -> Role:
    """The Wijkwerk role of an external token: the first claim value that maps to a people role."""
    raw = _claim(claims, role_claim)
    values = raw if isinstance(raw, list) else [raw]
    for value in values:
        mapped = role_map.get(value) if isinstance(value, str) else None
        if mapped in {str(r) for r in PERSON_ROLES}:
            return Role(mapped)
    raise AuthenticationFailed("The access token maps to no Wijkwerk role.")


def build_token_verifier(
    settings: Settings, db: Database, lookup_member: MemberLookup | None = None
) -> TokenVerifier:
    """The resource server of one process: our keys from ``db``, and the external issuer if configured
    (with ``lookup_member``, which a higher context supplies, for household members' sign-ins)."""

    async def load_keyring() -> KeyRing:
        async with db.transaction() as session:
            return await KeyRing.load(session, settings.signing_alg, settings.secret("secret_key"))

    async def fetch_jwks() -> dict[str, Any]:
        return await fetch_external_jwks(settings)

    async def lookup_linked_user(subject: str) -> LinkedUser | None:
        async with db.sessionmaker() as session:
            user = (await session.execute(select(User).where(User.external_subject == subject))).scalar()
        if user is None:
            return None
        return LinkedUser(user.id, user.worker_id, user.active, user.bsn_read)

    external = settings.oidc_issuer is not None
    return TokenVerifier(
        settings,
        load_keyring,
        fetch_jwks if external else None,
        lookup_linked_user if external else None,
        lookup_member if external else None,
    )
