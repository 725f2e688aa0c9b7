"""The relay's HTTP client against real servers on 127.0.0.1: kept-alive connections, receivers that
close them, timeouts, big answers, refused connections, and TLS that must verify."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.domain.webhooks.sender import Endpoint, Sender, SendFailed
from tests.webhooks.receiver import free_port

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"
Answer = Callable[[int], bytes | None]  # request number on its connection -> bytes to send (None: hang up)


class Server:
    """Reads whole requests (headers and Content-Length body) and answers each with ``answer``."""

    def __init__(self, answer: Answer, *, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.connections = 0
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                number += 1
                self.requests += 1
                if self.delay:
                    await asyncio.sleep(self.delay)
                answer = self.answer(number)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(server: Server, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
    async with listener:
        yield int(listener.sockets[0].getsockname()[1])


def _always(answer: bytes) -> Answer:
    return lambda _: answer


def sender(**options: float) -> Sender:
    return Sender(connect_timeout=2.0, read_timeout=options.get("read_timeout", 2.0), user_agent="test")


async def post(client: Sender, port: int, tls_host: str | None = None) -> int:
    return await client.post(
        Endpoint("127.0.0.1", port, tls_host), f"hooks.test:{port}", "/in", [("webhook-id", "msg_1")], b"{}"
    )


async def test_a_connection_is_kept_alive_and_reused() -> None:
    server = Server(lambda n: NO_CONTENT)
    client = sender()
    async with serving(server) as port:
        assert [await post(client, port) for _ in range(5)] == [204] * 5
        await client.aclose()
    assert (server.connections, server.requests) == (1, 5)


async def test_concurrent_posts_to_one_target_use_a_connection_each() -> None:
    server = Server(lambda n: NO_CONTENT, delay=0.05)
    client = sender()
    async with serving(server) as port:
        assert await asyncio.gather(*(post(client, port) for _ in range(4))) == [204] * 4
        assert await asyncio.gather(*(post(client, port) for _ in range(4))) == [204] * 4
        await client.aclose()
    assert (server.connections, server.requests) == (4, 8)


async def test_a_connection_the_receiver_drops_between_requests_is_replaced() -> None:
    # Each connection answers one request and hangs up on the next one without a word.
    server = Server(lambda n: NO_CONTENT if n == 1 else None)
    client = sender()
    async with serving(server) as port:
        assert [await post(client, port) for _ in range(3)] == [204] * 3
        await client.aclose()
    assert server.connections == 3


async def test_connection_close_and_big_answers_are_not_kept() -> None:
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000
    for answer in (close, big):
        server = Server(_always(answer))
        client = sender()
        async with serving(server) as port:
            assert [await post(client, port) for _ in range(2)] == [200, 200]
            await client.aclose()
        assert server.connections == 2


async def test_a_receiver_that_never_answers_is_a_timeout() -> None:
    server = Server(lambda n: NO_CONTENT, delay=5.0)
    client = sender(read_timeout=0.2)
    async with serving(server) as port:
        with pytest.raises(SendFailed) as failed:
            await post(client, port)
        await client.aclose()
    assert failed.value.category == "timeout"


async def test_a_refused_connection_is_a_connect_error() -> None:
    with pytest.raises(SendFailed) as failed:
        await post(sender(), free_port())
    assert failed.value.category == "connect_error"


async def test_tls_verifies_the_certificate_against_the_url_host(tmp_path: Path) -> None:
    certificate, key = _self_signed("hooks.partner.test", tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(certificate, key)
    trusting = ssl.create_default_context(cafile=str(certificate))
    server = Server(lambda n: NO_CONTENT)
    async with serving(server, served) as port:
        with pytest.raises(SendFailed) as untrusted:  # the system store does not know this certificate
            await post(sender(), port, "hooks.partner.test")
        assert untrusted.value.category == "connect_error"
        client = Sender(connect_timeout=2.0, read_timeout=2.0, tls=trusting)
        with pytest.raises(SendFailed) as wrong_name:
            await post(client, port, "other.partner.test")
        assert wrong_name.value.category == "connect_error"
        assert await post(client, port, "hooks.partner.test") == 204
        await client.aclose()


def _self_signed(host: str, folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "cert.pem", folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificate_path, key_path
