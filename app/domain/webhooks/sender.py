"""The relay's HTTP client: POSTs over kept-alive HTTP/1.1 connections (``h11`` on asyncio streams).

Why not httpx: a webhook POST needs a fraction of what a general client does, and on a busy relay
httpx (with httpcore and anyio) cost ~25x more CPU per request than this (measured in
bench/referrals). What is kept of a proper client:

* the connection goes to the address the target check approved (``address``), while the ``Host``
  header, TLS SNI and certificate verification use the URL's host name (system CA store);
* redirects are never followed (a 3xx is just a status code);
* connect timeout, a timeout per read, and a total timeout per attempt (a receiver that drips its
  answer byte by byte cannot hold the relay);
* the answer's body is read and dropped (up to ``MAX_DRAIN`` bytes) so the connection can be reused;
  anything unusual (a bigger body, ``Connection: close``, a protocol error) closes the connection;
* idle connections are reused per (address, port, TLS host) for up to ``IDLE_SECONDS``, at most
  ``per_target`` at a time per target; a kept-alive connection the receiver closed meanwhile is
  replaced, and a request that finds it closed before any answer is sent once more on a new one.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass, field

import h11

IDLE_SECONDS = 10.0
MAX_DRAIN = 64 * 1024
_READ = 64 * 1024


class SendFailed(Exception):
    """No status code: ``category`` is ``timeout`` or ``connect_error`` (never a message from the peer)."""

    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


class _Closed(Exception):
    """The peer closed a kept-alive connection before answering (safe to send again)."""


@dataclass(frozen=True)
class Endpoint:
    address: str  # the checked IP address to connect to
    port: int
    tls_host: str | None  # the host name for SNI and certificate checks (https), None for http


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    state: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    idle_since: float = 0.0
    reused: bool = False

    def usable(self) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and self.state.our_state is h11.IDLE
            and time.monotonic() - self.idle_since < IDLE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()


class Sender:
    """A pool of kept-alive connections; one per concurrent request to the same target, at most
    ``per_target`` of them (further requests wait for one)."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        per_target: int = 16,
        user_agent: str = "",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.per_target = per_target
        self.user_agent = user_agent
        self._tls = tls
        self._idle: dict[Endpoint, list[_Connection]] = defaultdict(list)
        self._slots: dict[Endpoint, asyncio.Semaphore] = {}

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()  # verifies the certificate and the host name
        return self._tls

    async def post(
        self, endpoint: Endpoint, host_header: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> int:
        """POST ``body`` and return the status code; SendFailed when there is none. The caller bounds
        the total time (``asyncio.timeout``)."""
        slot = self._slots.setdefault(endpoint, asyncio.Semaphore(self.per_target))
        async with slot:
            request = [
                ("host", host_header),
                ("user-agent", self.user_agent),
                *headers,
                ("content-length", str(len(body))),
            ]
            connection = await self._checkout(endpoint)
            try:
                status, keep = await self._exchange(connection, target, request, body)
            except _Closed:
                connection.close()
                if not connection.reused:
                    raise SendFailed("connect_error") from None
                connection = await self._connect(endpoint)  # the receiver dropped an idle connection
                try:
                    status, keep = await self._exchange(connection, target, request, body)
                except BaseException:
                    connection.close()
                    raise
            except BaseException:
                connection.close()
                raise
            self._checkin(endpoint, connection, keep)
            return status

    async def _checkout(self, endpoint: Endpoint) -> _Connection:
        idle = self._idle[endpoint]
        while idle:
            connection = idle.pop()
            if connection.usable():
                connection.reused = True
                return connection
            connection.close()
        return await self._connect(endpoint)

    async def _connect(self, endpoint: Endpoint) -> _Connection:
        tls = self._tls_context() if endpoint.tls_host else None
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    endpoint.address, endpoint.port, ssl=tls, server_hostname=endpoint.tls_host
                )
        except TimeoutError:
            raise SendFailed("timeout") from None
        except (OSError, ssl.SSLError):
            raise SendFailed("connect_error") from None
        return _Connection(reader, writer)

    def _checkin(self, endpoint: Endpoint, connection: _Connection, keep: bool) -> None:
        if keep and connection.state.our_state is h11.DONE and connection.state.their_state is h11.DONE:
            connection.state.start_next_cycle()
            connection.idle_since = time.monotonic()
            self._idle[endpoint].append(connection)
        else:
            connection.close()

    async def _exchange(
        self, connection: _Connection, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, bool]:
        """(status code, whether the connection may be kept)."""
        state = connection.state
        try:
            data = state.send(h11.Request(method="POST", target=target, headers=headers))
            data += state.send(h11.Data(data=body)) + state.send(h11.EndOfMessage())
            connection.writer.write(data)
            status: int | None = None
            drained = 0
            while True:
                event = state.next_event()
                if event is h11.NEED_DATA:
                    chunk = await self._read(connection)
                    if not chunk and status is None and state.their_state is h11.SEND_RESPONSE:
                        raise _Closed
                    state.receive_data(chunk)
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    drained += len(event.data)
                    if drained > MAX_DRAIN:
                        assert status is not None
                        return status, False
                elif isinstance(event, h11.EndOfMessage):
                    assert status is not None
                    return status, True
                elif isinstance(event, h11.ConnectionClosed):
                    if status is None:
                        raise _Closed
                    return status, False
        except (OSError, h11.ProtocolError, ssl.SSLError):
            raise SendFailed("connect_error") from None

    async def _read(self, connection: _Connection) -> bytes:
        try:
            async with asyncio.timeout(self.read_timeout):
                return await connection.reader.read(_READ)
        except TimeoutError:
            raise SendFailed("timeout") from None

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
