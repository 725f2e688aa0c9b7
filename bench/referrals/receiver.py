"""A fast minimal webhook receiver on 127.0.0.1: raw asyncio HTTP/1.1 with keep-alive, answers 204.

    .venv/bin/python -m bench.referrals.receiver --port 8765

Every POST is counted by its ``webhook-id`` header (so duplicates show); ``GET /stats`` answers the
counts as JSON and ``POST /reset`` clears them. Nothing is parsed beyond the request line, the
headers and ``Content-Length``: the receiver should cost as little as possible, so that what a relay
benchmark measures is the relay. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


class Counts:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ids: Counter[bytes] = Counter()
        self.posts = 0
        self.first = 0.0
        self.last = 0.0

    def hit(self, webhook_id: bytes) -> None:
        now = time.monotonic()
        if not self.posts:
            self.first = now
        self.posts += 1
        self.last = now
        self.ids[webhook_id] += 1

    def stats(self) -> dict[str, float | int]:
        return {
            "posts": self.posts,
            "unique": len(self.ids),
            "duplicates": sum(n - 1 for n in self.ids.values() if n > 1),
            "seconds": round(self.last - self.first, 4),
        }


class Receiver(asyncio.Protocol):
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:  # uvloop's transports are not asyncio.Transport
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (answer := self._one_request()) is not None:
            self.transport.write(answer)

    def _one_request(self) -> bytes | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buffer[:end].split(b"\r\n")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        if len(self.buffer) < end + 4 + length:
            return None
        self.buffer = self.buffer[end + 4 + length :]
        method, path = head[0].split(b" ")[:2]
        if method == b"GET" and path == b"/stats":
            body = json.dumps(self.counts.stats()).encode()
            return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
                len(body),
                body,
            )
        if method == b"POST" and path == b"/reset":
            self.counts.reset()
            return NO_CONTENT
        self.counts.hit(headers.get(b"webhook-id", b""))
        return NO_CONTENT


async def serve(port: int) -> None:
    counts = Counts()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Receiver(counts), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    asyncio.run(serve(options.port))


if __name__ == "__main__":
    main()
