"""Webhook target URLs: who we are willing to connect to (SSRF defence).

A target must be https in production settings, carry no credentials, and every address its host
resolves to must be a public unicast address: no private, loopback, link-local, shared, reserved,
multicast or unspecified ones (IPv4-mapped IPv6 is unwrapped first). The check runs when the
subscription is registered and again before every delivery (DNS may change in between: rebinding),
and the delivery then connects to the very address that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.settings import Settings

Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2000


class TargetRefused(Exception):
    """The URL may not be used; ``rule`` names why (never the URL itself)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class TargetPolicy:
    require_https: bool
    allow_private: bool


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse(url: str, policy: TargetPolicy) -> tuple[str, str, int]:
    """Scheme, host and port of an acceptable URL shape."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused("url_too_long", "The URL is too long.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused("url_invalid", "The URL cannot be parsed.") from error
    allowed = ("https",) if policy.require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise TargetRefused("url_scheme", "The URL must use " + " or ".join(allowed) + ".")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("url_credentials", "The URL must not carry credentials.")
    if parts.fragment:
        raise TargetRefused("url_fragment", "The URL must not have a fragment.")
    host = parts.hostname
    if not host:
        raise TargetRefused("url_invalid", "The URL has no host.")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def address_allowed(address: str, policy: TargetPolicy) -> bool:
    if policy.allow_private:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check(url: str, policy: TargetPolicy, resolver: Resolver = system_resolver) -> Target:
    """The target with its checked addresses, or TargetRefused."""
    scheme, host, port = parse(url, policy)
    try:
        addresses = await resolver(host, port)
    except (OSError, UnicodeError) as error:
        raise TargetRefused("url_unresolvable", "The host name does not resolve.") from error
    if not addresses:
        raise TargetRefused("url_unresolvable", "The host name does not resolve.")
    if not all(address_allowed(a, policy) for a in addresses):
        raise TargetRefused(
            "url_address_forbidden", "The host resolves to a private or otherwise special address."
        )
    return Target(scheme, host, port, tuple(dict.fromkeys(addresses)))


def policy_for(settings: Settings) -> TargetPolicy:
    """https only in production; special addresses only when a non-production setting allows them."""
    return TargetPolicy(
        require_https=settings.is_production,
        allow_private=settings.webhook_allow_private_targets and not settings.is_production,
    )
