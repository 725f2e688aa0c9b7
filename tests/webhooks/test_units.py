"""Pure webhook rules without a database: target URL policy, signatures, retry timing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.domain.webhooks import targets
from app.domain.webhooks.rules import RetryPolicy, is_success
from app.domain.webhooks.signing import SecretBox, new_secret, signature_headers
from app.settings import Environment, Settings

STRICT = targets.TargetPolicy(require_https=True, allow_private=False)
DEV = targets.TargetPolicy(require_https=False, allow_private=False)
LOOSE = targets.TargetPolicy(require_https=False, allow_private=True)


def resolving_to(*addresses: str) -> targets.Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "not-an-address",
    ],
)
def test_special_addresses_are_refused(address: str) -> None:
    assert not targets.address_allowed(address, STRICT)
    assert targets.address_allowed(address, LOOSE)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert targets.address_allowed(address, STRICT)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.example.com/x", "url_scheme"),
        ("ftp://hooks.example.com/x", "url_scheme"),
        ("https://user:pw@hooks.example.com/x", "url_credentials"),
        ("https://hooks.example.com/x#frag", "url_fragment"),
        ("https:///x", "url_invalid"),
        ("https://hooks.example.com:99999/x", "url_invalid"),
        ("https://hooks.example.com/" + "x" * 2000, "url_too_long"),
    ],
)
async def test_url_shapes_are_refused_with_a_rule(url: str, rule: str) -> None:
    with pytest.raises(targets.TargetRefused) as refused:
        await targets.check(url, STRICT, resolving_to("93.184.215.14"))
    assert refused.value.rule == rule


async def test_every_resolved_address_must_be_public() -> None:
    target = await targets.check("https://hooks.example.com/x", STRICT, resolving_to("93.184.215.14"))
    assert target.addresses == ("93.184.215.14",) and target.port == 443
    with pytest.raises(targets.TargetRefused) as refused:
        await targets.check("https://hooks.example.com/x", STRICT, resolving_to("93.184.215.14", "10.0.0.7"))
    assert refused.value.rule == "url_address_forbidden"
    with pytest.raises(targets.TargetRefused) as unresolved:
        await targets.check("https://hooks.example.com/x", STRICT, resolving_to())
    assert unresolved.value.rule == "url_unresolvable"


async def test_real_resolver_refuses_localhost_and_http_is_development_only() -> None:
    with pytest.raises(targets.TargetRefused) as refused:
        await targets.check("http://localhost:8080/x", DEV)
    assert refused.value.rule == "url_address_forbidden"
    assert (await targets.check("http://localhost:8080/x", LOOSE)).port == 8080


def test_policy_follows_the_settings() -> None:
    dev = Settings(environment=Environment.development, webhook_allow_private_targets=True)
    assert targets.policy_for(dev) == LOOSE
    production = Settings(
        environment=Environment.production,
        issuer="https://wijkwerk.example",
        secret_key="k" * 32,
        bsn_encryption_key="e" * 32,
        bsn_index_key="i" * 32,
        database_url="postgresql://db/wijkwerk",
        webhook_allow_private_targets=True,  # ignored in production
    )
    assert targets.policy_for(production) == STRICT


def test_signatures_verify_and_tampering_or_staleness_fails() -> None:
    secret = new_secret()
    body = '{"type":"referral.accepted","data":{"referral_id":"r1"}}'
    now = datetime.now(UTC)
    headers = signature_headers("msg_1", now, body, [secret])
    assert Webhook(secret).verify(body, headers)["type"] == "referral.accepted"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("r1", "r2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    stale = signature_headers("msg_1", now - timedelta(minutes=10), body, [secret])
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, stale)
    replayed_with_new_time = {**stale, "webhook-timestamp": headers["webhook-timestamp"]}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, replayed_with_new_time)


def test_during_rotation_both_secrets_verify() -> None:
    old, new = new_secret(), new_secret()
    body = "{}"
    headers = signature_headers("msg_2", datetime.now(UTC), body, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_secrets_are_sealed_with_the_service_key() -> None:
    box = SecretBox("service-key")
    secret = new_secret()
    sealed = box.seal(secret)
    assert secret not in sealed
    assert box.open(sealed) == secret
    with pytest.raises(Exception):  # noqa: B017 - any decryption failure
        SecretBox("another-key").open(sealed)


def test_backoff_grows_with_jitter_and_gives_up() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=timedelta(seconds=10), max_delay=timedelta(minutes=1))
    rng = random.Random(7)
    for attempts, step in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        delays = [policy.delay(attempts, rng).total_seconds() for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert not policy.give_up(4) and policy.give_up(5)
    assert is_success(204) and not is_success(302) and not is_success(None)
