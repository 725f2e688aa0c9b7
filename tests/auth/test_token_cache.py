"""The verified-token cache: a token is checked once, yet an expired, altered or orphaned one is refused.

The verifier runs on clocks the test drives (``clock`` for key reloads and the cache's age,
``wall_clock`` for the claims), with real ES256 keys and tokens made by the real signing code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from app.domain.identity.keys import KeyRing, generate_key
from app.domain.identity.tokens import (
    KEYRING_MAX_AGE,
    TOKEN_CACHE_MAX_AGE,
    LinkedUser,
    TokenVerifier,
    VerifiedTokens,
    issue_access_token,
)
from app.security.errors import AuthenticationFailed
from app.security.scopes import Role
from app.settings import Settings
from tests.auth.helpers import assert_unauthenticated, b64url
from tests.factories import World

START = 1_900_000_000.0


def keyring(*keys: Any) -> KeyRing:
    """The newest key signs; all are published."""
    public = [k.as_dict(private=False) for k in keys]
    return KeyRing(keys[0], KeySet.import_key_set({"keys": public}), public)


@dataclass
class Clocks:
    wall: float = START
    monotonic: float = 1000.0
    loads: int = 0
    ring: KeyRing = field(default_factory=lambda: keyring(generate_key("ES256")))

    async def load(self) -> KeyRing:
        self.loads += 1
        return self.ring

    def verifier(self, settings: Settings, cache: VerifiedTokens | None = None) -> TokenVerifier:
        return TokenVerifier(
            settings,
            self.load,
            clock=lambda: self.monotonic,
            wall_clock=lambda: self.wall,
            cache=cache,
        )


def mint(settings: Settings, ring: KeyRing, wall: float, ttl: int = 600) -> str:
    """A real access token of a generalist, issued at ``wall`` (the signing code reads the real time)."""
    token, _ = issue_access_token(
        ring,
        settings.model_copy(update={"access_token_ttl_seconds": ttl}),
        subject=str(uuid.uuid4()),
        client_id="mobile_app",
        role=Role.generalist,
        scopes={"cases:read"},
        extra={"worker_id": str(uuid.uuid4())},
    )
    header, claims = _decoded(token, ring)
    claims |= {"iat": int(wall), "nbf": int(wall), "exp": int(wall) + ttl}
    return jwt.encode(header, claims, ring.signing_key)


def _decoded(token: str, ring: KeyRing) -> tuple[dict[str, Any], dict[str, Any]]:
    decoded = jwt.decode(token, ring.public)
    return dict(decoded.header), dict(decoded.claims)


async def test_a_verified_token_is_served_from_the_cache(settings: Settings) -> None:
    clocks = Clocks()
    verifier = clocks.verifier(settings)
    token = mint(settings, clocks.ring, clocks.wall)
    first = await verifier.verify(token)
    assert token in verifier.cache
    clocks.wall += 60
    assert await verifier.verify(token) is first  # the same object: not checked again


async def test_an_expired_token_is_refused_even_when_cached(settings: Settings) -> None:
    clocks = Clocks()
    verifier = clocks.verifier(settings)
    leeway = settings.token_leeway_seconds
    token = mint(settings, clocks.ring, clocks.wall, ttl=300)
    await verifier.verify(token)
    assert token in verifier.cache

    # From exp minus the leeway the cache no longer answers; the full check still accepts (leeway).
    clocks.wall = START + 300 - leeway
    await verifier.verify(token)
    assert token not in verifier.cache  # too close to exp to be remembered again

    clocks.wall = START + 300 + leeway
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(token)
    assert token not in verifier.cache


async def test_the_periodic_key_reload_still_happens_on_cache_hits(settings: Settings) -> None:
    clocks = Clocks()
    verifier = clocks.verifier(settings, VerifiedTokens(max_age=10 * KEYRING_MAX_AGE))
    token = mint(settings, clocks.ring, clocks.wall, ttl=3600)
    await verifier.verify(token)
    loads = clocks.loads
    clocks.monotonic += KEYRING_MAX_AGE
    await verifier.verify(token)
    assert clocks.loads == loads + 1 and token in verifier.cache


async def test_an_entry_is_served_for_at_most_the_maximum_age(settings: Settings) -> None:
    clocks = Clocks()
    verifier = clocks.verifier(settings)
    token = mint(settings, clocks.ring, clocks.wall, ttl=3600)
    first = await verifier.verify(token)
    clocks.monotonic += TOKEN_CACHE_MAX_AGE
    again = await verifier.verify(token)
    assert again == first and again is not first  # verified afresh


async def test_a_token_with_another_signature_is_never_served_from_the_cache(settings: Settings) -> None:
    clocks = Clocks()
    verifier = clocks.verifier(settings)
    token = mint(settings, clocks.ring, clocks.wall)
    await verifier.verify(token)
    head, body, signature = token.split(".")
    header, claims = _decoded(token, clocks.ring)
    impostor = ECKey.generate_key("P-256", parameters={"kid": header["kid"]}, private=True)
    altered = {
        "signed by another key with the same kid": jwt.encode(header, claims, impostor),
        "one byte of the signature changed": f"{head}.{body}.{_flip(signature)}",
        "the signature of another token": f"{head}.{body}.{_signature_of_another(settings, clocks)}",
        "claims changed, signature kept": f"{head}.{b64url(b'{}')}.{signature}",
    }
    for why, forged in altered.items():
        with pytest.raises(AuthenticationFailed):
            await verifier.verify(forged)
        assert forged not in verifier.cache, why
    assert token in verifier.cache


def _signature_of_another(settings: Settings, clocks: Clocks) -> str:
    return mint(settings, clocks.ring, clocks.wall).split(".")[2]


def _flip(signature: str) -> str:
    middle = len(signature) // 2
    return signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]


async def test_the_cache_is_bounded_and_forgets_the_least_recently_used(settings: Settings) -> None:
    clocks = Clocks()
    verifier = clocks.verifier(settings, VerifiedTokens(size=3))
    tokens = [mint(settings, clocks.ring, clocks.wall) for _ in range(5)]
    for token in tokens[:3]:
        await verifier.verify(token)
    await verifier.verify(tokens[0])  # used again: now the most recent
    for token in tokens[3:]:
        await verifier.verify(token)
    assert len(verifier.cache) == 3
    assert [t in verifier.cache for t in tokens] == [True, False, False, True, True]


async def test_a_removed_signing_key_takes_its_cached_tokens_with_it(settings: Settings) -> None:
    clocks = Clocks()
    old = clocks.ring.signing_key
    verifier = clocks.verifier(settings)
    token = mint(settings, clocks.ring, clocks.wall)
    await verifier.verify(token)

    first = await verifier.verify(token)

    new = generate_key("ES256")
    clocks.ring = keyring(new, old)  # rotated: the old key is still published
    await verifier.reload()  # as on an unknown kid, or every KEYRING_MAX_AGE seconds
    assert await verifier.verify(token) is first

    clocks.ring = keyring(new)  # the old key retired
    await verifier.reload()
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(token)
    assert token not in verifier.cache


async def test_an_external_token_goes_when_the_identity_provider_drops_its_key(settings: Settings) -> None:
    issuer = "https://idp.example.test"
    external = settings.model_copy(update={"oidc_issuer": issuer, "oidc_role_map": {"beheer": "admin"}})
    clocks = Clocks()
    idp_key, idp_next = generate_key("ES256"), generate_key("ES256")
    published = [idp_key]
    lookups = []

    async def fetch_jwks() -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in published]}

    async def linked(subject: str) -> LinkedUser:
        lookups.append(subject)
        return LinkedUser(uuid.uuid4(), None, active=True, bsn_read=False)

    verifier = TokenVerifier(
        external,
        clocks.load,
        fetch_jwks,
        linked,
        clock=lambda: clocks.monotonic,
        wall_clock=lambda: clocks.wall,
    )

    def idp_token(key: Any) -> str:
        claims = {"iss": issuer, "aud": external.audience, "sub": "someone", "roles": ["beheer"],
                  "iat": int(clocks.wall), "exp": int(clocks.wall) + 600}  # fmt: skip
        return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, claims, key)

    token = idp_token(idp_key)
    await verifier.verify(token)
    await verifier.verify(token)
    assert len(lookups) == 1  # the linked user was looked up once

    published[:] = [idp_next]  # the IdP rotates and drops the old key
    await verifier.verify(idp_token(idp_next))  # an unknown kid: the key set is fetched again
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(token)
    assert token not in verifier.cache


async def test_through_the_api_an_altered_token_is_refused_after_the_real_one_was_served(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await world.token("admin")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/areas", headers=headers)).status_code == 200
    head, body, signature = token.split(".")
    altered = f"{head}.{body}.{_flip(signature)}"
    assert_unauthenticated(await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {altered}"}))
    assert (await client.get("/api/v1/areas", headers=headers)).status_code == 200
